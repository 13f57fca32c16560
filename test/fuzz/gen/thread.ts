import fc from "fast-check";
import { buildMessage, type Message, type MessageFields } from "../../../src/patch/message.js";
import { patchBody } from "./diff.js";
import { numberText, subjectSpec, writeSubject, type SubjectSpec } from "./subject.js";

/**
 * A mailing-list thread, or several, as decoded messages: patches, cover letters and replies
 * with `[PATCH n/m]` numbers of any size, threaded shallow, deep, wrongly or not at all, with
 * repeated Message-IDs and references to messages that never arrived.
 */
export interface ThreadMessage {
  readonly id: number;
  readonly kind: "patch" | "cover" | "reply";
  readonly subject: string;
  readonly parent: number | undefined;
  readonly references: readonly number[];
  readonly author: number;
  readonly day: number;
}

// Mostly the sizes of real series; now and then a number of any size.
const seriesNumber = fc.oneof({ weight: 40, arbitrary: fc.integer({ min: 0, max: 6 }).map(String) }, { weight: 1, arbitrary: numberText });

/** A message as generated: its id is its position, unless it repeats an earlier message's id. */
const message = (base: SubjectSpec, max: number) =>
  fc.record({
    repeatsId: fc.oneof({ weight: 10, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat({ max }) }),
    kind: fc.constantFrom<ThreadMessage["kind"]>("patch", "patch", "patch", "cover", "reply"),
    // One revision of one series mostly; now and then a message of another revision or series.
    subject: fc
      .tuple(fc.oneof({ weight: 5, arbitrary: fc.constant(base) }, { weight: 1, arbitrary: subjectSpec }), seriesNumber, seriesNumber, fc.nat({ max: 3 }))
      .map(([s, index, total, numbered]) => writeSubject({ ...s, replies: [], numbers: numbered > 0 ? { index, total: numbered > 1 ? (base.numbers?.total ?? "3") : total } : undefined })),
    parent: fc.option(fc.nat({ max: max + 1 }), { nil: undefined }),
    references: fc.array(fc.nat({ max: max + 1 }), { maxLength: 3 }),
    author: fc.nat({ max: 1 }),
    day: fc.nat({ max: 3 }),
  });

/** A thread of up to `max` messages; ids past the last message are references to mail never seen. */
export function thread(max: number): fc.Arbitrary<ThreadMessage[]> {
  const base = subjectSpec.chain((s) => seriesNumber.map((total) => ({ ...s, numbers: { index: "1", total } })));
  return base.chain((b) =>
    fc.array(message(b, max), { minLength: 1, maxLength: max }).map((list) =>
      list.map(({ repeatsId, ...m }, i): ThreadMessage => ({ ...m, id: repeatsId !== undefined && repeatsId < i ? repeatsId : i })),
    ),
  );
}

// One small diff for every patch: grouping never looks at it, and building is cheaper this way.
const DIFF = "diff --git a/drivers/dma-buf/dma-buf.c b/drivers/dma-buf/dma-buf.c\n--- a/drivers/dma-buf/dma-buf.c\n+++ b/drivers/dma-buf/dma-buf.c\n@@ -1,1 +1,1 @@\n-a\n+b\n";

export function fieldsOf(t: ThreadMessage): MessageFields {
  // A cover letter is patch 0 of its series: number it so, whatever the subject said.
  const cover = () => (/\d+\/\d+\]/.test(t.subject) ? t.subject.replace(/\d+\/(\d+)\]/, "0/$1]") : t.subject.replace(/\]/, " 0/2]"));
  const subject = t.kind === "reply" ? `Re: ${t.subject}` : t.kind === "cover" ? cover() : t.subject;
  return {
    messageId: `m${t.id}@example.org`,
    from: { name: `Dev ${t.author}`, email: `dev${t.author}@example.org` },
    to: [],
    cc: [],
    date: new Date(Date.UTC(2026, 10, 9 + t.day)),
    subject,
    inReplyTo: t.parent === undefined ? undefined : `m${t.parent}@example.org`,
    references: t.references.map((r) => `m${r}@example.org`),
    body: t.kind === "patch" ? patchBody(DIFF) : t.kind === "cover" ? "The cover letter.\n" : "> quoted\nA reply.\n",
    source: `fuzz#${t.id}`,
  };
}

export function buildThread(list: readonly ThreadMessage[]): Message[] {
  return list.map((t) => buildMessage(fieldsOf(t)));
}
