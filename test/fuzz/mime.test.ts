import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe } from "vitest";
import { InputError } from "../../src/errors.js";
import { loadMessages } from "../../src/ingest/mbox/messages.js";
import { splitMbox } from "../../src/ingest/mbox/reader.js";
import { parseMime } from "../../src/ingest/mime.js";
import { parsePlainMime } from "../../src/ingest/plain-mime.js";
import { triage } from "../../src/ingest/public-inbox/triage.js";
import { buildMessage, type Message, type MessageFields } from "../../src/patch/message.js";
import { rawMail, toBuffer } from "./gen/mime.js";
import { fuzz, inputErrorOr, INPUT_REASONS, invariant, withinBudget, type Failure } from "./harness.js";
import { knownBugs, PROPERTY } from "./known-bugs.js";

/** Far above what one message takes (a few ms): only work that grows without bound trips it. */
const MESSAGE_BUDGET_MS = 3_000;

function fieldsProblem(f: MessageFields): Failure | undefined {
  if (!f.messageId) return invariant("message without a Message-ID", JSON.stringify(f).slice(0, 300));
  if (/[\r\n]/.test(f.subject)) return invariant("subject spans lines", JSON.stringify(f.subject));
  if (f.body.includes("\r")) return invariant("body keeps a carriage return", JSON.stringify(f.body.slice(0, 200)));
  if (!f.from.email) return invariant("sender without an address", JSON.stringify(f.from));
  if (f.references.some((r) => r === "")) return invariant("empty reference", JSON.stringify(f.references));
  return undefined;
}

function messageProblem(m: Message): Failure | undefined {
  if (m.kind === "patch" && m.files.length === 0) return invariant("patch without files", m.subject);
  if (m.kind === "reply" && m.files.length > 0) return invariant("reply with reviewed files", m.subject);
  return undefined;
}

/** Decode and build one message as every mail source does; an InputError is a clean refusal. */
async function readOne(raw: string, tally: (l: string) => void): Promise<Failure | undefined> {
  try {
    const fields = await parseMime({ bytes: toBuffer(raw), source: "fuzz" });
    const problem = fieldsProblem(fields);
    if (problem) return problem;
    const m = buildMessage(fields);
    tally(`read as ${m.kind}`);
    return messageProblem(m);
  } catch (err) {
    if (err instanceof InputError) tally(`refused: ${err.reason}`);
    return inputErrorOr(err);
  }
}

const sameFields = (x: object) => JSON.stringify(x, (k, v: unknown) => (k === "date" && typeof v === "string" ? new Date(v).getTime() : k === "source" ? undefined : v));

/** One mboxrd file from messages: `>`-quoting of every `>*From ` line, a blank line between messages. */
function writeMbox(raws: readonly string[]): string {
  return raws
    .map((r) => {
      const quoted = r.replace(/^(>*From )/gm, ">$1");
      return `From mboxrd@z Thu Jan  1 00:00:00 1970\n${quoted}${quoted.endsWith("\n") ? "" : "\n"}\n`;
    })
    .join("");
}

const trimNewlines = (s: string) => s.replace(/[\r\n]+$/, "");

describe("fuzz: mail", () => {
  fuzz({
    name: PROPERTY.mimeRead,
    arbitrary: rawMail,
    ciRuns: 200,
    knownBugs: knownBugs(PROPERTY.mimeRead),
    async check(raw, tally) {
      const { value, slow } = await withinBudget(MESSAGE_BUDGET_MS, () => readOne(raw, tally));
      return value ?? slow;
    },
  });

  fuzz({
    name: PROPERTY.triage,
    arbitrary: rawMail,
    ciRuns: 400,
    knownBugs: knownBugs(PROPERTY.triage),
    async check(raw, tally) {
      const { value, slow } = await withinBudget(MESSAGE_BUDGET_MS, () => {
        try {
          const t = triage(toBuffer(raw));
          if (!t.ok && !INPUT_REASONS.has(t.reason)) return invariant("triage skip with an unknown reason", t.reason);
          tally(t.ok ? `triaged ${t.value.kind}` : `skipped: ${t.reason}`);
          if (t.ok && !t.value.messageId) return invariant("triaged message without a Message-ID", raw.slice(0, 200));
          return undefined;
        } catch (err) {
          return inputErrorOr(err, "triage ");
        }
      });
      return value ?? slow;
    },
  });

  fuzz({
    name: PROPERTY.plainMime,
    arbitrary: rawMail,
    ciRuns: 400,
    knownBugs: knownBugs(PROPERTY.plainMime),
    async check(raw, tally) {
      const message = { bytes: toBuffer(raw), source: "fuzz" };
      let fast;
      try {
        fast = parsePlainMime(message);
      } catch (err) {
        return inputErrorOr(err, "parsePlainMime ");
      }
      if (!fast) return void tally("left to mailparser");
      tally("read without mailparser");
      let slow;
      try {
        slow = await parseMime(message);
      } catch (err) {
        return err instanceof InputError ? invariant("parsePlainMime reads what parseMime refuses", err.message) : inputErrorOr(err);
      }
      const [a, b] = [sameFields(fast), sameFields(slow)];
      if (a !== b) return invariant("parsePlainMime and parseMime read different fields", `plain:  ${a.slice(0, 400)}\nmime:   ${b.slice(0, 400)}`);
      return undefined;
    },
  });

  fuzz({
    name: PROPERTY.mboxSplit,
    arbitrary: fc.array(rawMail, { minLength: 1, maxLength: 6 }),
    ciRuns: 150,
    knownBugs: knownBugs(PROPERTY.mboxSplit),
    check(raws, tally) {
      const split = splitMbox(toBuffer(writeMbox(raws)), "fuzz.mbox");
      tally(`${split.length} messages`);
      if (split.length !== raws.length) return invariant("mbox split into a different number of messages", `${raws.length} written, ${split.length} read`);
      for (const [i, r] of split.entries()) {
        if (trimNewlines(r.bytes.toString("latin1")) !== trimNewlines(raws[i]!)) return invariant("mbox message changed by splitting", `message ${i + 1}`);
        if (r.source !== `fuzz.mbox#${i + 1}`) return invariant("mbox message source", r.source);
      }
      return undefined;
    },
  });

  const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-fuzz-mbox-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  fuzz({
    name: PROPERTY.mboxLoad,
    arbitrary: fc.array(rawMail, { minLength: 2, maxLength: 5 }),
    ciRuns: 60,
    knownBugs: knownBugs(PROPERTY.mboxLoad),
    async check(raws, tally) {
      const path = join(dir, "fuzz.mbox");
      writeFileSync(path, toBuffer(writeMbox(raws)));
      const { value, slow } = await withinBudget(MESSAGE_BUDGET_MS * raws.length, async () => {
        try {
          const loaded = await loadMessages(path);
          const seen = loaded.messages.length + loaded.skipped.length;
          tally(`${loaded.skipped.length} of ${raws.length} skipped`);
          if (seen !== raws.length) return invariant("loadMessages lost or invented messages", `${raws.length} in the mbox, ${seen} read or skipped`);
          const bad = loaded.skipped.find((s) => !INPUT_REASONS.has(s.reason as never) || !s.source.startsWith(`${path}#`));
          if (bad) return invariant("skip without a known reason or its source", JSON.stringify(bad));
          return undefined;
        } catch (err) {
          // Two or more messages: a bad one is a skip, never the end of the run.
          return inputErrorOr(err, "loadMessages ") ?? invariant("loadMessages threw for one bad message among several", String(err));
        }
      });
      return value ?? slow;
    },
  });
});
