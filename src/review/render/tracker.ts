import type { TrackResult, Tracker } from "../../feedback/track.js";
import { VERDICTS, type JudgedItem, type Verdict } from "../../feedback/verdict.js";
import { revisionNumbers } from "../../patch/revision-link.js";
import type { Series } from "../../patch/series.js";
import { wrap } from "./wrap.js";

export type TrackerFormat = "text" | "markdown" | "json";

function subjectOf(s: Series): string {
  return s.cover ? s.cover.parsedSubject.title : s.title;
}

function day(d: Date | undefined): string {
  return d ? d.toISOString().slice(0, 10) : "undated";
}

function patchLabel(i: JudgedItem): string {
  return `${i.patch.index}/${i.patch.total}`;
}

export function counts(t: Tracker): Record<Verdict, number> {
  const out = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const i of t.items) out[i.verdict]++;
  return out;
}

/** A posting's number in its chain: untagged revisions read v2, v3, not v1, v1. */
function numberOf(t: Tracker, s: Series): number {
  return revisionNumbers(t.revisions, t.links).get(s) ?? s.revision;
}

function summary(t: Tracker): string {
  const c = counts(t);
  const last = numberOf(t, t.series);
  const older = [...new Set(t.revisions.filter((r) => numberOf(t, r) < last).map((r) => `v${numberOf(t, r)}`))].join(", ");
  const merged = t.restatements > 0 ? ` (${t.restatements} restatement${t.restatements === 1 ? "" : "s"} merged)` : "";
  const tally = VERDICTS.filter((v) => c[v] > 0).map((v) => `${c[v]} ${v}`).join(", ");
  const pending = t.pending > 0 ? ` ${t.pending} repl${t.pending === 1 ? "y" : "ies"} to v${last} so far, judged against the next revision.` : "";
  return `${t.items.length} points from ${t.replies} replies to ${older}${merged}: ${tally || "nothing to judge"}.${pending}`;
}

function headLines(t: Tracker): string[] {
  const out = [`Tracker: ${subjectOf(t.series)} (v${numberOf(t, t.series)})`];
  for (const r of t.revisions) out.push(`  v${numberOf(t, r)}${r.cover?.parsedSubject.resend || r.slots.find((m) => m)?.parsedSubject.resend ? " RESEND" : ""} <${r.id}>, ${day(r.date)}`);
  for (const l of t.links) out.push(...wrap(`v${l.revision}${l.resend ? " (RESEND)" : ""} follows v${l.previousRevision}: ${l.detail}`, 72, "  "));
  out.push(...wrap(summary(t), 72, "  "));
  return out;
}

function pad(s: string, n: number): string {
  return s.length >= n ? `${s} ` : s + " ".repeat(n - s.length);
}

/**
 * The tracker as plain text for a mail reply or a terminal: a table of items and verdicts,
 * then each item with the lines it quoted, the request, and the evidence for its verdict.
 */
export function renderTrackerText(t: Tracker): string {
  const out = headLines(t);
  out.push("");
  const w = { id: Math.max(4, ...t.items.map((i) => i.id.length + 2)), verdict: 15, kind: 18, patch: 6 };
  out.push(`  ${pad("#", w.id)}${pad("verdict", w.verdict)}${pad("kind", w.kind)}${pad("patch", w.patch)}from`);
  for (const i of t.items) out.push(`  ${pad(i.id, w.id)}${pad(i.verdict, w.verdict)}${pad(i.kind, w.kind)}${pad(patchLabel(i), w.patch)}${i.author.name}`);
  for (const i of t.items) {
    out.push("");
    out.push(`${i.id} ${i.verdict}: ${i.author.name}, ${day(i.date)}, ${i.kind} on v${i.version} ${patchLabel(i)}`);
    out.push(`  <${i.source}>`);
    if (i.history) out.push(`  step by step: ${i.history.map((h) => `v${h.revision} ${h.verdict}`).join(", ")}`);
    const a = i.anchor;
    if (a.kind === "code" && a.file) {
      const fn = a.function ? `, in ${a.function}${a.function.includes(" ") ? "" : "()"}` : "";
      out.push(`  ${a.file}:${a.line ?? "?"}${fn}:`);
      for (const q of a.quoted.slice(0, 6)) out.push(`  > ${q}`);
      if (a.quoted.length > 6) out.push(`  > [${a.quoted.length - 6} more line${a.quoted.length === 7 ? "" : "s"}]`);
    }
    out.push(...wrap(`"${i.text}"`, 72, "  "));
    for (const r of i.restatedIn) out.push(...wrap(`restated by ${r.author.name} <${r.source}>: "${r.text}"`, 72, "  ").map((l, k) => (k === 0 ? l : `    ${l.trim()}`)));
    for (const e of i.evidence) out.push(...wrap(e, 72, "    ").map((l, k) => (k === 0 ? `  - ${l.trim()}` : l)));
  }
  return `${out.join("\n")}\n`;
}

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\s+/g, " ").trim();
}

/** Where a forge comment is found again to be updated: a marker hidden in the body. */
export function trackerMarker(t: Tracker): string {
  return `<!-- dmabuf-review:tracker series=${t.series.id} -->`;
}

/** The series a body is the tracker of, when it carries the marker; one tracker per thread whatever its series. */
export function readTrackerMarker(body: string | null | undefined): string | undefined {
  return body ? /<!-- dmabuf-review:tracker series=(\S+) -->/.exec(body)?.[1] : undefined;
}

/** The tracker as one forge comment: a table of items and verdicts, the evidence folded below. */
export function renderTrackerMarkdown(t: Tracker): string {
  const links = t.links.map((l) => `v${l.revision} follows v${l.previousRevision}: ${l.detail}`).join("; ");
  const out = [
    trackerMarker(t),
    `### Review feedback tracked into v${numberOf(t, t.series)}: ${cell(subjectOf(t.series))}`,
    "",
    `${links}. ${summary(t)}`,
    "",
    "| # | verdict | kind | patch | from | point |",
    "|---|---|---|---|---|---|",
    ...t.items.map((i) => `| ${i.id} | **${i.verdict}** | ${i.kind} | v${i.version} ${patchLabel(i)} | ${cell(i.author.name)} | ${cell(i.text)} |`),
    "",
    "<details><summary>Evidence</summary>",
    "",
  ];
  for (const i of t.items) {
    const a = i.anchor;
    const where = a.kind === "code" && a.file ? ` at \`${a.file}:${a.line ?? "?"}\`${a.function ? ` in \`${a.function}\`` : ""}` : "";
    out.push(`**${i.id}** ${i.verdict}: ${cell(i.author.name)}, ${day(i.date)}${where}, \`${i.source}\``);
    out.push("");
    for (const r of i.restatedIn) out.push(`- restated by ${cell(r.author.name)}, \`${r.source}\``);
    for (const e of i.evidence) out.push(`- ${cell(e)}`);
    out.push("");
  }
  out.push("</details>", "");
  return out.join("\n");
}

/** One series of the JSON contract. */
export function trackerJson(t: Tracker) {
  return {
    id: t.series.id,
    subject: subjectOf(t.series),
    changeId: t.series.changeId ?? null,
    revisions: t.revisions.map((r) => ({ version: r.revision, messageId: r.id })),
    links: t.links.map((l) => ({ from: l.previous.id, to: l.series.id, how: l.how, detail: l.detail, resend: l.resend })),
    replies: t.replies,
    restatements: t.restatements,
    pending: t.pending,
    counts: counts(t),
    items: t.items.map((i) => ({
      id: i.id,
      author: { name: i.author.name, email: i.author.email },
      date: i.date ? i.date.toISOString() : null,
      source: i.source,
      version: i.version,
      patch: patchLabel(i),
      patchSubject: i.patch.title,
      anchor: { file: i.anchor.file ?? null, function: i.anchor.function ?? null, line: i.anchor.line ?? null, quoted: i.anchor.quoted },
      text: i.text,
      kind: i.kind,
      verdict: i.verdict,
      evidence: i.evidence,
      ...(i.history ? { history: i.history } : {}),
      restatedIn: i.restatedIn.map((r) => ({ source: r.source, author: { name: r.author.name, email: r.author.email }, text: r.text })),
      ...(i.trailer ? { trailer: `${i.trailer.key}: ${i.trailer.value}` } : {}),
    })),
  };
}

/** `dmabuf-review track --format json`: every tracked series, and why the others were not. */
export function renderTrackJson(results: readonly TrackResult[]): string {
  const doc = trackJsonStream();
  return results.map((r) => doc.add(r)).join("") + doc.end();
}

/**
 * The document renderTrackJson makes, in the pieces to write as each result comes: a tracked
 * series is written at once, the one-line reasons of the untracked wait for the end.
 */
export function trackJsonStream(): { add(r: TrackResult): string; end(): string } {
  // JSON.stringify(doc, null, 2) indents each nested level by two more spaces.
  const nested = (value: unknown, pad: string) => JSON.stringify(value, null, 2).replaceAll("\n", `\n${pad}`);
  let tracked = 0;
  const untracked: { subject: string; version: number; messageId: string; reason: string }[] = [];
  return {
    add(r) {
      if (r.kind === "no-previous") {
        untracked.push({ subject: subjectOf(r.series), version: r.series.revision, messageId: r.series.id, reason: r.reason });
        return "";
      }
      return `${tracked++ === 0 ? '{\n  "series": [\n    ' : ",\n    "}${nested(trackerJson(r.tracker), "    ")}`;
    },
    end() {
      return `${tracked === 0 ? '{\n  "series": [],' : "\n  ],"}\n  "untracked": ${nested(untracked, "  ")}\n}\n`;
    },
  };
}

/** The one line a series without an earlier revision gets. */
export function renderNoPrevious(r: Extract<TrackResult, { kind: "no-previous" }>): string {
  return `${subjectOf(r.series)} (v${r.series.revision}) <${r.series.id}>: ${r.reason}\n`;
}

/** One tracker in the format a channel posts. */
export function renderTracker(t: Tracker, format: TrackerFormat): string {
  switch (format) {
    case "text":
      return renderTrackerText(t);
    case "markdown":
      return renderTrackerMarkdown(t);
    case "json":
      return `${JSON.stringify(trackerJson(t), null, 2)}\n`;
  }
}
