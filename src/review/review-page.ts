import type { Severity } from "../analysis/rules/schema.js";
import type { ResultCategory } from "../model/messages.js";
import type { FileDiff } from "../patch/diff.js";
import { worstOf } from "./finding.js";
import { configJson, type ConfigJson } from "./model-findings.js";
import type { SeriesReview } from "./review-series.js";

/**
 * What a review page shows, kept by the channel when it reviews a series: plain data, so that
 * the page is the same after a restart and needs neither the archive nor the forge to render.
 * Here in the core because the store keeps it and publish/pages renders it: neither owns it.
 */
export interface ReviewPage {
  readonly seriesId: string;
  readonly title: string;
  readonly revision: number;
  readonly total: number;
  readonly author: string;
  /** The series' own date (archive fact), ISO; undefined when it had none. */
  readonly date: string | undefined;
  /** mail, github, gitlab */
  readonly channel: string;
  /** The mirror's list name, or the forge's project. */
  readonly place: string;
  readonly verdict: PageVerdict;
  readonly missing: readonly number[];
  readonly patches: readonly PagePatch[];
  readonly model: PageModel | undefined;
  /** Diff lines left out past MAX_DIFF_LINES, so that one huge series does not bloat the store. */
  readonly diffLinesDropped: number;
}

/** The worst severity found, or `clean`; `out-of-scope` when no patch touches the dma-buf surface. */
export type PageVerdict = Severity | "clean" | "out-of-scope";
export const PAGE_VERDICTS: readonly PageVerdict[] = ["error", "warning", "info", "clean", "out-of-scope"];

export interface PageFinding {
  readonly rule: string;
  readonly severity: Severity;
  readonly file: string;
  readonly line: number;
  readonly message: string;
  readonly evidence: readonly string[];
  readonly details: readonly string[];
}

export interface PageLine {
  readonly type: "+" | "-" | " ";
  readonly text: string;
  readonly oldLine: number | undefined;
  readonly newLine: number | undefined;
}

export interface PageFile {
  readonly path: string;
  readonly status: FileDiff["status"];
  readonly hunks: readonly { readonly heading: string; readonly lines: readonly PageLine[] }[];
}

export interface PagePatch {
  readonly index: number;
  readonly subject: string;
  readonly messageId: string;
  readonly outOfScope: boolean;
  readonly findings: readonly PageFinding[];
  readonly files: readonly PageFile[];
}

/** One configuration the series changes (or leaves broken), as a grid cell: its JSON form, trace cut. */
export interface PageCell extends ConfigJson {
  /** Which of the model's lists it came from: falsePositives, fixed, missed, ... */
  readonly category: ResultCategory["key"];
}

export interface PageModel {
  readonly catalog: string;
  readonly evaluated: number;
  readonly cells: readonly PageCell[];
}

/** The feedback tracker across revisions as a page shows it, read from the store. */
export interface PageTracker {
  readonly revisions: readonly { readonly seriesId: string; readonly revision: number | undefined }[];
  readonly items: readonly {
    readonly itemId: string;
    readonly author: string;
    readonly version: number;
    readonly patch: string;
    readonly kind: string;
    readonly text: string;
    readonly verdicts: Readonly<Record<string, string>>;
  }[];
}

/** One row of the list of reviewed series. */
export interface ListedReview {
  readonly seriesId: string;
  readonly channel: string;
  readonly place: string;
  readonly title: string;
  readonly revision: number;
  readonly author: string;
  readonly verdict: string;
  readonly findings: number;
  readonly dated: string;
}

/** A diff past this many lines is cut: the page says how many were left out. */
export const MAX_DIFF_LINES = 20_000;
/** Trace lines kept per cell: the decisive lines come last, a cell rarely needs more. */
export const MAX_TRACE_LINES = 40;

/** The page of one reviewed series revision, from its review and where it was read. */
export function reviewPage(r: SeriesReview, where: { readonly channel: string; readonly place: string }): ReviewPage {
  const s = r.series;
  let budget = MAX_DIFF_LINES;
  let dropped = 0;
  const files = (list: readonly FileDiff[]): PageFile[] =>
    list.map((f) => ({
      path: f.path,
      status: f.status,
      hunks: f.hunks.map((h) => {
        const keep = Math.max(0, Math.min(budget, h.lines.length));
        budget -= keep;
        dropped += h.lines.length - keep;
        return {
          heading: h.heading,
          lines: h.lines.slice(0, keep).map((l) => ({ type: l.type, text: l.text, oldLine: l.oldLine, newLine: l.newLine })),
        };
      }),
    }));
  const patches = r.patches.map(
    (p): PagePatch => ({
      index: p.index,
      subject: p.message.subject,
      messageId: p.message.messageId,
      outOfScope: p.outOfScope,
      findings: p.findings.map((f) => ({
        rule: f.rule,
        severity: f.severity,
        file: f.file,
        line: f.line,
        message: f.message,
        evidence: f.evidence,
        details: f.details ?? [],
      })),
      files: files(p.message.files),
    }),
  );
  const result = r.model?.result;
  const cells = result
    ? result.categories.flatMap(({ key }) => result[key].map((c): PageCell => ({ ...configJson(c), trace: cutTrace(c.trace), category: key })))
    : [];
  return {
    seriesId: s.id,
    title: s.title,
    revision: s.revision,
    total: s.total,
    author: `${s.author.name} <${s.author.email}>`,
    date: s.date?.toISOString(),
    channel: where.channel,
    place: where.place,
    verdict: verdictOf(r),
    missing: s.missing,
    patches,
    model: r.model && result ? { catalog: r.model.catalog, evaluated: result.evaluated, cells } : undefined,
    diffLinesDropped: dropped,
  };
}

/** A trace cut to MAX_TRACE_LINES, keeping its last line: the one that decides the outcome. */
export function cutTrace(trace: readonly string[]): readonly string[] {
  return trace.length > MAX_TRACE_LINES ? [...trace.slice(0, MAX_TRACE_LINES - 2), "…", trace[trace.length - 1]!] : trace;
}

function verdictOf(r: SeriesReview): PageVerdict {
  const worst = worstOf(r.patches.flatMap((p) => p.findings));
  if (worst) return worst;
  return r.patches.every((p) => p.outOfScope) ? "out-of-scope" : "clean";
}
