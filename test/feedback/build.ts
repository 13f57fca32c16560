import { buildMessage, type Message } from "../../src/patch/message.js";
import { fields } from "../helpers/mail.js";

/** A one-hunk diff per file, each adding `line` after an include: enough to be a patch. */
export function diffOf(changes: readonly { path: string; line: string }[]): string {
  return changes
    .map(({ path, line }) =>
      [
        `diff --git a/${path} b/${path}`,
        "index 1111111..2222222 100644",
        `--- a/${path}`,
        `+++ b/${path}`,
        "@@ -1,2 +1,3 @@",
        " #include <linux/dma-buf.h>",
        `+${line}`,
        " ",
      ].join("\n"),
    )
    .join("\n");
}

export interface MailSpec {
  readonly id: string;
  readonly subject: string;
  readonly parent?: string;
  readonly refs?: readonly string[];
  readonly from?: { name: string; email: string };
  /** Days after 2026-11-02. */
  readonly day?: number;
  readonly body?: string;
  /** For patches: the files changed and the line each gains. */
  readonly changes?: readonly { path: string; line: string }[];
  /** Text between `---` and the diff (a version changelog). */
  readonly notes?: string;
  readonly trailers?: readonly string[];
}

export const JANE = { name: "Jane Dev", email: "jane.dev@example.org" };

/** Build a Message the way ingest would: cover letters and replies get prose, patches a diff. */
export function mail(s: MailSpec): Message {
  const isPatch = /^\[[^\]]*PATCH/.test(s.subject) && !/ 0\/\d+\]/.test(s.subject) && !/^re:/i.test(s.subject);
  const trailers = [...(s.trailers ?? []), `Signed-off-by: ${(s.from ?? JANE).name} <${(s.from ?? JANE).email}>`];
  const body =
    s.body ??
    (isPatch
      ? [
          `Change ${s.subject}.`,
          "",
          ...trailers,
          "---",
          ...(s.notes ? [s.notes, ""] : []),
          diffOf(s.changes ?? [{ path: `drivers/dma-buf/${s.id}.c`, line: `/* ${s.id} */` }]),
          "",
        ].join("\n")
      : "Some words.\n");
  return buildMessage(
    fields({
      messageId: s.id,
      subject: s.subject,
      inReplyTo: s.parent,
      references: s.refs ?? (s.parent ? [s.parent] : []),
      from: s.from ?? JANE,
      date: new Date(Date.UTC(2026, 10, 2 + (s.day ?? 0), 10, 0)),
      body,
    }),
  );
}
