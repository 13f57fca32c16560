import type { Catalog } from "../model/catalog.js";
import type { ConfigChange, ModelResult } from "../model/compare.js";
import { baseId, type Effect, type EffectSource } from "../model/effect.js";
import { fillMessage, message, type ModelTexts, type ResultCategory } from "../model/messages.js";
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
export function configJson(c: ConfigChange): ConfigJson {
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

type Category = ResultCategory["key"];


export function modelJson(r: Pick<ModelResult, Category | "evaluated">): ModelJson {
  return {
    evaluated: r.evaluated,
    falsePositives: r.falsePositives.map(configJson),
    fixed: r.fixed.map(configJson),
    missed: r.missed.map(configJson),
    newHazards: r.newHazards.map(configJson),
    userspace: r.userspace.map(configJson),
    slower: r.slower.map(configJson),
    introduced: r.introduced.map(configJson),
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
    (c.causeId === "cause-per-attachment" ? 0 : 10) +
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

/** A finding opened by a model message: its rule, severity and risk come with the text. */
function finding(
  texts: ModelTexts,
  id: string,
  values: Readonly<Record<string, string | number>>,
  source: EffectSource,
  details: string[],
  evidence: string[],
  model: ModelJson | undefined,
  quote: readonly string[],
  risk?: Finding["risk"],
): Finding {
  const m = message(texts, id);
  const rule = m.rule!;
  return {
    rule,
    title: rule,
    severity: m.severity!,
    risk: risk ?? m.risk!,
    file: source.file,
    line: source.line,
    function: undefined,
    message: fillMessage(texts, id, values),
    evidence,
    quote,
    references: [{ doc: "dmabuf-review coherency model (rules/catalog), see README 'The coherency model'" }],
    fingerprint: fingerprint({ rule, file: source.file, function: undefined, code: source.detail }),
    patch: source.patch,
    details,
    ...(model ? { model } : {}),
  };
}

/** A sentence added to a message when it has something to say, with the space before it. */
function clause(texts: ModelTexts, id: string, count: number, values: Readonly<Record<string, string | number>> = {}): string {
  return count > 0 ? ` ${fillMessage(texts, id, { count, ...values })}` : "";
}

function hazardRisk(list: readonly ConfigChange[]): Finding["risk"] {
  return list.some((c) => c.after === "lost-write") ? "lost-write" : "stale-read";
}

/**
 * Findings that carry the model's verdict, each on the line whose effect caused it. Numbers
 * and configurations come from the before/after comparison, texts from model-findings.yaml.
 */
export function modelFindings(result: ModelResult, catalog: Catalog, quoteOf: (s: EffectSource) => readonly string[]): Finding[] {
  const texts = catalog.texts;
  const out: Finding[] = [];
  const ev = (s: EffectSource) => [`model effect from ${s.rule} at ${s.file}:${s.line}: ${s.detail}`, `catalog ${catalog.version}, ${result.evaluated} configurations evaluated before and after the series`];
  for (const s of scope(result)) {
    const r = s.result;
    const json = modelJson(r);
    const q = quoteOf(s.source);
    const e = ev(s.source);
    if (s.effect.kind === "new-exporter") {
      out.push(derivedFinding(s.effect, r, catalog, json, e, q));
      continue;
    }
    if (s.effect.kind === "userspace-misuse" || s.effect.kind === "import-refusable") {
      out.push(...userspaceFindings(s.effect, r, catalog, json, e, q));
      continue;
    }
    const what = s.effect.kind === "gate" ? `the check (${show(s.effect.predicate)} -> ${s.effect.error})` : "this change";
    if (r.falsePositives.length > 0) {
      const perAttachment = r.falsePositives.filter((c) => c.causeId === "cause-per-attachment");
      const importers = distinct(perAttachment.map((c) => name(catalog, "importer", c.importer)));
      const vouch = r.falsePositives.filter((c) => c.causeId === "cause-uncached-memory" || c.causeId === "cause-exporter-syncs").length;
      out.push(
        finding(
          texts,
          "false-positive",
          {
            what,
            count: r.falsePositives.length,
            attachments: attachments(r.falsePositives),
            perAttachment: clause(texts, "false-positive-per-attachment", perAttachment.length, { importers: few(importers) }),
            overridable: clause(texts, "false-positive-overridable", vouch),
          },
          s.source,
          quoteConfigs(r.falsePositives, catalog, 2),
          e,
          json,
          q,
        ),
      );
    }
    if (r.userspace.length > 0) {
      const entry = distinct(r.userspace.flatMap((c) => c.entryPoints ?? []));
      out.push(finding(texts, "userspace-regression", { count: r.userspace.length, entryPoints: entry.join(", ") }, s.source, [], e, json, q));
    }
    if (r.newHazards.length > 0) {
      out.push(finding(texts, "new-hazard", { what, count: r.newHazards.length }, s.source, quoteConfigs(r.newHazards, catalog, 2), e, json, q, hazardRisk(r.newHazards)));
    }
    if (r.missed.length > 0) {
      const exporters = few(r.missed.map((c) => c.exporter));
      out.push(finding(texts, "hazard-left-open", { count: r.missed.length, exporters }, s.source, quoteConfigs(r.missed, catalog, 1), e, json, q, hazardRisk(r.missed)));
    }
    if (r.fixed.length > 0) {
      const rejected = r.fixed.filter((c) => c.after === "rejected").length;
      out.push(finding(texts, "fixed", { what, count: r.fixed.length, rejected, correct: r.fixed.length - rejected }, s.source, quoteConfigs(r.fixed, catalog, 1), e, json, q));
    }
    if (r.slower.length > 0) {
      out.push(finding(texts, "slower", { count: r.slower.length }, s.source, quoteConfigs(r.slower, catalog, 1), e, json, q));
    }
  }
  // A flag-setting patch learns which of the rejections come from the buffers it marks.
  for (const e of result.effects) {
    if (e.kind !== "flag") continue;
    // Refusals by a check that reads no coherency fact are not the flag's doing.
    const mine = result.falsePositives.filter((c) => e.exporters.includes(c.exporter) && c.causeId !== "cause-not-coherency");
    if (mine.length === 0) continue;
    const json = modelJson({ ...result, falsePositives: mine, fixed: [], missed: [], newHazards: [], userspace: [], slower: [], introduced: [] });
    out.push(finding(texts, "false-positive-flag", { count: mine.length, exporters: few(mine.map((c) => c.exporter)) }, e.source, quoteConfigs(mine, catalog, 1), ev(e.source), json, quoteOf(e.source)));
  }
  for (const e of result.effects) {
    if (e.kind !== "not-modelled") continue;
    out.push(finding(texts, "not-modelled", { reason: e.reason }, e.source, [], [`matched by ${e.source.rule}: ${e.source.detail}`], undefined, quoteOf(e.source)));
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
  const texts = catalog.texts;
  if (effect.kind === "userspace-misuse") {
    if (r.newHazards.length === 0) return [];
    const values = {
      count: r.newHazards.length,
      attachments: attachments(r.newHazards),
      exporters: parties(effect.exporters, "exporter"),
      importers: parties(effect.importers, "importer"),
      correct: patternName(catalog, effect.correct),
    };
    const details = quoteConfigs(r.newHazards, catalog, 2, ["with SYNC", "as written"]);
    return [finding(texts, "userspace-hazard", values, effect.source, details, evidence, json, quote, hazardRisk(r.newHazards))];
  }
  if (r.userspace.length === 0) return [];
  const values = { count: r.userspace.length, importers: parties(effect.importers, "importer") };
  return [finding(texts, "import-refused-today", values, effect.source, quoteConfigs(r.userspace, catalog, 2), evidence, json, quote)];
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
  const texts = catalog.texts;
  const d = effect.derived;
  const counts = new Map<string, number>();
  for (const c of r.introduced) counts.set(c.after, (counts.get(c.after) ?? 0) + 1);
  const hazards = r.newHazards;
  const unknown = clause(texts, "derived-exporter-unknown", d.unknown.length, {
    parts: d.unknown.map((u) => `${u.part} (${u.reason})`).join("; "),
    depends: r.introduced.filter((c) => c.dependsOn).length,
  });
  const values = {
    name: d.exporter.name,
    evidence: d.evidence.join("; "),
    count: r.introduced.length,
    outcomes: [...counts].map(([k, n]) => `${n} ${k}`).join(", "),
    hazards: hazards.length,
    unknown,
  };
  const known = { ...catalog, exporters: [...catalog.exporters, ...effect.variants, d.exporter] };
  if (hazards.length === 0) return finding(texts, "derived-exporter", values, effect.source, [], evidence, json, quote);
  const details = quoteConfigs(hazards, known, 2, ["before", "with the series"]);
  return finding(texts, "derived-exporter-hazards", values, effect.source, details, evidence, json, quote, hazardRisk(hazards));
}
