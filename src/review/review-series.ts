import { pairAcrossFiles, type FileTouches, type Touch, type UnplacedHunk } from "../analysis/touch.js";
import { matchFixes, matchRules, type Rule, type RuleMatch, type SeriesTouch } from "../analysis/rules/match.js";
import { isMinorPath } from "../analysis/vocabulary.js";
import { resvEvidence } from "../analysis/catalog/lock-context.js";
import type { CParser } from "../patch/c-source.js";
import type { FileDiff, Hunk } from "../patch/diff.js";
import type { Message } from "../patch/message.js";
import type { Series } from "../patch/series.js";
import type { Finding } from "./finding.js";
import { fingerprint } from "./fingerprint.js";
import { effectsOf, type PatchMatch } from "../analysis/effects.js";
import type { Catalog } from "../model/catalog.js";
import { compareOutcomes, type ModelResult } from "../model/compare.js";
import type { ExploreCache } from "../model/evaluate.js";
import { modelFindings } from "./model-findings.js";
import { seriesCode } from "../model/code/functions.js";
import { ClassifiedFiles } from "./classified-files.js";

/** The coherency model a review runs against: its catalog and a search cache shared across series. */
export interface ModelContext {
  readonly catalog: Catalog;
  readonly cache: ExploreCache;
}

export interface PatchReview {
  readonly message: Message;
  readonly index: number;
  readonly total: number;
  readonly files: readonly FileTouches[];
  readonly touches: readonly Touch[];
  readonly findings: readonly Finding[];
  readonly unplaced: readonly UnplacedHunk[];
  /** No file of the patch touches the dma-buf surface. */
  readonly outOfScope: boolean;
  /** In scope, but only comments or documentation changed. */
  readonly docOnly: boolean;
}

export interface SeriesReview {
  readonly series: Series;
  readonly patches: readonly PatchReview[];
  /** The before/after comparison, when the series changes something the model knows. */
  readonly model: { readonly catalog: string; readonly result: ModelResult } | undefined;
}

/**
 * The series works on the dma-buf surface: a file in one of its areas (or an exporter driver
 * with dma_buf_ops), or a finding. A driver file that is in scope only because a line names
 * `coherent` is not enough: that superset is for not missing a flag, not for speaking up.
 */
export function touchesDmaBuf(r: SeriesReview): boolean {
  return r.patches.some((p) => p.findings.length > 0 || p.files.some((f) => f.inScope && f.area !== "other"));
}

// One per process, bounded: the revisions of a series share most of their files.
const classifiedFiles = new ClassifiedFiles();

/**
 * Review one series as a whole: classify every patch, then match rules with the series'
 * touches in view, so a flag added in one patch and set in another is judged together.
 */
export function reviewSeries(series: Series, rules: readonly Rule[], parser: CParser, model?: ModelContext): SeriesReview {
  // The functions the series defines: a gate through a helper in another file is still a gate.
  const code = seriesCode(series.slots.flatMap((m, i) => (m ? [{ patch: i + 1, files: m.files }] : [])));
  const fresh = new Set<string>();
  const classified = series.slots.flatMap((m, i) =>
    m ? [{ message: m, index: i + 1, files: pairAcrossFiles(m.files.map((f) => classifiedFiles.classify(f, parser, fresh, code.functions))) }] : [],
  );
  const seriesTouches: SeriesTouch[] = classified.flatMap((p) =>
    p.files.flatMap((file) => file.touches.map((touch) => ({ touch, patch: p.index, file }))),
  );
  // Every file, in scope or not: a header of the series may define the lock wrapper a driver calls.
  const seriesFiles = classified.flatMap((p) => p.files);
  const perPatch = classified.map((p) => {
    const inScope = p.files.filter((f) => f.inScope);
    return { p, inScope, matches: matchRules(rules, inScope, seriesTouches, seriesFiles), fixes: matchFixes(rules, inScope) };
  });

  let modelResult: ModelResult | undefined;
  const extra = new Map<number, Finding[]>();
  if (model) {
    const all: PatchMatch[] = perPatch.flatMap(({ p, matches }) => matches.map((match) => ({ match, patch: p.index })));
    const effects = effectsOf(all, model.catalog, parser, seriesTouches, code);
    if (effects.length > 0) {
      modelResult = compareOutcomes(model.catalog, effects, model.cache);
      const quotes = new Map(all.map((m) => [`${m.patch}|${m.match.touch.file}|${m.match.touch.line}`, m]));
      const quoteOf = (s: { patch: number; file: string; line: number }) => {
        const m = quotes.get(`${s.patch}|${s.file}|${s.line}`);
        const files = classified.find((c) => c.index === s.patch)?.message.files ?? [];
        return m ? quoteFor(files, m.match.touch) : [];
      };
      for (const f of modelFindings(modelResult, model.catalog, quoteOf)) {
        const list = extra.get(f.patch);
        if (list) list.push(f);
        else extra.set(f.patch, [f]);
      }
    }
  }

  const patches = perPatch.map(({ p, inScope, matches, fixes }): PatchReview => {
    const findings = [
      ...matches.map((m) => toFinding(m, p.message.files, p.index, series.total)),
      ...fixes.map((m) => toFinding(m, p.message.files, p.index, series.total)),
      ...(extra.get(p.index) ?? []),
    ].map(scoped);
    findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.rule.localeCompare(b.rule));
    return {
      message: p.message,
      index: p.index,
      total: series.total,
      files: p.files,
      touches: inScope.flatMap((f) => f.touches),
      findings,
      unplaced: inScope.flatMap((f) => f.unplaced),
      outOfScope: inScope.length === 0,
      docOnly: inScope.length > 0 && inScope.every((f) => f.docOnly),
    };
  });
  return { series, patches, model: modelResult && model ? { catalog: model.catalog.version, result: modelResult } : undefined };
}

/**
 * Selftests, documentation, tools and samples ship in no kernel that shares a buffer: what the
 * bot sees there is worth a note, never a warning.
 */
function scoped(f: Finding): Finding {
  if (f.severity === "info" || !isMinorPath(f.file)) return f;
  return { ...f, severity: "info", evidence: [...f.evidence, `at most info: ${f.file} is test, documentation, tool or sample code`] };
}

function fill(template: string, m: RuleMatch, total: number): string {
  const t = m.fixed ?? m.touch;
  const w = m.with?.touch;
  const values: Record<string, string | undefined> = {
    name: t.name,
    kind: t.kind,
    file: t.file,
    line: String(t.line),
    function: t.function ? `${t.function}()` : "this code",
    member: t.member,
    detail: t.detail,
    condition: t.condition,
    value: t.value,
    change: t.change,
    area: t.area,
    resv: resvEvidence(t),
    "with.patch": m.with ? `${m.with.patch}/${total}` : undefined,
    "with.file": w?.file,
    "with.line": w ? String(w.line) : undefined,
    // A gate the parser could not place in a function is named by where it is, never left as "{with.function}".
    "with.function": w ? (w.function ? `${w.function}()` : `${w.file}:${w.line}`) : undefined,
    "with.detail": w?.detail,
    "with.name": w?.name,
    "with.value": w?.value,
  };
  return template
    .replace(/\{([\w.]+)\}/g, (all, key: string) => values[key] ?? all)
    .replace(/\s+/g, " ")
    .trim();
}

/** Where each line of a patch's diff is, by file and side: a finding finds its lines without a scan of the hunks. */
const lineIndex = new WeakMap<readonly FileDiff[], Map<string, { hunk: Hunk; at: number }>>();

function lineKey(path: string, change: Touch["change"], line: number | undefined): string {
  return `${change === "removed" ? "-" : "+"}${line}|${path}`;
}

function findLine(files: readonly FileDiff[], t: Touch): { hunk: Hunk; at: number } | undefined {
  let index = lineIndex.get(files);
  if (!index) {
    index = new Map();
    const seen = new Set<string>();
    for (const file of files) {
      // The first file of a path is the one a touch names.
      if (seen.has(file.path)) continue;
      seen.add(file.path);
      for (const hunk of file.hunks) {
        hunk.lines.forEach((l, at) => {
          const k = l.type === "-" ? lineKey(file.path, "removed", l.oldLine) : lineKey(file.path, "added", l.newLine);
          if (!index!.has(k)) index!.set(k, { hunk, at });
        });
      }
    }
    lineIndex.set(files, index);
  }
  return index.get(lineKey(t.file, t.change, t.change === "removed" ? t.oldLine : t.line));
}

/** The changed line a finding is about, and the rest of its statement. */
function quoteFor(files: readonly FileDiff[], t: Touch): string[] {
  const found = findLine(files, t);
  if (!found) return [`${t.change === "removed" ? "-" : "+"}${t.code}`];
  const { hunk, at } = found;
  const type = hunk.lines[at]!.type;
  const out: string[] = [];
  let depth = 0;
  let header = false;
  for (let i = at; i < hunk.lines.length && out.length < 5; i++) {
    const l = hunk.lines[i]!;
    if (i > at && l.type !== type) break;
    out.push(`${l.type}${l.text}`);
    const s = l.text.trim();
    depth += (s.match(/\(/g) ?? []).length - (s.match(/\)/g) ?? []).length;
    if (i === at) header = /^(\}\s*else\s+)?(if|for|while|else)\b/.test(s);
    if (depth > 0) continue; // arguments or a condition continue on the next line
    // A braceless `if`/`for` header is quoted with the one statement it controls.
    if (header && !/[;{]$/.test(s)) {
      header = false;
      continue;
    }
    break;
  }
  return out;
}

function evidenceFor(m: RuleMatch, total: number): string[] {
  const t = m.touch;
  const where = `${t.file}:${t.line}${t.function ? ` in ${t.function}()` : ""}`;
  const how = t.placement === "heading" ? " (function from the hunk heading)" : "";
  // A fix around an unchanged line reports that line itself: it is context, not a change.
  const change = m.around ? "unchanged" : t.change;
  const ev = [`${change} ${t.kind.replace("-", " ")} ${t.name} at ${where}${how}: ${t.detail}`];
  if (t.member) ev.push(`the code belongs to dma_buf_ops.${t.member}`);
  if (m.with) {
    const w = m.with.touch;
    ev.push(`patch ${m.with.patch}/${total}: ${w.change} ${w.kind.replace("-", " ")} at ${w.file}:${w.line}${w.function ? ` in ${w.function}()` : ""}: ${w.detail}`);
  }
  return ev;
}

function toFinding(m: RuleMatch, files: readonly FileDiff[], patch: number, total: number): Finding {
  const d = m.rule.doc;
  const rule = m.fixed ? `fixed/${d.id}` : d.id;
  return {
    rule,
    title: m.fixed ? `fixed: ${d.title}` : d.title,
    severity: m.fixed ? "info" : d.severity,
    risk: d.risk,
    file: m.touch.file,
    line: m.touch.line,
    function: m.touch.function,
    message: m.fixed ? `The patch removes what ${d.id} warns about. Before it: ${fill(d.message, m, total)}` : fill(d.message, m, total),
    evidence:
      m.fixed && !m.around
        ? [`${m.fixed.kind.replace("-", " ")} ${m.fixed.name} before the patch: ${m.fixed.code.trim()}`, ...evidenceFor(m, total)]
        : evidenceFor(m, total),
    quote: quoteFor(files, m.touch),
    references: d.references,
    fingerprint: fingerprint({ rule, file: m.touch.file, function: m.touch.function, code: m.touch.code }),
    patch,
  };
}
