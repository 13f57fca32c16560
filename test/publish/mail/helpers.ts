import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import { loadReviewDeps, type ReviewDeps } from "../../../src/channels/context.js";
import { loadMessages } from "../../../src/ingest/mbox/messages.js";
import { reviewMessages, type Review } from "../../../src/review/review.js";
import { fixture } from "../../helpers/mail.js";

let deps: Promise<ReviewDeps> | undefined;

/** A fixture reviewed as the mail channel reviews it: rules, parser and the coherency model. */
export async function reviewFixture(rel: string): Promise<Review> {
  deps ??= loadReviewDeps();
  const d = await deps;
  const loaded = await loadMessages(fixture(rel));
  return reviewMessages(loaded.messages, loaded.skipped, d.rules, d.parser, d.model);
}

export function header(raw: string, name: string): string | undefined {
  const head = raw.slice(0, raw.indexOf("\n\n")).replace(/\r/g, "").replace(/\n[ \t]+/g, " ");
  return new RegExp(`^${name}: (.*)$`, "im").exec(head)?.[1]?.trim();
}

export function bodyOf(raw: string): string {
  const s = raw.replace(/\r\n/g, "\n");
  return s.slice(s.indexOf("\n\n") + 2);
}

export const read = (path: string) => readFileSync(path, "utf8");

/** A logger whose lines a test can read back, as parsed JSON objects. */
type Line = Record<string, unknown>;

export function capturedLog(): { log: Logger; lines: Line[]; at: (level: "info" | "warn" | "error") => Line[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const levels = { info: 30, warn: 40, error: 50 };
  return { log: pino({ level: "info", base: undefined }, sink), lines, at: (level) => lines.filter((l) => l["level"] === levels[level]) };
}

/** A fixture patch with its From replaced and headers added (To, Cc, Message-ID...), reviewed. */
export async function reviewEdited(rel: string, from: string | undefined, headers: readonly string[], edit: (text: string) => string = (t) => t): Promise<Review> {
  let text = edit(readFileSync(fixture(rel), "utf8"));
  if (from) text = text.replace(/^From: .*$/m, `From: ${from}`);
  text = text.replace(/^(Date: .*)$/m, `$1\n${headers.join("\n")}`);
  const path = join(mkdtempSync(join(tmpdir(), "dmabuf-review-edited-")), "patch.eml");
  writeFileSync(path, text);
  deps ??= loadReviewDeps();
  const d = await deps;
  const loaded = await loadMessages(path);
  return reviewMessages(loaded.messages, loaded.skipped, d.rules, d.parser, d.model);
}
