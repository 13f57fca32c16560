import type { Catalog } from "../model/catalog.js";
import type { ConfigChange, ModelResult } from "../model/compare.js";
import { baseId, type Effect, type EffectSource } from "../model/effect.js";
import { show } from "../model/predicate.js";
import type { Finding } from "./finding.js";
import { fingerprint } from "./fingerprint.js";

/** The model result as the JSON contract spells it. */
export interface ModelJson {
  readonly evaluated: number;
  readonly falsePositives: readonly ConfigJson[];
  readonly fixed: readonly ConfigJson[];
  readonly missed: readonly ConfigJson[];
  readonly newHazards: readonly ConfigJson[];
  readonly userspace: readonly ConfigJson[];
  readonly slower: readonly ConfigJson[];
  readonly introduced: readonly ConfigJson[];
}

/** A configuration change as the JSON carries it: one trace, the one that explains it. */
export type ConfigJson = Omit<ConfigChange, "beforeTrace" | "afterTrace">;

/** The JSON keeps one trace per configuration: the one that explains the entry. */
function toJson(c: ConfigChange): ConfigJson {
  return {
    exporter: c.exporter,
    importer: c.importer,
    platform: c.platform,
    pattern: c.pattern,
    before: c.before,
    after: c.after,
    trace: c.trace,
    ...(c.cause ? { cause: c.cause } : {}),
    ...(c.entryPoints ? { entryPoints: c.entryPoints } : {}),
    ...(c.dependsOn ? { dependsOn: c.dependsOn } : {}),
  };
}

type Category = "falsePositives" | "fixed" | "missed" | "newHazards" | "userspace" | "slower" | "introduced";
const CATEGORIES: readonly Category[] = ["falsePositives", "userspace", "newHazards", "missed", "fixed", "slower"];


export function modelJson(r: Pick<ModelResult, Category | "evaluated">): ModelJson {
  return {
    evaluated: r.evaluated,
    falsePositives: r.falsePositives.map(toJson),
    fixed: r.fixed.map(toJson),
    missed: r.missed.map(toJson),
    newHazards: r.newHazards.map(toJson),
    userspace: r.userspace.map(toJson),
    slower: r.slower.map(toJson),
    introduced: r.introduced.map(toJson),
  };
}

function sameSource(a: EffectSource, b: EffectSource): boolean {
  return a.patch === b.patch && a.file === b.file && a.line === b.line;
}

/**
 * Which effect a changed configuration is owed to: a new or lost rejection to the gate, any
 * other change to the effect that touched its exporter or importer.
 */
export function owner(c: ConfigChange, effects: readonly Effect[]): Effect | undefined {
  const us = effects.find(
    (e) =>
      e.kind === "userspace-misuse" &&
      e.misuse === c.pattern &&
      (!e.exporters || e.exporters.includes(c.exporter)) &&
      (!e.importers || e.importers.includes(c.importer)),
  );
  if (us) return us;
  const added = effects.find((e) => e.kind === "new-exporter" && e.derived.exporter.id === baseId(c.exporter));
  if (added) return added;
  if (c.before === "rejected" && c.after === "rejected") {
    return effects.find((e) => e.kind === "import-refusable" && (!e.importers || e.importers.includes(c.importer)));
  }
  const rejectionChanged = (c.before === "rejected") !== (c.after === "rejected");
  if (rejectionChanged) return effects.find((e) => e.kind === "gate");
  return (
    effects.find((e) => e.kind === "exporter" && e.exporters.includes(c.exporter)) ??
    effects.find((e) => e.kind === "importer-bracketing" && e.importers.includes(c.importer)) ??
    effects.find((e) => e.kind === "gate")
  );
}

/** Rank for "most telling": per-attachment causes, bracketed patterns and arm64 first. */
function telling(c: ConfigChange, catalog: Catalog): number {
  const pattern = catalog.patterns.find((p) => p.id === c.pattern);
  const imp = catalog.importers.find((i) => i.id === c.importer);
  return (
    (c.cause?.startsWith("coherency is decided per attachment") ? 0 : 10) +
    (pattern?.bracketed ? 0 : 5) +
    (c.platform === "arm64" ? 0 : 2) +
    (imp?.inferred ? 1 : 0)
  );
}

function name(catalog: Catalog, kind: "exporter" | "importer", id: string): string {
  const list = kind === "exporter" ? catalog.exporters : catalog.importers;
  return list.find((x) => x.id === id)?.name ?? id;
}

function patternName(catalog: Catalog, id: string): string {
  return catalog.patterns.find((p) => p.id === id)?.name ?? id;
}

/** The line of a trace that decides an outcome: the failing read, or the sync that made it work. */
function decisive(c: ConfigChange, side: "before" | "after"): string | undefined {
  const kind = side === "before" ? c.before : c.after;
  const trace = side === "before" ? c.beforeTrace : c.afterTrace;
  if (kind === "rejected" || kind === "stale-read" || kind === "lost-write") return trace[trace.length - 1];
  // What made it work: the invalidate before a CPU read, else the clean or snoop before a device read.
  const useful = trace.filter((t) => !/no-op|no cache maintenance/.test(t));
  const pick = (re: RegExp) => useful.find((t) => re.test(t));
  return (
    (trace.some((t) => /CPU reads/.test(t)) ? pick(/for_cpu.*invalidate|flushes all CPU caches/) : undefined) ??
    pick(/for_device.*clean|snoop|flushes all CPU caches|\((wc|uncached)\)/) ??
    trace[trace.length - 1]
  );
}

/** A few configurations quoted with before/after and the trace lines that decide them. */
function quoteConfigs(list: readonly ConfigChange[], catalog: Catalog, n: number, labels: readonly [string, string] = ["today", "after"]): string[] {
  const out: string[] = [];
  const importers = new Set<string>();
  const exporters = new Set<string>();
  const sorted = [...list].sort((a, b) => telling(a, catalog) - telling(b, catalog));
  // Prefer examples that differ in importer and exporter: two sides of the problem, not one twice.
  const picked: ConfigChange[] = [];
  for (const c of sorted) {
    if (picked.length >= n) break;
    if (importers.has(c.importer) || exporters.has(c.exporter)) continue;
    picked.push(c);
    importers.add(c.importer);
    exporters.add(c.exporter);
  }
  for (const c of sorted) if (picked.length < n && !picked.includes(c)) picked.push(c);
  for (const c of picked) {
    const refused = c.before === "rejected" && c.after === "rejected";
    out.push(`${c.exporter} -> ${c.importer} (${c.platform})${refused ? "" : `, ${patternName(catalog, c.pattern)}`}:`);
    const b = decisive(c, "before");
    const a = decisive(c, "after");
    if (c.before === "rejected" && c.after === "rejected") out.push(`  ${c.after} (${a ?? ""})`);
    else {
      out.push(`  ${labels[0]}: ${c.before}${b ? ` (${b})` : ""}`);
      out.push(`  ${labels[1]}: ${c.after}${a ? ` (${a})` : ""}`);
    }
    if (c.cause) out.push(`  ${c.cause}`);
  }
  return out;
}

function distinct<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

/** "a, b, c, d, e and 4 more": a list a reviewer can read in one breath. */
function few(xs: readonly string[], n = 5): string {
  const d = distinct(xs);
  return d.length <= n ? d.join(", ") : `${d.slice(0, n).join(", ")} and ${d.length - n} more`;
}

function attachments(list: readonly ConfigChange[]): number {
  return new Set(list.map((c) => `${c.exporter}|${c.importer}|${c.platform}`)).size;
}

/** False positives an exporter could vouch for, had it a way to override the flag. */
function overridable(list: readonly ConfigChange[]): string {
  const n = list.filter((c) => /memory: no CPU cache line|begin\/end_cpu_access do cache maintenance/.test(c.cause ?? "")).length;
  return n > 0
    ? ` ${n} come from exporters that know the attachment is safe (uncached or write-combined memory, or cache maintenance in begin/end_cpu_access) and have no way to override the flag.`
    : "";
}

interface Scoped {
  readonly source: EffectSource;
  readonly effect: Effect;
  readonly result: Pick<ModelResult, Category | "evaluated">;
}

/** Split the series result by the effect each change is owed to. */
function scope(result: ModelResult): Scoped[] {
  const out: Scoped[] = [];
  const primary = result.effects.filter((e) => e.kind !== "not-modelled" && e.kind !== "flag");
  for (const effect of primary) {
    const pick = (list: readonly ConfigChange[]) => list.filter((c) => owner(c, result.effects) === effect);
    out.push({
      source: effect.source,
      effect,
      result: {
        evaluated: result.evaluated,
        falsePositives: pick(result.falsePositives),
        fixed: pick(result.fixed),
        missed: pick(result.missed),
        newHazards: pick(result.newHazards),
        userspace: pick(result.userspace),
        slower: pick(result.slower),
        introduced: pick(result.introduced),
      },
    });
  }
  return out.filter((s, i) => out.findIndex((o) => sameSource(o.source, s.source)) === i);
}

function finding(
  rule: string,
  severity: Finding["severity"],
  risk: Finding["risk"],
  source: EffectSource,
  message: string,
  details: string[],
  evidence: string[],
  model: ModelJson | undefined,
  quote: readonly string[],
): Finding {
  return {
    rule,
    title: rule,
    severity,
    risk,
    file: source.file,
    line: source.line,
    function: undefined,
    message,
    evidence,
    quote,
    references: [{ doc: "dmabuf-review coherency model (rules/catalog), see README 'The coherency model'" }],
    fingerprint: fingerprint({ rule, file: source.file, function: undefined, code: source.detail }),
    patch: source.patch,
    details,
    ...(model ? { model } : {}),
  };
}

/**
 * Findings that carry the model's verdict, each on the line whose effect caused it. Numbers
 * and configurations come from the before/after comparison, never from rule text.
 */
export function modelFindings(result: ModelResult, catalog: Catalog, quoteOf: (s: EffectSource) => readonly string[]): Finding[] {
  const out: Finding[] = [];
  const ev = (s: EffectSource) => [`model effect from ${s.rule} at ${s.file}:${s.line}: ${s.detail}`, `catalog ${catalog.version}, ${result.evaluated} configurations evaluated before and after the series`];
  for (const s of scope(result)) {
    const r = s.result;
    const json = modelJson(r);
    const q = quoteOf(s.source);
    if (s.effect.kind === "new-exporter") {
      out.push(derivedFinding(s.effect, r, catalog, json, ev(s.source), q));
      continue;
    }
    if (s.effect.kind === "userspace-misuse" || s.effect.kind === "import-refusable") {
      out.push(...userspaceFindings(s.effect, r, catalog, json, ev(s.source), q));
      continue;
    }
    const what = s.effect.kind === "gate" ? `the check (${show(s.effect.predicate)} -> ${s.effect.error})` : "this change";
    if (r.falsePositives.length > 0) {
      const perAttachment = r.falsePositives.filter((c) => c.cause?.startsWith("coherency is decided per attachment"));
      const importers = distinct(perAttachment.map((c) => name(catalog, "importer", c.importer)));
      out.push(
        finding(
          "model/false-positive",
          "warning",
          "false-positive",
          s.source,
          `With the series applied, ${what} rejects ${r.falsePositives.length} configurations (${attachments(r.falsePositives)} exporter/importer/platform attachments) that work today with correct DMA_BUF_IOCTL_SYNC bracketing.` +
            (perAttachment.length > 0
              ? ` ${perAttachment.length} of them are refused only because dev_is_dma_coherent() answers for the whole device while coherency is decided per attachment (${few(importers)}).`
              : "") +
            overridable(r.falsePositives) +
            ` The most telling:`,
          quoteConfigs(r.falsePositives, catalog, 2),
          ev(s.source),
          json,
          q,
        ),
      );
    }
    if (r.userspace.length > 0) {
      const entry = distinct(r.userspace.flatMap((c) => c.entryPoints ?? []));
      out.push(
        finding(
          "model/userspace-regression",
          "error",
          "userspace-regression",
          s.source,
          `${r.userspace.length} attachments that succeed today fail after the series; userspace sees the error from ${entry.join(", ")}. Existing compositors and media pipelines treat that as fatal or fall back to a CPU copy.`,
          [],
          ev(s.source),
          json,
          q,
        ),
      );
    }
    if (r.newHazards.length > 0) {
      out.push(
        finding(
          "model/new-hazard",
          "error",
          r.newHazards.some((c) => c.after === "lost-write") ? "lost-write" : "stale-read",
          s.source,
          `${what[0]!.toUpperCase()}${what.slice(1)} makes ${r.newHazards.length} configurations that are correct today read stale data or lose writes. The most telling:`,
          quoteConfigs(r.newHazards, catalog, 2),
          ev(s.source),
          json,
          q,
        ),
      );
    }
    if (r.missed.length > 0) {
      out.push(
        finding(
          "model/hazard-left-open",
          "warning",
          r.missed.some((c) => c.after === "lost-write") ? "lost-write" : "stale-read",
          s.source,
          `${r.missed.length} configurations that corrupt data today still do after the series with every CPU access bracketed (exporters: ${few(r.missed.map((c) => c.exporter))}). For example:`,
          quoteConfigs(r.missed, catalog, 1),
          ev(s.source),
          json,
          q,
        ),
      );
    }
    if (r.fixed.length > 0) {
      out.push(
        finding(
          "model/fixed",
          "info",
          "stale-read",
          s.source,
          `${what[0]!.toUpperCase()}${what.slice(1)} removes ${r.fixed.length} configurations that corrupt data today (${r.fixed.filter((c) => c.after === "rejected").length} by rejecting the attachment, ${r.fixed.filter((c) => c.after !== "rejected").length} by making it correct). For example:`,
          quoteConfigs(r.fixed, catalog, 1),
          ev(s.source),
          json,
          q,
        ),
      );
    }
    if (r.slower.length > 0) {
      out.push(
        finding("model/slower", "warning", "performance", s.source, `${r.slower.length} configurations stay correct but become slow (uncached CPU access or a migration). For example:`, quoteConfigs(r.slower, catalog, 1), ev(s.source), json, q),
      );
    }
  }
  // A flag-setting patch learns which of the rejections come from the buffers it marks.
  for (const e of result.effects) {
    if (e.kind !== "flag") continue;
    const mine = result.falsePositives.filter((c) => e.exporters.includes(c.exporter));
    if (mine.length === 0) continue;
    out.push(
      finding(
        "model/false-positive",
        "warning",
        "false-positive",
        e.source,
        `${mine.length} of the series' false positives are buffers this line marks coherent (${few(mine.map((c) => c.exporter))}). The most telling:`,
        quoteConfigs(mine, catalog, 1),
        ev(e.source),
        modelJson({ ...result, falsePositives: mine, fixed: [], missed: [], newHazards: [], userspace: [], slower: [], introduced: [] }),
        quoteOf(e.source),
      ),
    );
  }
  for (const e of result.effects) {
    if (e.kind !== "not-modelled") continue;
    out.push(finding("model/not-modelled", "info", "missing-sync", e.source, `Could not model this change: ${e.reason}. No model claim is made for it.`, [], [`matched by ${e.source.rule}: ${e.source.detail}`], undefined, quoteOf(e.source)));
  }
  return out;
}

function parties(ids: readonly string[] | undefined, kind: string): string {
  return ids ? `${kind} ${few(ids)}` : `every ${kind} in the catalog (the code does not say which)`;
}

/** Userspace code: what its misuse corrupts, and which imports the kernel already refuses. */
function userspaceFindings(
  effect: Extract<Effect, { kind: "userspace-misuse" | "import-refusable" }>,
  r: Pick<ModelResult, Category | "evaluated">,
  catalog: Catalog,
  json: ModelJson,
  evidence: string[],
  quote: readonly string[],
): Finding[] {
  if (effect.kind === "userspace-misuse") {
    if (r.newHazards.length === 0) return [];
    const correct = patternName(catalog, effect.correct);
    return [
      finding(
        "model/userspace-hazard",
        "warning",
        r.newHazards.some((c) => c.after === "lost-write") ? "lost-write" : "stale-read",
        effect.source,
        `As written, this access corrupts ${r.newHazards.length} configurations (${attachments(r.newHazards)} exporter/importer/platform combinations; ${parties(effect.exporters, "exporter")}; ${parties(effect.importers, "importer")}) that are correct with the documented use: ${correct}. The most telling:`,
        quoteConfigs(r.newHazards, catalog, 2, ["with SYNC", "as written"]),
        evidence,
        json,
        quote,
      ),
    ];
  }
  if (r.userspace.length === 0) return [];
  return [
    finding(
      "model/import-refused-today",
      "warning",
      "userspace-regression",
      effect.source,
      `The kernel refuses this import today for ${r.userspace.length} exporter/importer/platform combinations (${parties(effect.importers, "importer")}), and a future coherency check would add more; without a fallback the user gets an error instead of a picture. For example:`,
      quoteConfigs(r.userspace, catalog, 2),
      evidence,
      json,
      quote,
    ),
  ];
}

/** A new exporter: the entry the model read from its code, and how the matrix fares with it. */
function derivedFinding(
  effect: Extract<Effect, { kind: "new-exporter" }>,
  r: Pick<ModelResult, Category | "evaluated">,
  catalog: Catalog,
  json: ModelJson,
  evidence: string[],
  quote: readonly string[],
): Finding {
  const d = effect.derived;
  const counts = new Map<string, number>();
  for (const c of r.introduced) counts.set(c.after, (counts.get(c.after) ?? 0) + 1);
  const outcomes = [...counts].map(([k, n]) => `${n} ${k}`).join(", ");
  const depends = r.introduced.filter((c) => c.dependsOn).length;
  const unknown =
    d.unknown.length === 0
      ? ""
      : ` The code does not show ${d.unknown.map((u) => `${u.part} (${u.reason})`).join("; ")}: the matrix ran over its possible values; ${depends} results depend on it, the rest hold for every value.`;
  const hazards = r.newHazards;
  const known = { ...catalog, exporters: [...catalog.exporters, ...effect.variants, d.exporter] };
  return finding(
    "model/derived-exporter",
    hazards.length > 0 ? "warning" : "info",
    hazards.some((c) => c.after === "lost-write") ? "lost-write" : hazards.length > 0 ? "stale-read" : "missing-sync",
    effect.source,
    `${d.exporter.name} is a new exporter; the model read its entry from the code (${d.evidence.join("; ")}). ` +
      `${r.introduced.length} configurations evaluated: ${outcomes}; ${hazards.length} of them corrupt data although userspace brackets every access.${unknown}` +
      (hazards.length > 0 ? " The most telling:" : ""),
    hazards.length > 0 ? quoteConfigs(hazards, known, 2, ["before", "with the series"]) : [],
    evidence,
    json,
    quote,
  );
}
