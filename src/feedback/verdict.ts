import type { FileDiff, Hunk } from "../patch/diff.js";
import type { Message } from "../patch/message.js";
import type { PatchPairing, PatchRef } from "../patch/revision-link.js";
import { BoundedMap } from "../review/bounded-map.js";
import type { SeriesReview } from "../review/review-series.js";
import { headingFunction } from "./anchor.js";
import { isGhost } from "./ghost.js";
import type { Answer } from "./answers.js";
import type { ChangelogEntry } from "./changelog.js";
import { concernById } from "./concerns.js";
import { differs, interdiff, type Interdiff } from "./interdiff.js";
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
  /** The older revision's number as this step counts it (the item's subject number when absent). */
  readonly from?: number;
  /** The newer revision's number as this step counts it (a "v2" in a title counts, a forge push's number does). */
  readonly revision: number;
  readonly pairing: PatchPairing;
  /** Changelog entries the author wrote after the older revision, matched to items. */
  readonly changelog: ReadonlyMap<string, readonly ChangelogEntry[]>;
  readonly answers: ReadonlyMap<string, readonly Answer[]>;
}

// Whitespace other than a lone space between words: only then does ws() change a text.
const ODD_SPACE = /[^\S ]| {2}|^ | $/;
const ws = (s: string) => (ODD_SPACE.test(s) ? s.replace(/\s+/g, " ").trim() : s);

// Commit messages and cover letters are compared again for every item and step: each is read once.
const keptTexts = new BoundedMap<string, string>(256);
const keptSentences = new BoundedMap<string, ReadonlySet<string>>(256);

/** ws() of a whole message text, kept. */
function wsText(text: string): string {
  return keptTexts.keep(text, ws);
}

/** A text's sentences as prose deltas compare them, kept. */
function sentenceSet(text: string): ReadonlySet<string> {
  return keptSentences.keep(text, (t) => new Set(sentences(t).map(ws)));
}

/** A point asking for the code to go: when it goes, the point is addressed, not moot. */
const ASKS_REMOVAL =
  /\b(unused|not (actually |even )?used( anywhere)?|dead code|not needed|unnecessary|cargo[- ]cult|pointless|superfluous|no point (at all )?in|drop (it|this|that|the)|remove (it|this|that|the)|(do not|don't) (revert|add|do)|NAC?K)\b/i;

/** A point saying the patch does not work: dropping the patch after it is the point taken. */
const OBJECTS =
  /\b(won'?t|will not|doesn'?t|does not|can'?t|cannot) (really |possibly |ever )?work( (like this|that way|any better))?\b|\b(doesn'?t|does not) make (it|this|things) (any )?better\b/i;

/** A build or test robot's report: a changed patch after it is the fix, whatever the changelog says. */
const ROBOT_SENDER = /\b(lkp@intel\.com|kernel test robot|syzbot|build ?bot)\b/i;
const ROBOT_REPORT = /\b(build test (ERROR|WARNING)|yet something to improve|perhaps something to improve)\b/i;

function isRobotReport(item: Item): boolean {
  return ROBOT_SENDER.test(`${item.author.name} <${item.author.email}>`) || ROBOT_REPORT.test(item.body);
}

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
  // A revision rebuilt from replies has no diff to pair by: an unpaired patch of it is unknown, not dropped.
  return { cover: undefined, patches: pair?.new ?? [], dropped: !pair && !isGhost(j.older.series) };
}

function oldPatch(item: Item, j: Judging): Message | undefined {
  return item.patch.index === 0 ? j.older.series.cover : j.older.series.slots[item.patch.index - 1];
}

function newLabel(j: Judging, refs: readonly PatchRef[]): string {
  const v = j.revision;
  return refs.length === 0 ? `v${v}` : `v${v} ${refs.map((r) => `${r.index}/${j.newer.series.total}`).join("+")}`;
}

/** The revision a point was raised on, numbered as the step numbers it: untagged reposts count. */
function from(item: Item, j: Judging): number {
  return j.from ?? item.version;
}

function oldLabel(item: Item, j: Judging): string {
  return `v${from(item, j)} ${item.patch.index}/${item.patch.total}`;
}

type AnchorState =
  /** For prose, `added`/`removed`: the sentences only one of the two texts has. */
  | { readonly kind: "unchanged"; readonly text: string; readonly added?: readonly string[]; readonly removed?: readonly string[] }
  /** `added`/`removed`: the interdiff lines of the quoted region, when the code changed. */
  | {
      readonly kind: "changed";
      readonly text: string;
      readonly added?: readonly string[];
      readonly removed?: readonly string[];
      /** The quoted lines' own added code, when none of it is left in the later revision's patch. */
      readonly quoteGone?: boolean;
    }
  | { readonly kind: "gone"; readonly text: string }
  | { readonly kind: "none" };

/** Is the code (or cover-letter text) the reviewer quoted still there in the later revision? */
function anchorState(item: Item, j: Judging): AnchorState {
  const a = item.anchor;
  const cp = counterpart(item, j);
  const arrow = `${oldLabel(item, j)} → ${newLabel(j, cp.patches)}`;
  if (a.kind === "prose") {
    const was = oldPatch(item, j);
    const now = cp.cover ?? cp.patches[0]?.message;
    const where = item.patch.index === 0 ? "cover letter" : "commit message";
    if (!now || !was) return { kind: "none" };
    const present = wsText(now.commitMessage).includes(ws(a.quoted.join(" ")));
    const { added, removed } = proseDelta(was.commitMessage, now.commitMessage);
    return present
      ? { kind: "unchanged", text: `the quoted ${where} text is still in ${newLabel(j, cp.patches)}`, added, removed }
      : { kind: "changed", text: `the quoted ${where} text is no longer in the ${where} of ${newLabel(j, cp.patches)}`, added, removed };
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
    // Or the file was renamed and the quoted lines rewritten: follow the function they sat in.
    const fn = a.function;
    const defines = (f: FileDiff) =>
      fn !== undefined && f.hunks.some((h) => headingFunction(h.heading) === fn || h.lines.some((l) => l.type !== "-" && definesFunction(l.text, fn)));
    const followed = moved.length > 0 ? moved : cp.patches.flatMap((p) => p.message.files.filter(defines).map((f) => ({ p, f })));
    if (followed.length === 0) return { kind: "gone", text: `${newLabel(j, cp.patches)} no longer changes ${a.file}: the quoted lines are gone` };
    inFile = followed;
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
      const show = [r0 ? `v${from(item, j)} "${r0}"` : undefined, a0 ? `v${j.revision} "${a0}"` : undefined].filter(Boolean).join(", ");
      return {
        kind: "changed",
        text: `interdiff ${oldLabel(item, j)} → ${newLabel(j, [p])}: the quoted lines stay, ${what}${fn} changed: ${show}`,
        added: added.map((l) => l.slice(1)),
        removed: removed.map((l) => l.slice(1)),
      };
    }
    // The region reaches to the function the quote sits in: a request about a function is often
    // met a screen away from the line quoted.
    // The function quoted, else one the point names by name ("in dma_buf_set_name you cannot ...").
    const olds = was?.files.filter((x) => x.path === a.file) ?? [];
    const named = [...identifiers(item.body)].filter((id) => id !== a.function);
    const fnName = [a.function, ...named].find((fn) => fn !== undefined && functionDelta(olds, [f], fn).length > 0);
    const inFn = fnName === undefined ? [] : functionDelta(olds, [f], fnName);
    if (fnName !== undefined && inFn.length > 0) {
      const sample = inFn.find((l) => l.side === "new") ?? inFn[0]!;
      return {
        kind: "changed",
        text: `interdiff ${oldLabel(item, j)} → ${newLabel(j, [p])}: the quoted lines stay, ${fnName}${fnName.includes(" ") ? "" : "()"} changed elsewhere: ${sample.side === "new" ? `v${j.revision}` : `v${from(item, j)}`} "${ws(sample.text)}"`,
        added: inFn.filter((l) => l.side === "new").map((l) => l.text.slice(1)),
        removed: inFn.filter((l) => l.side === "old").map((l) => l.text.slice(1)),
      };
    }
    return {
      kind: "unchanged",
      text: `interdiff ${oldLabel(item, j)} → ${newLabel(j, [p])}: the quoted lines are unchanged, now at ${f.path}:${found.line}${fn}`,
    };
  }
  // What replaced them: interdiff lines of the same file and function or struct.
  const d = interdiff(was?.files.filter((f) => f.path === a.file) ?? [], inFile.map((x) => x.f));
  const near = (side: "old" | "new") => {
    const lines = d.lines.filter((l) => l.side === side);
    const same = lines.filter((l) => a.function !== undefined && headingFunction(l.heading) === a.function);
    return (same.length > 0 ? same : lines).filter((l) => l.text.slice(1).trim() !== "");
  };
  const [nearOld, nearNew] = [near("old"), near("new")];
  const gone = nearOld[0];
  const added = nearNew[0];
  const v = j.revision;
  const show = [gone ? `v${from(item, j)} "${ws(gone.text)}"` : undefined, added ? `v${v} "${ws(added.text)}"` : undefined].filter(Boolean).join(", ");
  const ownAdded = a.quoted.filter((q) => q.startsWith("+")).map((q) => ws(q.slice(1))).filter((q) => q.length > 3 && !COMMENT_TEXT.test(q));
  // The later patch's added lines are spelled only for a quote that added code of its own.
  const newAdded = ownAdded.length === 0 ? undefined : new Set(inFile.flatMap((x) => x.f.hunks.flatMap((h) => h.lines.filter((l) => l.type === "+").map((l) => ws(l.text)))));
  return {
    kind: "changed",
    quoteGone: newAdded !== undefined && ownAdded.every((q) => !newAdded.has(q)),
    text: `interdiff ${arrow}: the quoted lines changed in ${a.file}${a.function ? ` (${a.function})` : ""}${renamed(inFile.map((x) => x.f.path), a.file)}${show ? `: ${show}` : ""}`,
    added: nearNew.map((l) => l.text.slice(1)),
    removed: nearOld.map((l) => l.text.slice(1)),
  };
}

const COMMENT_TEXT = /^\s*(\/\*|\*|\/\/)/;

function renamed(paths: readonly string[], file: string): string {
  const other = paths.find((p) => p !== file);
  return other && !paths.includes(file) ? `, now ${other}` : "";
}

/** Whether a source line names `fn` as a call or definition (`fn(`), spelled whole. */
function definesFunction(text: string, fn: string): boolean {
  const at = text.indexOf(`${fn}(`);
  return at >= 0 && (at === 0 || !/\w/.test(text[at - 1]!));
}

/** Interdiff lines (not blank) of the hunks git heads with `fn`: what changed in that function. */
function functionDelta(older: readonly FileDiff[], newer: readonly FileDiff[], fn: string) {
  return interdiff(older, newer).lines.filter((l) => headingFunction(l.heading) === fn && l.text.slice(1).trim() !== "");
}

/** Sentences only one of two texts has (a commit message or cover letter before and after). */
function proseDelta(before: string, after: string): { added: string[]; removed: string[] } {
  const was = sentenceSet(before);
  const now = sentenceSet(after);
  return { added: [...now].filter((x) => !was.has(x)), removed: [...was].filter((x) => !now.has(x)) };
}

/** Lines of a patch either side of a quote: how far a point reaches beyond what it quoted. */
const REGION_LINES = 8;

// A hunk is searched for every item quoting its file, on every step: it is spelled once.
const spellings = new WeakMap<Hunk, readonly string[]>();

function spelledLines(h: Hunk): readonly string[] {
  let s = spellings.get(h);
  if (!s) spellings.set(h, (s = h.lines.map((l) => ws(`${l.type}${l.text}`))));
  return s;
}

/** The first index of `lines` where `want` follows line for line (0 for an empty `want` when there are lines), else -1. */
function indexOfRun(lines: readonly string[], want: readonly string[]): number {
  next: for (let i = 0; i < lines.length; i++) {
    for (let k = 0; k < want.length; k++) if (lines[i + k] !== want[k]) continue next;
    return i;
  }
  return -1;
}

/** Where `want` (quoted patch lines) sits in `files`, with the changed lines around it. */
function regionOf(files: readonly FileDiff[], want: readonly string[]): { line: number | undefined; window: string[] } | undefined {
  for (const f of files) {
    for (const h of f.hunks) {
      const spelled = spelledLines(h);
      const at = indexOfRun(spelled, want);
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
  if (cp.dropped) return { verdict: "obsolete", evidence: [`${given}; ${oldLabel(item, j)} "${item.patch.title}" has no counterpart in v${j.revision}`] };
  const newPatches: PatchRef[] =
    item.patch.index === 0
      ? j.newer.series.slots.flatMap((m, i) => (m ? [{ message: m, index: i + 1 }] : []))
      : [...cp.patches];
  const carried = newPatches.filter((p) => p.message.trailers.some((x) => sameTrailer(x, t)));
  const scope = item.patch.index === 0 ? "for the whole series" : `on ${oldLabel(item, j)}`;
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
      evidence.push(describeInterdiff(d, `v${from(item, j)} ${was.index}/${item.patch.total} → ${newLabel(j, [p])}`));
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
  if (cp.dropped) return { verdict: "obsolete", evidence: [`${given}; ${oldLabel(item, j)} "${item.patch.title}" has no counterpart in v${j.revision}`] };
  if (item.patch.index === 0) return { verdict: "addressed", evidence: [`${given} for the whole series; nothing to carry`] };
  const d = interdiff(oldPatch(item, j)?.files ?? [], cp.patches.flatMap((p) => p.message.files));
  const arrow = `${oldLabel(item, j)} → ${newLabel(j, cp.patches)}`;
  if (d.level === "substantial") return { verdict: "unclear", evidence: [`${given} on ${oldLabel(item, j)}; the patch changed substantially since`, describeInterdiff(d, arrow)] };
  return { verdict: "addressed", evidence: [`${given} on ${oldLabel(item, j)}; ${newLabel(j, cp.patches)} is ${d.level === "unchanged" ? "unchanged" : "changed only in comments or a line or two"}`] };
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
  if (cp.dropped && resentAlone(j)) {
    // One patch of a series re-sent on its own: the others were not dropped, only not re-sent.
    const why = `${oldLabel(item, j)} was not re-sent: v${j.revision} carries only "${j.newer.series.slots.find((m) => m)?.parsedSubject.title ?? "one patch"}"`;
    if (reason) return done("answered", [answerLine(reason, "reply"), why]);
    return done("unclear", [why, ...log, promise && answerLine(promise, "promised in")]);
  }
  const gone = cp.dropped ? `${oldLabel(item, j)} "${item.patch.title}" has no counterpart in v${j.revision}` : undefined;
  const anchor: AnchorState = gone ? { kind: "none" } : anchorState(item, j);
  const left = gone ?? (anchor.kind === "gone" ? anchor.text : undefined);
  if (left !== undefined) {
    // Code that left the series because the reviewer asked, or because the changelog says it was
    // reworked on their word, is the point addressed; otherwise the point is moot.
    if (log.length > 0 || ASKS_REMOVAL.test(item.body)) return done("addressed", [left, ...log]);
    if (gone && OBJECTS.test(item.body)) return done("addressed", [left, "the point said the patch does not work, and the patch was dropped"]);
    return done("obsolete", [left, ...log]);
  }
  const at = anchor.kind === "none" ? undefined : anchor.text;
  if (item.patch.index > 0 && cp.patches.length === 0 && isGhost(j.older.series)) {
    // Nothing to compare: the patch is known only from replies and pairs with none of the next revision.
    const unpaired = `${oldLabel(item, j)} "${item.patch.title}" is known only from replies and pairs with no patch of v${j.revision}`;
    if (reason) return done("answered", [answerLine(reason, "reply"), unpaired, ...log]);
    return done("unclear", [unpaired, ...log, promise && answerLine(promise, "promised in")]);
  }

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

  const codeChanged = anchor.kind === "changed" && item.anchor.kind === "code";
  const patchMoved = codeChanged || patchChanged(item, j);
  const promised = promise && answerLine(promise, "promised in");
  // The changelog naming the change is the author's own account: it outweighs any reply, as long
  // as the interdiff shows the patch moved (a commit message fix is borne out by the message alone).
  if (log.length > 0 && (patchMoved || patchChanged(item, j, true))) return done("addressed", [...log, at, promised, reason && answerLine(reason, "reply")]);
  if (isRobotReport(item) && patchMoved) {
    return done("addressed", [`a build report by ${item.author.name}, and ${newLabel(j, cp.patches)} changed after it`, at, promised]);
  }
  // Prose (a commit message, a cover letter) is rewritten every revision: it counts as acted on
  // only when its new sentences take up the point's words.
  const text = item.anchor.kind === "code" ? undefined : textDelta(item, j, anchor);
  const textActed = text !== undefined && actedOn(item, text.added, text.removed, 2);
  const textLine = textActed ? `the new text of ${newLabel(j, cp.patches)} takes up the point: "${quote(text!.added.find((x) => carries(item, x)) ?? text!.added[0] ?? "")}"` : undefined;
  // A promise, then the quoted code or text changed: the author did what they said.
  if (promise && (codeChanged || textActed || anchor.kind === "changed")) return done("addressed", [promised, textLine ?? at]);
  // The reviewer asked for the quoted lines to go and they went: done, whatever was argued first.
  if (codeChanged && anchor.quoteGone && ASKS_REMOVAL.test(item.body)) {
    return done("addressed", [at, "the quoted lines the point asked to drop are gone from the patch", reason && answerLine(reason, "reply")]);
  }
  // Answered: a reason given and the quoted code left as it was.
  if (reason && !codeChanged) return done("answered", [answerLine(reason, "reply"), at, ...log]);
  // A reason for keeping the code, and the code changed anyway: as asked after all, or a reader must look.
  if (reason && anchor.kind === "changed" && regionChange(item, anchor.added ?? [], anchor.removed ?? []) === "as asked") {
    return done("addressed", [at, "the new lines carry what the point asked for, after the author first argued against it", answerLine(reason, "reply")]);
  }
  if (reason) return done("unclear", [at, "the changelog does not mention it", answerLine(reason, "reply")]);
  if (textActed) return done("addressed", [textLine, at]);
  // Quoted prose still there is an unchanged anchor; only a point quoting nothing is judged by the whole patch.
  const unanchored = item.anchor.kind === "none" && item.patch.index > 0;
  if (promise && unanchored && patchMoved) {
    return done("addressed", [promised, `${newLabel(j, cp.patches)} changed after the promise`, at]);
  }
  // Quoted prose gone without its words coming back: changed, but not plainly as asked.
  const changed = anchor.kind === "changed" || (unanchored && patchMoved);
  if (promise && !changed) {
    return done("not addressed", [promised, at ?? `${newLabel(j, cp.patches)} is unchanged`, "the promised change is not in the next revision"]);
  }
  if (item.kind === "question" && !codeChanged && log.length === 0) {
    return done("not addressed", [`no answer from the author in the thread, and nothing in v${j.revision}'s changelog`, at, promised]);
  }
  // The quoted region changed after a specific request: the reviewer's point was acted on, even unannounced.
  if (codeChanged) {
    const places = new Set((oldPatch(item, j)?.files ?? []).flatMap((f) => f.hunks.map((h) => headingFunction(h.heading)?.toLowerCase() ?? "")));
    const how = regionChange(item, anchor.added ?? [], anchor.removed ?? [], places);
    if (how === "as asked") return done("addressed", [at, "the new lines carry what the point asked for; the changelog does not mention it"]);
    if (how === "named code gone") return done("addressed", [at, "the code the point names is gone from the region; the changelog does not mention it"]);
    // A question without an answer is settled by the change only when the change speaks to it.
    if (how === "other" && item.kind !== "question") return done("addressed", [at, "the code the point is about changed after the request; the changelog does not mention it"]);
    return done("unclear", [at, "the changelog does not mention it", how === "not as asked" ? "the new lines lack the code the point asked for" : undefined]);
  }
  // A remark asks for nothing in so many words: its text staying as it was does not show it was passed over.
  const passedOver: Verdict = item.kind === "remark" ? "unclear" : "not addressed";
  const asksNothing = item.kind === "remark" ? "the point asks for no change in so many words" : undefined;
  // A cover letter still saying what the reviewer questioned, and no word on it anywhere.
  if (item.patch.index === 0 && log.length === 0 && anchor.kind !== "changed") {
    return done(passedOver, [at, `the cover letter of v${j.revision} does not take up the point, and no changelog entry names it`, asksNothing, promised]);
  }
  // A point about a name the text got wrong ("it does not touch VM_IO"): the name gone from the text is the fix.
  const dropped = item.anchor.kind === "prose" && anchor.kind === "changed" && text ? namedGone(item, text) : undefined;
  if (dropped) return done("addressed", [at, `${dropped} is gone from the text, as the point asked`]);
  if (changed) return done("unclear", [at ?? `${newLabel(j, cp.patches)} changed, the changelog does not say why`, `the changelog does not mention it`, promised, reason && answerLine(reason, "reply")]);
  if (log.length > 0) return done("unclear", [...log, at ?? `${newLabel(j, cp.patches)} is unchanged`]);
  // The quoted lines stay, but the revision gained code elsewhere that carries the point's words
  // ("put it behind a config option" met by a new Kconfig entry in another file or patch).
  const elsewhere = anchor.kind === "unchanged" && item.anchor.kind === "code" ? seriesDelta(j) : undefined;
  if (elsewhere && actedOn(item, elsewhere.added, elsewhere.removed, 3)) {
    return done("addressed", [at, `v${j.revision} adds code elsewhere that carries the point: "${quote(elsewhere.added.find((x) => carries(item, x)) ?? "")}"`]);
  }
  return done(passedOver, [at ?? `${newLabel(j, cp.patches)} is unchanged`, "nothing in the changelog or the thread says why", asksNothing, promised]);
}

/** Code lines only the later revision's series has, and only the earlier one's, over all patches. */
// One interdiff of the whole series per step, however many of its items ask.
const deltas = new WeakMap<Judging, { added: string[]; removed: string[] }>();

function seriesDelta(j: Judging): { added: string[]; removed: string[] } {
  const kept = deltas.get(j);
  if (kept) return kept;
  const files = (r: SeriesReview) => r.series.slots.flatMap((m) => m?.files ?? []);
  const d = interdiff(files(j.older), files(j.newer));
  const code = (side: "old" | "new") => d.lines.filter((l) => l.side === side && l.text.slice(1).trim() !== "").map((l) => l.text.slice(1));
  const delta = { added: code("new"), removed: code("old") };
  deltas.set(j, delta);
  return delta;
}

/** A later revision that is one patch of a longer series, re-sent alone. */
function resentAlone(j: Judging): boolean {
  return !j.newer.series.cover && j.newer.series.total <= 1 && j.older.series.total > 1 && j.pairing.pairs.length === 1;
}

/** The sentences the item's commit message or cover letter gained and lost in the later revision. */
function textDelta(item: Item, j: Judging, anchor: AnchorState): { added: readonly string[]; removed: readonly string[] } | undefined {
  if ((anchor.kind === "changed" || anchor.kind === "unchanged") && anchor.added) return { added: anchor.added, removed: anchor.removed ?? [] };
  const was = oldPatch(item, j);
  const cp = counterpart(item, j);
  const now = cp.cover ?? cp.patches[0]?.message;
  return was && now ? proseDelta(was.commitMessage, now.commitMessage) : undefined;
}

/** The kernel's error-pointer helpers are one idea: "it can be an ERR_PTR" is met by an IS_ERR check. */
const ERR_POINTER = /^(err_ptr|is_err|is_err_or_null|ptr_err|ptr_err_or_zero|err_cast)$/;

function withIdioms(ids: readonly string[]): string[] {
  return ids.some((id) => ERR_POINTER.test(id)) ? [...ids, "err_ptr"] : [...ids];
}

/** An identifier the point names that the old text's lost sentences had and the new sentences lack. */
function namedGone(item: Item, text: { added: readonly string[]; removed: readonly string[] }): string | undefined {
  const now = identifiers(text.added.join("\n"));
  const was = identifiers(text.removed.join("\n"));
  return [...identifiers(item.body)].find((id) => id.includes("_") && was.has(id) && !now.has(id));
}

// A point's body is compared with every change of every step: its words are read once.
const keptPointWords = new BoundedMap<string, ReadonlySet<string>>(512);

/** Words of a point, identifiers also by their parts: "take the lock" is done by a new gate_lock. */
function pointWords(text: string): ReadonlySet<string> {
  return keptPointWords.keep(text, readPointWords);
}

function readPointWords(text: string): Set<string> {
  const ids = withIdioms([...identifiers(text)]);
  const words = [...contentWords(text)];
  // "OP-TEE" and "OPTEE", "use-case" and "usecase" are one word to a reader.
  const joined = words.filter((w) => w.includes("-")).map((w) => w.replace(/-/g, ""));
  return new Set([...words, ...joined, ...ids, ...ids.flatMap((id) => id.split("_").filter((p) => p.length >= 4))]);
}

// A region's or a series' changed lines are tested against a point several times, and a series'
// delta against every point of its step: joined and read once per list.
const keptLineWords = new WeakMap<readonly string[], ReadonlySet<string>>();

function lineWords(lines: readonly string[]): ReadonlySet<string> {
  let w = keptLineWords.get(lines);
  if (!w) keptLineWords.set(lines, (w = pointWords(lines.join("\n"))));
  return w;
}

function carries(item: Item, line: string): boolean {
  const point = pointWords(item.body);
  return [...pointWords(line)].some((w) => point.has(w));
}

/** C words a request can ask for that contentWords drops or does not tell from prose. */
const C_WORDS = /^(bool|int|long|short|char|unsigned|signed|const|static|void|inline|volatile|u8|u16|u32|u64|s8|s16|s32|s64|size_t)$/;

/** The point's code words: identifiers and C type words, as written. */
function codeWords(text: string): Set<string> {
  const out = new Set(withIdioms([...identifiers(text)]));
  for (const w of text.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []) if (C_WORDS.test(w)) out.add(w);
  return out;
}

/**
 * How the quoted region changed against what the point says: it brings in the point's words,
 * it drops the code the point names, it lacks the code words the point asks for, or none of these.
 */
function regionChange(item: Item, added: readonly string[], removed: readonly string[], places: ReadonlySet<string> = new Set()): "as asked" | "named code gone" | "not as asked" | "other" {
  if (actedOn(item, added, removed, 1)) return "as asked";
  const now = lineWords(added);
  const was = lineWords(removed);
  const point = pointWords(item.body);
  if ([...was].some((w) => point.has(w) && !now.has(w) && w.includes("_"))) return "named code gone";
  const newCode = codeWords(added.join("\n"));
  const oldCode = codeWords(removed.join("\n"));
  // A function the point names says where, not what: it is not code the change must bring.
  const wanted = [...codeWords(item.body)].filter((w) => !oldCode.has(w) && !places.has(w));
  return wanted.length > 0 && !wanted.some((w) => newCode.has(w)) ? "not as asked" : "other";
}

/** Whether the new lines bring in at least `least` words of the point that the old lines lacked. */
function actedOn(item: Item, added: readonly string[], removed: readonly string[], least: number): boolean {
  if (added.length === 0) return false;
  const was = lineWords(removed);
  const point = pointWords(item.body);
  return [...lineWords(added)].filter((w) => !was.has(w) && point.has(w)).length >= least;
}

/** Whether the item's patch (its diff or its commit message) or cover letter changed. */
function patchChanged(item: Item, j: Judging, withMessage = false): boolean {
  const cp = counterpart(item, j);
  if (item.patch.index === 0) return wsText(j.older.series.cover?.commitMessage ?? "") !== wsText(cp.cover?.commitMessage ?? "");
  const was = oldPatch(item, j);
  const message = withMessage && wsText(was?.commitMessage ?? "") !== wsText(cp.patches.map((p) => p.message.commitMessage).join(" "));
  return message || differs(was?.files ?? [], cp.patches.flatMap((p) => p.message.files));
}
