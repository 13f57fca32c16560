import { MAX_SERIES_PATCHES } from "../../src/errors.js";
import fc from "fast-check";
import { describe } from "vitest";
import { InputError } from "../../src/errors.js";
import { parseDiff, splitBody, type FileDiff } from "../../src/patch/diff.js";
import { buildMessage, type Message } from "../../src/patch/message.js";
import { groupSeries } from "../../src/patch/series.js";
import { oneLine, parseSubject } from "../../src/patch/subject.js";
import { applyDamage, damage, diffOf, patchBody, type WrittenFile } from "./gen/diff.js";
import { rawSubject, subjectSpec, writeSubject, type SubjectSpec } from "./gen/subject.js";
import { buildThread, thread } from "./gen/thread.js";
import { fuzz, inputErrorOr, invariant, withinBudget, type Failure } from "./harness.js";
import { knownBugs, PROPERTY } from "./known-bugs.js";

/**
 * Slots a series may hold beyond the messages that fill them. A missing patch is an empty slot,
 * so `[PATCH 2/5]` alone has five; but a subject must not make the reader allocate without
 * bound (`[PATCH 1/4294967295]`). Any cap a fix picks for the largest series is expected below this.
 */
export const SLOT_BOUND = 10_000;
const PURE_BUDGET_MS = 2_000;

function subjectProblem(raw: string): Failure | undefined {
  const s = parseSubject(raw);
  const line = oneLine(raw);
  if (!s.clean.endsWith(s.title)) return invariant("title is not the end of the clean subject", JSON.stringify(s));
  if (!line.endsWith(s.clean)) return invariant("clean subject is not the end of the subject", JSON.stringify(s));
  if (!s.isPatch && (s.index !== undefined || s.total !== undefined)) return invariant("numbers outside a patch bracket", JSON.stringify(s));
  if (!Number.isInteger(s.revision) || s.revision < 0) return invariant("revision is not a whole number", String(s.revision));
  return undefined;
}

function roundTripProblem(spec: SubjectSpec): Failure | undefined {
  const raw = writeSubject(spec);
  const s = parseSubject(raw);
  const digits = spec.numbers !== undefined && /^\d+$/.test(spec.numbers.index) && /^\d+$/.test(spec.numbers.total);
  // A count past the limit is read as no numbers at all, and said so (outOfRange).
  const numbered = digits && Number(spec.numbers!.total) <= MAX_SERIES_PATCHES;
  if (digits && !numbered && !s.outOfRange) return invariant("count past the limit not flagged", raw);
  const expect = {
    isReply: spec.replies.some((r) => !/^fwd?/i.test(r)),
    isPatch: true,
    rfc: spec.rfc,
    resend: spec.resend,
    revision: spec.version ?? 1,
    index: numbered ? Number(spec.numbers!.index) : undefined,
    total: numbered ? Number(spec.numbers!.total) : undefined,
    title: oneLine(spec.title),
    listTags: spec.listTags.map((t) => t.trim().slice(1, -1)),
  };
  const got = { isReply: s.isReply, isPatch: s.isPatch, rfc: s.rfc, resend: s.resend, revision: s.revision, index: s.index, total: s.total, title: s.title, listTags: s.listTags };
  if (JSON.stringify(got) !== JSON.stringify(expect)) return invariant("subject read back differently", `${JSON.stringify(raw)}\nexpected ${JSON.stringify(expect)}\ngot      ${JSON.stringify(got)}`);
  if (spec.tree && !s.prefixes.includes(spec.tree)) return invariant("tree name lost", JSON.stringify(s.prefixes));
  return undefined;
}

/** Every message lands in exactly one place: a slot, a cover, a duplicate, a reply list, orphans or other. */
function groupingProblem(messages: readonly Message[]): Failure | undefined {
  const grouped = groupSeries(messages);
  const placed = new Map<string, number>();
  const put = (m: Message | undefined) => m && placed.set(m.messageId, (placed.get(m.messageId) ?? 0) + 1);
  for (const s of grouped.series) {
    if (s.slots.length > Math.max(SLOT_BOUND, messages.length)) return invariant("series slots beyond the bound", `${s.slots.length} slots for ${messages.length} messages`);
    if (s.total !== s.slots.length) return invariant("series total differs from its slots", `${s.total} vs ${s.slots.length}`);
    put(s.cover);
    s.slots.forEach(put);
    s.duplicates.forEach(put);
    for (const list of s.replies.values()) list.forEach(put);
  }
  grouped.orphanReplies.forEach(put);
  grouped.other.forEach(put);
  const firstById = new Map<string, Message>();
  for (const m of messages) if (!firstById.has(m.messageId)) firstById.set(m.messageId, m);
  for (const [id, m] of firstById) {
    const n = placed.get(id) ?? 0;
    if (n !== 1) return invariant(n === 0 ? `a ${m.kind} is lost by grouping` : `a ${m.kind} is placed twice by grouping`, `${id} "${m.subject}" placed ${n} times`);
  }
  return undefined;
}

/** A parsed hunk says what its header says, and numbers its lines without gaps. */
function hunkProblem(files: readonly FileDiff[]): Failure | undefined {
  for (const f of files) {
    if (!f.path) return invariant("file without a path", JSON.stringify(f).slice(0, 200));
    for (const h of f.hunks) {
      const old = h.lines.filter((l) => l.type !== "+");
      const neu = h.lines.filter((l) => l.type !== "-");
      if (old.length !== h.oldLines || neu.length !== h.newLines) return invariant("hunk lines differ from its header counts", `${f.path}: -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} with ${old.length} old and ${neu.length} new lines`);
      if (old.some((l, i) => l.oldLine !== h.oldStart + i) || neu.some((l, i) => l.newLine !== h.newStart + i)) return invariant("hunk lines numbered with gaps", `${f.path} @@ -${h.oldStart} +${h.newStart}`);
    }
  }
  return undefined;
}

function roundTripDiffProblem(files: readonly WrittenFile[], parsed: readonly FileDiff[]): Failure | undefined {
  if (parsed.length !== files.length) return invariant("diff read back with a different number of files", `${files.length} written, ${parsed.length} read`);
  for (const [i, w] of files.entries()) {
    const p = parsed[i]!;
    if (p.path !== w.spec.path || p.status !== w.spec.status) return invariant("file read back with another path or status", `${w.spec.status} ${w.spec.path} read as ${p.status} ${p.path}`);
    if (p.hunks.length !== w.hunks.length) return invariant("file read back with a different number of hunks", `${w.spec.path}: ${w.hunks.length} written, ${p.hunks.length} read`);
    for (const [j, wh] of w.hunks.entries()) {
      const ph = p.hunks[j]!;
      const lines = ph.lines.map((l) => `${l.type}${l.text}`);
      const meant = wh.spec.lines.map((l) => `${l.op}${l.text}`);
      if (JSON.stringify(lines) !== JSON.stringify(meant)) return invariant("hunk lines read back differently", `${w.spec.path} hunk ${j + 1}`);
      if (ph.heading !== wh.spec.heading.trim()) return invariant("hunk heading read back differently", `${JSON.stringify(wh.spec.heading)} read as ${JSON.stringify(ph.heading)}`);
      if (ph.oldLines !== wh.oldLines || ph.newLines !== wh.newLines) return invariant("hunk counts read back differently", `${w.spec.path} hunk ${j + 1}`);
      if (wh.newLines > 0 && ph.newStart !== wh.newStart) return invariant("hunk start read back differently", `${wh.newStart} read as ${ph.newStart}`);
    }
  }
  return hunkProblem(parsed);
}

const patchFields = (body: string) => ({
  messageId: "fuzz@example.org",
  from: { name: "Jane Dev", email: "jane.dev@example.org" },
  to: [],
  cc: [],
  date: undefined,
  subject: "[PATCH] dma-buf: fuzzed",
  inReplyTo: undefined,
  references: [],
  body,
  source: "fuzz",
});

describe("fuzz: patches", () => {
  fuzz({
    name: PROPERTY.subject,
    arbitrary: rawSubject,
    ciRuns: 1000,
    knownBugs: knownBugs(PROPERTY.subject),
    check(raw, tally) {
      try {
        tally(parseSubject(raw).isPatch ? "patch subject" : "other subject");
        return subjectProblem(raw);
      } catch (err) {
        return inputErrorOr(err);
      }
    },
  });

  fuzz({
    name: PROPERTY.subjectRoundTrip,
    arbitrary: subjectSpec,
    ciRuns: 1000,
    knownBugs: knownBugs(PROPERTY.subjectRoundTrip),
    check(spec) {
      try {
        return roundTripProblem(spec);
      } catch (err) {
        return inputErrorOr(err);
      }
    },
  });

  fuzz({
    name: PROPERTY.series,
    arbitrary: thread(12),
    ciRuns: 300,
    knownBugs: knownBugs(PROPERTY.series),
    async check(list, tally) {
      const { value, slow } = await withinBudget(PURE_BUDGET_MS, () => {
        let messages: Message[];
        try {
          messages = buildThread(list);
        } catch (err) {
          return inputErrorOr(err, "buildMessage ");
        }
        try {
          tally(`${groupSeries(messages).series.length} series`);
          return groupingProblem(messages);
        } catch (err) {
          return inputErrorOr(err, "groupSeries ");
        }
      });
      return value ?? slow;
    },
  });

  fuzz({
    name: PROPERTY.diffRoundTrip,
    arbitrary: diffOf(3, 3, 12),
    ciRuns: 200,
    knownBugs: knownBugs(PROPERTY.diffRoundTrip),
    async check(d, tally) {
      const { value, slow } = await withinBudget(PURE_BUDGET_MS, () => {
        try {
          const parts = splitBody(patchBody(d.text));
          if (parts.diffText !== d.text) return invariant("splitBody cut the diff differently", `${d.text.length} chars written, ${parts.diffText.length} cut`);
          const parsed = parseDiff(parts.diffText);
          tally(`${parsed.length} files`);
          return roundTripDiffProblem(d.files, parsed);
        } catch (err) {
          return err instanceof InputError ? invariant("a well-formed diff is refused", `${err.reason}: ${err.detail}`) : inputErrorOr(err);
        }
      });
      return value ?? slow;
    },
  });

  fuzz({
    name: PROPERTY.diffDamaged,
    arbitrary: fc.tuple(diffOf(2, 2, 8), fc.array(damage, { minLength: 1, maxLength: 3 })).map(([d, damages]) => applyDamage(patchBody(d.text), damages)),
    ciRuns: 300,
    knownBugs: knownBugs(PROPERTY.diffDamaged),
    async check(body, tally) {
      const { value, slow } = await withinBudget(PURE_BUDGET_MS, () => {
        try {
          const parts = splitBody(body);
          const files = parts.diffText ? parseDiff(parts.diffText) : [];
          const problem = hunkProblem(files);
          if (problem) return problem;
          const m = buildMessage(patchFields(body));
          tally(`read as ${m.kind}`);
          return hunkProblem(m.files);
        } catch (err) {
          if (err instanceof InputError) tally(`refused: ${err.reason}`);
          return inputErrorOr(err);
        }
      });
      return value ?? slow;
    },
  });
});
