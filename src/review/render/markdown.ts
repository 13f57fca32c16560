import { SEVERITY_RANK } from "../../analysis/rules/schema.js";
import type { ConfigChange, ModelResult } from "../../model/compare.js";
import type { Finding } from "../finding.js";
import type { SeriesReview } from "../review-series.js";

/**
 * Markdown for forge comments: one body per finding, placed under its lines, and one summary
 * per revision. Every body ends with a hidden marker carrying the finding's fingerprint, so what
 * was posted can be read back from the forge when the local store is lost.
 */

const MARKER = /<!-- dmabuf-review (finding=([0-9a-f]{8,64})(?: resolved=(\S+))?|summary) -->/;

export type Marker =
  | { readonly kind: "finding"; readonly fingerprint: string; readonly resolvedAt: string | undefined }
  | { readonly kind: "summary" };

/** The marker a body carries, if it is one of ours. */
export function readMarker(body: string | null | undefined): Marker | undefined {
  const m = body ? MARKER.exec(body) : null;
  if (!m) return undefined;
  if (m[1] === "summary") return { kind: "summary" };
  return { kind: "finding", fingerprint: m[2]!, resolvedAt: m[3] };
}

/** Every marker in a body: a summary can carry the findings that had no line to sit on. */
export function readMarkers(body: string | null | undefined): Marker[] {
  if (!body) return [];
  return [...body.matchAll(new RegExp(MARKER.source, "g"))].flatMap((m) => readMarker(m[0]) ?? []);
}

export function findingMarker(fingerprint: string, resolvedAt?: string): string {
  return `<!-- dmabuf-review finding=${fingerprint}${resolvedAt ? ` resolved=${resolvedAt}` : ""} -->`;
}

export const SUMMARY_MARKER = "<!-- dmabuf-review summary -->";

/** Prose from rule messages: C names keep their spelling, but `*`, `<`, `_` must not become markup. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*[\]|~]/g, (c) => `\\${c}`)
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    // An underscore inside a C name (dma_buf_map_attachment) is never emphasis; one at its edge can be.
    .replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, "\\_")
    .replace(/^#/, "\\#");
}

/** A fence longer than any backtick run inside, so quoted code cannot close it. */
function fence(lines: readonly string[], lang: string): string[] {
  const longest = Math.max(2, ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((r) => r.length))));
  const f = "`".repeat(longest + 1);
  return [`${f}${lang}`, ...lines, f];
}

function details(summary: string, lines: readonly string[]): string[] {
  return ["<details><summary>" + summary + "</summary>", "", ...lines, "", "</details>"];
}

function referenceText(r: Finding["references"][number]): string {
  if ("doc" in r) return r.doc;
  if ("thread" in r) return `thread ${r.thread}`;
  if ("commit" in r) return `commit ${r.commit}`;
  return `hazard ${r.hazard}`;
}

/** The body of one line comment: what is wrong, under the lines it is about, and why we say so. */
export function renderFindingComment(f: Finding): string {
  const out: string[] = [`**${f.severity}** \`${f.rule}\` (${f.risk})`, ""];
  if (f.quote.length > 0) out.push(...fence(f.quote, "diff"), "");
  out.push(escapeMarkdown(f.message));
  if (f.details && f.details.length > 0) out.push("", ...details("Configurations", fence(f.details, "text")));
  const why = [...f.evidence.map((e) => `- ${escapeMarkdown(e)}`), ...f.references.map((r) => `- ${escapeMarkdown(referenceText(r))}`)];
  if (why.length > 0) out.push("", ...details("Evidence", why));
  out.push("", findingMarker(f.fingerprint));
  return out.join("\n");
}

/** A posted finding that no longer applies: struck through, with where it stopped applying. */
export function renderResolvedComment(body: string, fingerprint: string, at: string): string {
  const withoutMarker = body.replace(MARKER, "").trimEnd();
  return [`**Resolved** at ${at}: no longer found.`, "", "<details><summary>Earlier comment</summary>", "", withoutMarker, "", "</details>", "", findingMarker(fingerprint, at)].join("\n");
}

/** The plain-text form a check annotation takes (no markup is rendered there). */
export function renderAnnotationDetails(f: Finding): string {
  return [...f.quote, "", ...(f.details ?? []), ...(f.details?.length ? [""] : []), ...f.evidence.map((e) => `- ${e}`)].join("\n").trim();
}

export interface SeverityCounts {
  readonly error: number;
  readonly warning: number;
  readonly info: number;
}

export function countSeverities(findings: readonly Finding[]): SeverityCounts {
  const c = { error: 0, warning: 0, info: 0 };
  for (const f of findings) c[f.severity]++;
  return c;
}


export function countsLine(c: SeverityCounts): string {
  const part = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  if (c.error + c.warning + c.info === 0) return "no findings";
  return [part(c.error, "error", "errors"), part(c.warning, "warning", "warnings"), part(c.info, "note", "notes")].join(", ");
}

function example(list: readonly ConfigChange[]): string {
  const c = list[0];
  if (!c) return "";
  return `${c.exporter} → ${c.importer} (${c.platform}), ${c.pattern}: ${c.before} → ${c.after}`;
}

/** The model's before/after comparison as one table: a row per kind of change, with one example. */
export function renderModelTable(result: ModelResult, catalog: string): string[] {
  const attachments = (l: readonly ConfigChange[]) => new Set(l.map((c) => `${c.exporter}|${c.importer}|${c.platform}`)).size;
  // Labels and order from model-findings.yaml; userspace counts attachments, not patterns.
  const rows = result.categories
    .filter((c) => c.key !== "introduced" || result.introduced.length > 0)
    .map((c): [string, string, readonly ConfigChange[]] => [c.label, String(c.key === "userspace" ? attachments(result[c.key]) : result[c.key].length), result[c.key]]);
  const out = [
    `Coherency model (${catalog}): ${result.evaluated} configurations evaluated before and after.`,
    "",
    "| Change | Configurations | Example: before → after |",
    "|---|---:|---|",
    ...rows.map(([label, n, list]) => `| ${label} | ${n} | ${escapeMarkdown(example(list))} |`),
  ];
  const notModelled = result.effects.filter((e) => e.kind === "not-modelled");
  if (notModelled.length > 0) {
    out.push("", `Not modelled (no claim is made for these): ${notModelled.map((e) => escapeMarkdown(`${e.source.file}:${e.source.line}`)).join(", ")}.`);
  }
  return out;
}

export interface SummaryOptions {
  /** The revision reviewed, e.g. a short commit id. */
  readonly at: string;
  /** Lines the caller adds: findings that could not sit on a line, limits, what changed since the last revision. */
  readonly notes?: readonly string[];
  /** Findings listed in the table at most; the rest are counted. */
  readonly maxRows?: number;
}

/** One summary per revision: counts, the findings in a table, the model table, and the caller's notes. */
export function renderSummary(s: SeriesReview, opts: SummaryOptions): string {
  const findings = s.patches.flatMap((p) => p.findings);
  const inScope = s.patches.some((p) => !p.outOfScope);
  const out: string[] = [`**dmabuf-review** at ${opts.at}: ${inScope ? countsLine(countSeverities(findings)) : "nothing here touches dma-buf"}.`];
  if (findings.length > 0) {
    const max = opts.maxRows ?? 50;
    const sorted = [...findings].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.file.localeCompare(b.file) || a.line - b.line);
    out.push("", "| Severity | Where | Rule |", "|---|---|---|");
    for (const f of sorted.slice(0, max)) out.push(`| ${f.severity} | \`${f.file}:${f.line}\` | \`${f.rule}\` |`);
    if (sorted.length > max) out.push("", `${sorted.length - max} more findings are not listed here.`);
  }
  if (s.model) out.push("", ...renderModelTable(s.model.result, s.model.catalog));
  if (opts.notes && opts.notes.length > 0) out.push("", ...opts.notes);
  out.push("", SUMMARY_MARKER);
  return out.join("\n");
}
