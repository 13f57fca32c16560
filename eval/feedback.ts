/**
 * The feedback section of `npm run eval` (issue 16): the tracker run on the whole real archive,
 * each labelled v(N) -> v(N+1) step judged against the revision that followed, and compared
 * with the `feedback[]` labels of eval/devset/positive/*.yaml: item recall, verdict agreement,
 * the confusion matrix, every disagreement by Message-ID, and whether each labelled revision is
 * linked to the revision before it.
 */
import { loadInbox } from "../src/cli/track.js";
import { trackSeries, type TrackResult } from "../src/feedback/track.js";
import { listEpochs } from "../src/ingest/public-inbox/reader.js";
import type { JudgedItem, Verdict } from "../src/feedback/verdict.js";
import { contentWords, overlap } from "../src/feedback/words.js";
import { loadOne } from "../src/ingest/mbox/messages.js";
import type { Message } from "../src/patch/message.js";
import { groupSeries, type Series } from "../src/patch/series.js";
import type { Archive } from "./archive.js";
import { bare, devsetFiles, field, isInt, isList, isString, readDoc, type Doc } from "./devset.js";
import type { Pipeline } from "./eval.js";

export type LabelVerdict = "addressed" | "not addressed" | "answered" | "obsolete";
const LABEL_VERDICTS: readonly LabelVerdict[] = ["addressed", "not addressed", "answered", "obsolete"];

/** One reviewer point on revision `version` and what became of it in `toVersion`. */
export interface FeedbackLabel {
  readonly series: string;
  readonly id: string;
  readonly version: number;
  readonly patch: number;
  readonly reviewer: string;
  /** Message-ID of the reply that made the point. */
  readonly source: string;
  readonly asked: string;
  /** The quoted code the point is about, when the labeller noted it. */
  readonly anchor: { readonly file: string; readonly function: string | undefined } | undefined;
  readonly toSeries: string;
  readonly toVersion: number;
  readonly verdict: LabelVerdict;
  /** Message-ID of the message showing the outcome, and where to look in it. */
  readonly evidence: string;
  readonly pointer: string;
  /** Archive commits of the source reply and of the evidence, when they are on the list. */
  readonly commits: readonly string[];
}

/** The Message-IDs that make one labelled revision (also those only known from replies). */
export interface LabelledRevision {
  readonly series: string;
  readonly version: number;
  readonly ids: readonly string[];
  /** Whether any of its messages is in the archive. */
  readonly inArchive: boolean;
  readonly commits: readonly string[];
}

export interface FeedbackSet {
  readonly labels: readonly FeedbackLabel[];
  readonly revisions: readonly LabelledRevision[];
}

const isDoc = (v: unknown): v is Doc => typeof v === "object" && v !== null && !Array.isArray(v);
const isVerdict = (v: unknown): v is LabelVerdict => LABEL_VERDICTS.includes(v as LabelVerdict);
const listOf = (file: string, d: Doc, name: string, at = name): Doc[] => (d[name] === undefined ? [] : field(file, d, name, isList, "a list", at));
const text = (v: unknown): string | undefined => (isString(v) ? v : undefined);

function readRevisions(file: string, series: string, d: Doc): LabelledRevision[] {
  return listOf(file, d, "revisions").map((r, i) => {
    const at = `revisions[${i}]`;
    const ids: string[] = [];
    const commits: string[] = [];
    for (const key of ["cover_message_id", "cover_absent_message_id"]) {
      const id = text(r[key]);
      if (id) ids.push(bare(id));
    }
    const cover = text(r["cover_commit"]);
    if (cover) commits.push(cover);
    for (const p of listOf(file, r, "patches", `${at}.patches`)) {
      const id = text(p["message_id"]) ?? text(p["absent_message_id"]);
      if (id) ids.push(bare(id));
      const commit = text(p["commit"]);
      if (commit) commits.push(commit);
    }
    return { series, version: field(file, r, "version", isInt, "a number", `${at}.version`), ids, inArchive: commits.length > 0, commits };
  });
}

function readLabels(file: string, series: string, d: Doc): FeedbackLabel[] {
  return listOf(file, d, "feedback").map((f, i) => {
    const at = (name: string) => `feedback[${i}].${name}`;
    const outcome = field(file, f, "outcome", isDoc, "a mapping", at("outcome"));
    const verdict = field(file, outcome, "verdict", isVerdict, LABEL_VERDICTS.join(" | "), at("outcome.verdict"));
    const source = field(file, f, "source", isDoc, "a mapping", at("source"));
    const evidence = field(file, outcome, "evidence", isDoc, "a mapping", at("outcome.evidence"));
    const commits = [source["commit"], evidence["commit"]].filter(isString);
    const a = f["anchor"] === undefined ? undefined : field(file, f, "anchor", isDoc, "a mapping", at("anchor"));
    return {
      series,
      id: field(file, f, "id", isString, "text", at("id")),
      version: field(file, f, "version", isInt, "a number", at("version")),
      patch: field(file, f, "patch", isInt, "a number", at("patch")),
      reviewer: field(file, f, "reviewer", isString, "text", at("reviewer")),
      source: bare(field(file, source, "message_id", isString, "text", at("source.message_id"))),
      asked: field(file, f, "asked", isString, "text", at("asked")),
      anchor: a && { file: field(file, a, "file", isString, "text", at("anchor.file")), function: text(a["function"]) },
      toSeries: text(outcome["to_series"]) ?? series,
      toVersion: field(file, outcome, "to_version", isInt, "a number", at("outcome.to_version")),
      verdict,
      evidence: bare(field(file, evidence, "message_id", isString, "text", at("outcome.evidence.message_id"))),
      pointer: field(file, outcome, "pointer", isString, "text", at("outcome.pointer")),
      commits,
    };
  });
}

/** The feedback labels and the revisions of every labelled series under `dir` (positive and negative). */
export function readFeedbackSet(dir: string): FeedbackSet {
  const labels: FeedbackLabel[] = [];
  const revisions: LabelledRevision[] = [];
  for (const file of devsetFiles(dir)) {
    const d = readDoc(file);
    const id = field(file, d, "id", isString, "an id");
    revisions.push(...readRevisions(file, id, d));
    labels.push(...readLabels(file, id, d));
  }
  const known = new Set(revisions.map((r) => `${r.series}|${r.version}`));
  for (const l of labels) {
    for (const [s, v] of [[l.series, l.version], [l.toSeries, l.toVersion]] as const) {
      if (!known.has(`${s}|${v}`)) throw new Error(`${l.series}: feedback ${l.id}: no revision ${v} in series ${s}`);
    }
  }
  return { labels, revisions };
}

/** The labels and revisions of some series only (and of the series they continue into). */
export function subset(set: FeedbackSet, ids: readonly string[]): FeedbackSet {
  const labels = set.labels.filter((l) => ids.includes(l.series));
  const keep = new Set([...ids, ...labels.map((l) => l.toSeries)]);
  return { labels, revisions: set.revisions.filter((r) => keep.has(r.series)) };
}

/** Every archive commit a set names: its revisions' messages, the replies and the evidence. */
export function commitsOf(set: FeedbackSet): string[] {
  return [...new Set([...set.revisions.flatMap((r) => r.commits), ...set.labels.flatMap((l) => l.commits)])];
}

/** One step v(N) -> v(N+1) as the tracker saw it. */
export interface StepResult {
  readonly from: LabelledRevision;
  readonly to: LabelledRevision;
  /** Undefined: right. Otherwise what went wrong, in a line. */
  readonly linkError: string | undefined;
  readonly items: readonly JudgedItem[];
}

/** What the tracker said about one label: the item it matched, if any. */
export interface LabelResult {
  readonly label: FeedbackLabel;
  readonly item: JudgedItem | undefined;
}

export interface FeedbackScore {
  readonly labels: readonly LabelResult[];
  readonly steps: readonly StepResult[];
}

function memberIds(s: Series): string[] {
  return [...(s.cover ? [s.cover.messageId] : []), ...s.slots.flatMap((m) => (m ? [m.messageId] : [])), ...s.duplicates.map((m) => m.messageId)];
}

/** The series of the archive holding most of a labelled revision's messages. */
function seriesOf(rev: LabelledRevision, byId: ReadonlyMap<string, Series>): Series | undefined {
  const count = new Map<Series, number>();
  for (const id of rev.ids) {
    const s = byId.get(id);
    if (s) count.set(s, (count.get(s) ?? 0) + 1);
  }
  return [...count.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** Whether the tracker put `from` right before `to`, said in a line when it did not. */
function checkLink(result: TrackResult | undefined, from: LabelledRevision, to: LabelledRevision): string | undefined {
  const name = `${to.series} v${from.version} -> v${to.version}`;
  if (!result) return `${name}: v${to.version} is not grouped as a series`;
  if (result.kind === "no-previous") return `${name}: no earlier revision linked`;
  const { revisions, links } = result.tracker;
  const link = links.find((l) => l.series === result.series && !l.resend) ?? links.find((l) => l.series === result.series);
  if (!link) return `${name}: no link into v${to.version}`;
  if (link.previous.id === result.series.id) return `${name}: linked to itself`;
  const held = memberIds(link.previous);
  if (!from.ids.some((id) => held.includes(id))) {
    return `${name}: linked to <${link.previous.id}> "${link.previous.title}" v${link.previous.revision} by ${link.how}`;
  }
  if (revisions.some((s) => s.date && result.series.date && s !== result.series && s.date > result.series.date)) {
    return `${name}: a later posting is in the chain`;
  }
  return undefined;
}

/** The item the tracker made of a label's point: same reply, most shared words. */
function matchLabels(labels: readonly FeedbackLabel[], items: readonly JudgedItem[]): LabelResult[] {
  const used = new Set<JudgedItem>();
  return labels.map((label) => {
    const from = items.filter((i) => i.source === label.source || i.restatedIn.some((r) => r.source === label.source));
    const asked = contentWords(`${label.asked} ${label.anchor?.function ?? ""}`);
    const sameFile = (i: JudgedItem) => (label.anchor && i.anchor.file === label.anchor.file ? 3 : 0);
    const score = (i: JudgedItem) => sameFile(i) + overlap(asked, contentWords(`${i.body} ${i.anchor.function ?? ""} ${i.anchor.quoted.join(" ")}`));
    const ranked = [...from].sort((a, b) => Number(used.has(a)) - Number(used.has(b)) || score(b) - score(a));
    const item = ranked[0];
    if (item) used.add(item);
    return { label, item };
  });
}

/** Every message of the archive grouped into series, read the way `track` reads a public-inbox. */
export async function groupArchive(archive: Archive): Promise<readonly Series[]> {
  const { messages } = await loadInbox(listEpochs(archive.gitDir), () => undefined);
  const grouped = groupSeries(messages);
  orphansOf.set(grouped.series, grouped.orphanReplies);
  return grouped.series;
}

/** Parse the messages of `commits` and group them into series. */
export async function groupCommits(archive: Archive, commits: readonly string[]): Promise<readonly Series[]> {
  const bytes = await archive.read(commits);
  const messages: Message[] = [];
  for (const c of commits) {
    const raw = bytes.get(c);
    if (!raw) continue;
    const r = await loadOne({ bytes: raw, source: `archive:${c}` });
    if ("kind" in r) messages.push(r);
  }
  const grouped = groupSeries(messages);
  orphansOf.set(grouped.series, grouped.orphanReplies);
  return grouped.series;
}

// Replies whose patch is not in the archive, by the grouping they came out of: the tracker rebuilds revisions from them.
const orphansOf = new WeakMap<readonly Series[], readonly Message[]>();

/**
 * Run the tracker for every labelled step (and every other pair of consecutive labelled
 * revisions, for the links), each against the revision that followed it.
 */
export function scoreFeedback(set: FeedbackSet, all: readonly Series[], pipeline: Pipeline): FeedbackScore {
  const byId = new Map<string, Series>();
  for (const s of all) for (const id of memberIds(s)) if (!byId.has(id)) byId.set(id, s);
  const rev = (series: string, version: number) => set.revisions.find((r) => r.series === series && r.version === version)!;
  const deps = { rules: pipeline.rules, parser: pipeline.parser, model: pipeline.model, orphans: orphansOf.get(all) };
  const tracked = new Map<Series, TrackResult>();
  const track = (s: Series) => tracked.get(s) ?? tracked.set(s, trackSeries(s, all, deps)).get(s)!;

  const stepKeys = new Map<string, { from: LabelledRevision; to: LabelledRevision }>();
  for (const l of set.labels) stepKeys.set(`${l.series}|${l.version}|${l.toSeries}|${l.toVersion}`, { from: rev(l.series, l.version), to: rev(l.toSeries, l.toVersion) });
  // Links are checked on the series with feedback labels: elsewhere "revisions" may be unrelated postings.
  const labelled = new Set(set.labels.flatMap((l) => [l.series, l.toSeries]));
  const bySeries = new Map<string, LabelledRevision[]>();
  for (const r of set.revisions) if (labelled.has(r.series)) bySeries.set(r.series, [...(bySeries.get(r.series) ?? []), r]);
  for (const [series, revs] of bySeries) {
    const seen = revs.filter((r) => r.inArchive).sort((a, b) => a.version - b.version);
    for (let i = 1; i < seen.length; i++) stepKeys.set(`${series}|${seen[i - 1]!.version}|${series}|${seen[i]!.version}`, { from: seen[i - 1]!, to: seen[i]! });
  }

  const steps: StepResult[] = [];
  const labels: LabelResult[] = [];
  for (const [key, { from, to }] of stepKeys) {
    // A revision known only from replies is tracked by the next one the archive holds, as `track` does:
    // its items then carry their verdict against it in their history.
    const later = set.revisions.filter((r) => r.series === to.series && r.version > to.version && r.inArchive).sort((a, b) => a.version - b.version)[0];
    const absent = !to.inArchive && orphansOf.get(all) !== undefined && later !== undefined;
    const newer = absent ? seriesOf(later, byId) : seriesOf(to, byId);
    const result = newer ? track(newer) : undefined;
    // Items are matched by the reply that made them, so every earlier revision's items may serve.
    const tracked = result?.kind === "tracked" ? result.tracker.items : [];
    const atStep = (i: JudgedItem) => i.history?.find((h) => h.revision === to.version)?.verdict;
    const items = absent ? tracked.map((i) => ({ ...i, verdict: atStep(i) ?? i.verdict })) : tracked;
    const linkError = from.inArchive ? checkLink(result, from, to) : undefined;
    steps.push({ from, to, linkError, items });
    const mine = set.labels.filter((l) => `${l.series}|${l.version}|${l.toSeries}|${l.toVersion}` === key);
    labels.push(...matchLabels(mine, items));
  }
  return { labels, steps };
}

const pct = (n: number, d: number) => (d === 0 ? "n/a" : `${((100 * n) / d).toFixed(0)}%`);

/** The report text: figures, the confusion matrix, then every disagreement and wrong link. */
export function renderFeedback(score: FeedbackScore): string {
  const { labels, steps } = score;
  const series = new Set(labels.map((l) => l.label.series));
  const found = labels.filter((l) => l.item);
  const agree = labels.filter((l) => l.item?.verdict === l.label.verdict);
  const anchored = found.filter((l) => l.label.anchor);
  const anchorRight = anchored.filter(({ label, item }) => item!.anchor.file === label.anchor!.file && (label.anchor!.function === undefined || item!.anchor.function === label.anchor!.function));
  const linked = steps.filter((s) => s.from.inArchive);
  const right = linked.filter((s) => s.linkError === undefined);
  const out: string[] = [];
  out.push(`Feedback tracking (issue 16): ${labels.length} labelled points over ${series.size} series, ${steps.length} steps`);
  out.push(`  revision links right:  ${right.length}/${linked.length} (${pct(right.length, linked.length)})`);
  out.push(`  item recall:           ${found.length}/${labels.length} (${pct(found.length, labels.length)})`);
  out.push(`  verdict agreement:     ${agree.length}/${labels.length} (${pct(agree.length, labels.length)}; ${pct(agree.length, found.length)} of the items found)`);
  out.push(`  anchors right:         ${anchorRight.length}/${anchored.length} of the found items whose label names the quoted file (${labels.filter((l) => l.label.anchor).length} labels do)`);
  const columns: (Verdict | "no item")[] = ["addressed", "not addressed", "answered", "obsolete", "unclear", "no item"];
  out.push("  confusion (rows: label, columns: tracker):");
  out.push(`    ${"".padEnd(14)}${columns.map((c) => c.padStart(14)).join("")}`);
  for (const v of LABEL_VERDICTS) {
    const row = columns.map((c) => labels.filter((l) => l.label.verdict === v && (l.item?.verdict ?? "no item") === c).length);
    out.push(`    ${v.padEnd(14)}${row.map((n) => String(n).padStart(14)).join("")}`);
  }
  const wrong = steps.filter((s) => s.linkError !== undefined);
  if (wrong.length > 0) {
    out.push("  wrong revision links:");
    for (const s of wrong) out.push(`    ${s.linkError}`);
  }
  const bad = labels.filter((l) => l.item?.verdict !== l.label.verdict);
  if (bad.length > 0) {
    out.push("  disagreements (label -> tracker):");
    for (const { label: l, item } of bad) {
      const got = item ? `${item.verdict} (item ${item.id}, ${item.kind})` : "no item";
      out.push(`    <${l.source}> ${l.series} ${l.id} v${l.version}->v${l.toVersion} patch ${l.patch}: ${l.verdict} -> ${got}; asked: ${l.asked}`);
      const why = item?.evidence[0];
      if (why) out.push(`      tracker: ${why.length > 200 ? `${why.slice(0, 197)}...` : why}`);
    }
  }
  return `${out.join("\n")}\n`;
}

/** The hook eval.ts calls: group the archive, track the labelled steps, render the section. */
export async function feedbackSection(devsetDir: string, archive: Archive, pipeline: Pipeline): Promise<string> {
  const set = readFeedbackSet(devsetDir);
  const all = await groupArchive(archive);
  return renderFeedback(scoreFeedback(set, all, pipeline));
}
