import type { FileDiff } from "../patch/diff.js";
import type { Message } from "../patch/message.js";
import type { PatchPairing, PatchRef } from "../patch/revision-link.js";
import type { SeriesReview } from "../review/review-series.js";
import { headingFunction } from "./anchor.js";
import type { Answer } from "./answers.js";
import type { ChangelogEntry } from "./changelog.js";
import { concernById } from "./concerns.js";
import { interdiff, type Interdiff } from "./interdiff.js";
import type { Item } from "./items.js";
import { contentWords, identifiers, sentences } from "./words.js";

/** The JSON contract's spellings. */
export type Verdict = "addressed" | "not addressed" | "answered" | "obsolete" | "unclear";

export const VERDICTS: readonly Verdict[] = ["addressed", "not addressed", "answered", "obsolete", "unclear"];

/** A point's verdict against one later revision. */
export interface StepVerdict {
  readonly revision: number;
  readonly verdict: Verdict;
}

export interface JudgedItem extends Item {
  readonly verdict: Verdict;
  /** Verdicts against each later revision, oldest first, when more than one followed. */
  readonly history?: readonly StepVerdict[];
  /** Interdiff lines, changelog sentences, replies, model results: why the verdict. */
  readonly evidence: readonly string[];
}

/** The revision an item was raised on, the revision it is judged against, and what links them. */
export interface Judging {
  readonly older: SeriesReview;
  readonly newer: SeriesReview;
  /** The newer revision's number as this step counts it (a "v2" in a title counts, a forge push's number does). */
  readonly revision: number;
  readonly pairing: PatchPairing;
  /** Changelog entries the author wrote after the older revision, matched to items. */
  readonly changelog: ReadonlyMap<string, readonly ChangelogEntry[]>;
  readonly answers: ReadonlyMap<string, readonly Answer[]>;
}

const ws = (s: string) => s.replace(/\s+/g, " ").trim();

/** A point asking for the code to go: when it goes, the point is addressed, not moot. */
const ASKS_REMOVAL = /\b(unused|dead code|not needed|unnecessary|drop (it|this|that|the)|remove (it|this|that|the)|(do not|don't) (revert|add|do)|NAC?K)\b/i;

function day(d: Date | undefined): string {
  return d ? d.toISOString().slice(0, 10) : "undated";
}

function quote(text: string, max = 240): string {
  const s = ws(text);
  return s.length > max ? `${s.slice(0, max - 3).replace(/\s+\S*$/, "")}...` : s;
}

function first(text: string, n: number): string {
  return sentences(text).slice(0, n).join(" ");
}

function logLine(e: ChangelogEntry): string {
  return `changelog v${e.revision}, ${e.patch === 0 ? "cover letter" : `patch ${e.patch}/${e.total}`}: "${quote(e.text)}"`;
}

function answerLine(a: Answer, what: string): string {
  return `${what} <${a.source}> from ${a.author.name}, ${day(a.date)}: "${quote(first(a.text, 2))}"`;
}

/** What became of the item's patch: the cover letter, its new patches, or nothing (dropped). */
function counterpart(item: Item, j: Judging): { cover: Message | undefined; patches: readonly PatchRef[]; dropped: boolean } {
  if (item.patch.index === 0) return { cover: j.newer.series.cover, patches: [], dropped: false };
  const pair = j.pairing.pairs.find((p) => p.old.index === item.patch.index);
  return { cover: undefined, patches: pair?.new ?? [], dropped: !pair };
}

function oldPatch(item: Item, j: Judging): Message | undefined {
  return item.patch.index === 0 ? j.older.series.cover : j.older.series.slots[item.patch.index - 1];
}

function newLabel(j: Judging, refs: readonly PatchRef[]): string {
  const v = j.revision;
  return refs.length === 0 ? `v${v}` : `v${v} ${refs.map((r) => `${r.index}/${j.newer.series.total}`).join("+")}`;
}

function oldLabel(item: Item): string {
  return `v${item.version} ${item.patch.index}/${item.patch.total}`;
}

type AnchorState =
  | { readonly kind: "unchanged"; readonly text: string }
  /** `added`/`removed`: the interdiff lines of the quoted region, when the code changed. */
  | { readonly kind: "changed"; readonly text: string; readonly added?: readonly string[]; readonly removed?: readonly string[] }
  | { readonly kind: "gone"; readonly text: string }
  | { readonly kind: "none" };

/** Is the code (or cover-letter text) the reviewer quoted still there in the later revision? */
function anchorState(item: Item, j: Judging): AnchorState {
  const a = item.anchor;
  const cp = counterpart(item, j);
  const arrow = `${oldLabel(item)} → ${newLabel(j, cp.patches)}`;
  if (a.kind === "prose") {
    const was = oldPatch(item, j);
    const now = cp.cover ?? cp.patches[0]?.message;
    const where = item.patch.index === 0 ? "cover letter" : "commit message";
    if (!now || !was) return { kind: "none" };
    const present = ws(now.commitMessage).includes(ws(a.quoted.join(" ")));
    return present
      ? { kind: "unchanged", text: `the quoted ${where} text is still in ${newLabel(j, cp.patches)}` }
      : { kind: "changed", text: `the quoted ${where} text is no longer in the ${where} of ${newLabel(j, cp.patches)}` };
  }
  if (a.kind !== "code" || !a.file) return { kind: "none" };
  const files = cp.patches.flatMap((p) => p.message.files.map((f) => ({ p, f })));
  let inFile = files.filter((x) => x.f.path === a.file);
  const want = a.quoted.map(ws);
  const was = oldPatch(item, j);
  const oldWindow = was ? regionOf(was.files.filter((f) => f.path === a.file), want) : undefined;
  if (inFile.length === 0) {
    // The code may have moved to another file or another patch of the revision: follow the quote.
    const everywhere = j.newer.series.slots.flatMap((m, i) => (m ? m.files.map((f) => ({ p: { message: m, index: i + 1 }, f })) : []));
    const moved = everywhere.filter((x) => regionOf([x.f], want) !== undefined);
    if (moved.length === 0) return { kind: "gone", text: `${newLabel(j, cp.patches)} no longer changes ${a.file}: the quoted lines are gone` };
    inFile = moved;
  }
  for (const { p, f } of inFile) {
    const found = regionOf([f], want);
    if (!found) continue;
    const fn = a.function ? ` in ${a.function}${a.function.includes(" ") ? "" : "()"}` : "";
    // "Changed" is judged on the region around the quote, not on the quoted lines alone: a point
    // quoting one line of a function is about the lines around it too.
    const before = new Set(oldWindow?.window ?? []);
    const after = new Set(found.window);
    const added = found.window.filter((l) => !before.has(l));
    const removed = (oldWindow?.window ?? []).filter((l) => !after.has(l));
    if (oldWindow && (added.length > 0 || removed.length > 0)) {
      const what = [...added, ...removed].every((l) => COMMENT_TEXT.test(l.slice(1))) ? "the comments around them" : "the code around them";
      const code = (ls: string[]) => ls.find((l) => !COMMENT_TEXT.test(l.slice(1))) ?? ls[0];
      const [r0, a0] = [code(removed), code(added)];
      const show = [r0 ? `v${item.version} "${r0}"` : undefined, a0 ? `v${j.revision} "${a0}"` : undefined].filter(Boolean).join(", ");
      return {
        kind: "changed",
        text: `interdiff ${oldLabel(item)} → ${newLabel(j, [p])}: the quoted lines stay, ${what}${fn} changed: ${show}`,
        added: added.map((l) => l.slice(1)),
        removed: removed.map((l) => l.slice(1)),
      };
    }
    return {
      kind: "unchanged",
      text: `interdiff ${oldLabel(item)} → ${newLabel(j, [p])}: the quoted lines are unchanged, now at ${f.path}:${found.line}${fn}`,
    };
  }
  // What replaced them: interdiff lines of the same file and function or struct.
  const d = interdiff(was?.files.filter((f) => f.path === a.file) ?? [], inFile.map((x) => x.f));
  const near = (side: "old" | "new") => {
    const lines = d.lines.filter((l) => l.side === side);
    const same = lines.filter((l) => a.function !== undefined && headingFunction(l.heading) === a.function);
    return (same.length > 0 ? same : lines).filter((l) => l.text.slice(1).trim() !== "");
  };
  const gone = near("old")[0];
  const added = near("new")[0];
  const v = j.revision;
  const show = [gone ? `v${item.version} "${ws(gone.text)}"` : undefined, added ? `v${v} "${ws(added.text)}"` : undefined].filter(Boolean).join(", ");
  return {
    kind: "changed",
    text: `interdiff ${arrow}: the quoted lines changed in ${a.file}${a.function ? ` (${a.function})` : ""}${show ? `: ${show}` : ""}`,
    added: near("new").map((l) => l.text.slice(1)),
    removed: near("old").map((l) => l.text.slice(1)),
  };
}

const COMMENT_TEXT = /^\s*(\/\*|\*|\/\/)/;

/** Lines of a patch either side of a quote: how far a point reaches beyond what it quoted. */
const REGION_LINES = 8;

/** Where `want` (quoted patch lines) sits in `files`, with the changed lines around it. */
function regionOf(files: readonly FileDiff[], want: readonly string[]): { line: number | undefined; window: string[] } | undefined {
  for (const f of files) {
    for (const h of f.hunks) {
      const spelled = h.lines.map((l) => ws(`${l.type}${l.text}`));
      const at = spelled.findIndex((_, i) => want.every((w, k) => spelled[i + k] === w));
      if (at < 0) continue;
      const l = h.lines[at]!;
      const lo = Math.max(0, at - REGION_LINES);
      const hi = Math.min(spelled.length, at + want.length + REGION_LINES);
      const window = spelled.slice(lo, hi).filter((x) => /^[+-]/.test(x) && x.slice(1).trim() !== "");
      return { line: l.newLine ?? l.oldLine, window };
    }
  }
  return undefined;
}

function describeInterdiff(d: Interdiff, arrow: string): string {
  const added = d.lines.filter((l) => l.side === "new").length;
  const removed = d.lines.filter((l) => l.side === "old").length;
  const files = [...new Set(d.lines.map((l) => l.file))];
  const sample = d.lines.find((l) => l.side === "new" && l.text.slice(1).trim() !== "" && !/^\s*(\/\*|\*|\/\/)/.test(l.text.slice(1)));
  return (
    `interdiff ${arrow}: ${added} lines only in the new patch, ${removed} only in the old (${d.codeLines} of them code; ${files.join(", ")})` +
    (sample ? `, e.g. ${ws(sample.text)}` : "")
  );
}

function sameTrailer(a: { key: string; email?: string }, b: { key: string; email?: string }): boolean {
  return a.key.toLowerCase() === b.key.toLowerCase() && (a.email ?? "").toLowerCase() === (b.email ?? "").toLowerCase() && a.email !== undefined;
}

/** A Reviewed-by, Acked-by or Tested-by: carried into the later revision, and still deserved? */
function judgeAck(item: Item, j: Judging): { verdict: Verdict; evidence: string[] } {
  const t = item.trailer!;
  const given = `${t.key}: ${t.value} given in <${item.source}>`;
  const cp = counterpart(item, j);
  if (cp.dropped) return { verdict: "obsolete", evidence: [`${given}; ${oldLabel(item)} "${item.patch.title}" has no counterpart in v${j.revision}`] };
  const newPatches: PatchRef[] =
    item.patch.index === 0
      ? j.newer.series.slots.flatMap((m, i) => (m ? [{ message: m, index: i + 1 }] : []))
      : [...cp.patches];
  const carried = newPatches.filter((p) => p.message.trailers.some((x) => sameTrailer(x, t)));
  const scope = item.patch.index === 0 ? "for the whole series" : `on ${oldLabel(item)}`;
  if (carried.length === 0) {
    if (item.patch.index === 0) return { verdict: "not addressed", evidence: [`${given} ${scope} is on no patch of v${j.revision}`] };
    const d = interdiff(oldPatch(item, j)?.files ?? [], cp.patches.flatMap((p) => p.message.files));
    const why = d.level === "unchanged" ? " although the patch is unchanged" : d.level === "substantial" ? "; the patch changed substantially, so it needs a fresh look" : "";
    return { verdict: "not addressed", evidence: [`${given} ${scope} is not carried into ${newLabel(j, cp.patches)}${why}`] };
  }
  const evidence: string[] = [];
  let substantial = false;
  for (const p of carried) {
    // The patch the tag was given for: the item's own, or for a series-wide tag, p's counterpart.
    const was = item.patch.index === 0 ? j.pairing.pairs.find((x) => x.new.some((n) => n.index === p.index))?.old : { message: oldPatch(item, j)!, index: item.patch.index };
    if (!was?.message) {
      substantial = true;
      evidence.push(`${given} ${scope} is carried into ${newLabel(j, [p])}, which is a new patch`);
      continue;
    }
    const d = interdiff(was.message.files, p.message.files);
    if (d.level === "substantial") {
      substantial = true;
      evidence.push(`${given} ${scope} is carried into ${newLabel(j, [p])}, which changed substantially since it was given`);
      evidence.push(describeInterdiff(d, `v${item.version} ${was.index}/${item.patch.total} → ${newLabel(j, [p])}`));
    } else {
      evidence.push(`${given} ${scope} is carried into ${newLabel(j, [p])}; the patch is ${d.level === "unchanged" ? "unchanged" : "changed only in comments or a line or two"}`);
    }
  }
  return { verdict: substantial ? "unclear" : "addressed", evidence };
}

/**
 * "Looks good to me" without a tag: nothing is to be carried, only whether the approval still
 * covers the patch. A patch that changed substantially since needs a fresh look.
 */
function judgeApproval(item: Item, j: Judging): { verdict: Verdict; evidence: string[] } {
  const given = `approval given in <${item.source}>`;
  const cp = counterpart(item, j);
  if (cp.dropped) return { verdict: "obsolete", evidence: [`${given}; ${oldLabel(item)} "${item.patch.title}" has no counterpart in v${j.revision}`] };
  if (item.patch.index === 0) return { verdict: "addressed", evidence: [`${given} for the whole series; nothing to carry`] };
  const d = interdiff(oldPatch(item, j)?.files ?? [], cp.patches.flatMap((p) => p.message.files));
  const arrow = `${oldLabel(item)} → ${newLabel(j, cp.patches)}`;
  if (d.level === "substantial") return { verdict: "unclear", evidence: [`${given} on ${oldLabel(item)}; the patch changed substantially since`, describeInterdiff(d, arrow)] };
  return { verdict: "addressed", evidence: [`${given} on ${oldLabel(item)}; ${newLabel(j, cp.patches)} is ${d.level === "unchanged" ? "unchanged" : "changed only in comments or a line or two"}`] };
}

/**
 * Judge one item against the later revision. In order: an ack is about its trailer; a point
 * on code that left the series is obsolete; a concern the code now satisfies is addressed; a
 * reasoned reply from the author answers it; otherwise the quoted code and the changelog decide.
 */
export function judgeItem(item: Item, j: Judging): JudgedItem {
  const done = (verdict: Verdict, evidence: readonly (string | undefined)[]): JudgedItem => ({
    ...item,
    verdict,
    evidence: evidence.filter((e): e is string => e !== undefined && e !== ""),
  });
  if (item.kind === "ack") {
    const r = item.trailer ? judgeAck(item, j) : judgeApproval(item, j);
    return done(r.verdict, r.evidence);
  }
  const log = (j.changelog.get(item.id) ?? []).map(logLine);
  const answers = j.answers.get(item.id) ?? [];
  const reason = answers.find((a) => a.kind === "reason");
  const promise = answers.find((a) => a.kind === "promise");
  const cp = counterpart(item, j);
  const gone = cp.dropped ? `${oldLabel(item)} "${item.patch.title}" has no counterpart in v${j.revision}` : undefined;
  const anchor: AnchorState = gone ? { kind: "none" } : anchorState(item, j);
  const left = gone ?? (anchor.kind === "gone" ? anchor.text : undefined);
  if (left !== undefined) {
    // Code that left the series because the reviewer asked, or because the changelog says it was
    // reworked on their word, is the point addressed; otherwise the point is moot.
    if (log.length > 0 || ASKS_REMOVAL.test(item.body)) return done("addressed", [left, ...log]);
    return done("obsolete", [left, ...log]);
  }
  const at = anchor.kind === "none" ? undefined : anchor.text;

  const concern = item.concern ? concernById(item.concern).judge({ older: j.older, newer: j.newer }) : undefined;
  if (concern?.status === "addressed") {
    return done("addressed", [...log, ...concern.evidence, at, promise && answerLine(promise, "promised in")]);
  }
  if (concern) {
    // The code and the model judge a concern; a changelog alone does not outweigh them.
    if (reason) return done("answered", [answerLine(reason, "reply"), ...concern.evidence, at, ...log]);
    // The author says it is done, the code and the model say it is not: a reader must look.
    return done(log.length > 0 ? "unclear" : "not addressed", [at, ...concern.evidence, ...log, promise && answerLine(promise, "promised in")]);
  }

  const patchMoved = anchor.kind === "changed" || patchChanged(item, j);
  // The changelog naming the change is the author's own account: it outweighs any reply, as long
  // as the interdiff shows the patch moved.
  if (log.length > 0 && patchMoved) {
    return done("addressed", [...log, at, promise && answerLine(promise, "promised in"), reason && answerLine(reason, "reply")]);
  }
  const codeChanged = anchor.kind === "changed" && item.anchor.kind === "code";
  const asked = codeChanged && actedOn(item, anchor);
  // A change where the reviewer pointed, after the author agreed to make it.
  if (promise && codeChanged) return done("addressed", [answerLine(promise, "promised in"), at]);
  // Answered: a reason given and the quoted code left as it was.
  if (reason && !codeChanged) return done("answered", [answerLine(reason, "reply"), at, ...log]);
  const changed = anchor.kind === "changed" || (anchor.kind === "none" && patchMoved);
  if (promise && !changed) {
    return done("not addressed", [answerLine(promise, "promised in"), at ?? `${newLabel(j, cp.patches)} is unchanged`, "the promised change is not in the next revision"]);
  }
  if (item.kind === "question" && anchor.kind !== "changed" && log.length === 0) {
    return done("not addressed", [`no answer from the author in the thread, and nothing in v${j.revision}'s changelog`, at, promise && answerLine(promise, "promised in")]);
  }
  if (changed && log.length > 0) return done("addressed", [...log, at]);
  // The quoted region itself changed: the reviewer's point was acted on, even unannounced.
  if (asked) return done("addressed", [at, "the new lines carry what the point asked for; the changelog does not mention it"]);
  if (changed) return done("unclear", [at ?? `${newLabel(j, cp.patches)} changed, the changelog does not say why`, `the changelog does not mention it`, promise && answerLine(promise, "promised in"), reason && answerLine(reason, "reply")]);
  if (log.length > 0) return done("unclear", [...log, at ?? `${newLabel(j, cp.patches)} is unchanged`]);
  return done("not addressed", [at ?? `${newLabel(j, cp.patches)} is unchanged`, "nothing in the changelog or the thread says why", promise && answerLine(promise, "promised in")]);
}

/** Whether the new lines of the quoted region bring in words of the point that the old lines lacked. */
function actedOn(item: Item, anchor: AnchorState): boolean {
  if (anchor.kind !== "changed" || !anchor.added) return false;
  // Identifiers also count by their parts: "take the lock" is done by a new gate_lock.
  const words = (text: string) => {
    const ids = [...identifiers(text)];
    return new Set([...contentWords(text), ...ids, ...ids.flatMap((id) => id.split("_").filter((p) => p.length >= 4))]);
  };
  const was = words((anchor.removed ?? []).join("\n"));
  const point = words(item.body);
  const now = [...words(anchor.added.join("\n"))];
  return now.some((w) => !was.has(w) && point.has(w));
}

function patchChanged(item: Item, j: Judging): boolean {
  const cp = counterpart(item, j);
  if (item.patch.index === 0) return ws(j.older.series.cover?.commitMessage ?? "") !== ws(cp.cover?.commitMessage ?? "");
  return interdiff(oldPatch(item, j)?.files ?? [], cp.patches.flatMap((p) => p.message.files)).level !== "unchanged";
}
