import type { Catalog } from "./catalog.js";
import { applyEffects, baseId, baseWorld, type Effect, type World } from "./effect.js";
import { evaluateAfter, evaluateWorld, rejection, type Evaluated, type ExploreCache } from "./evaluate.js";
import { factsOf, show, type Fact, type Predicate } from "./predicate.js";

/** The matrix without any patch is the same for every review: evaluate it once per catalog. */
const baseEvaluations = new WeakMap<Catalog, readonly Evaluated[]>();

function baseEvaluation(catalog: Catalog, cache: ExploreCache): readonly Evaluated[] {
  let e = baseEvaluations.get(catalog);
  if (!e) {
    e = evaluateWorld(baseWorld(catalog), cache);
    baseEvaluations.set(catalog, e);
  }
  return e;
}
import type { OutcomeKind } from "./explore.js";
import { fillMessage, type ResultCategory } from "./messages.js";

/** One configuration whose outcome the series changes (or leaves broken). */
export interface ConfigChange {
  readonly exporter: string;
  readonly importer: string;
  readonly platform: string;
  readonly pattern: string;
  /** `absent`: the exporter is new in the series, read from its code. */
  readonly before: OutcomeKind | "absent";
  readonly after: OutcomeKind;
  /** The trace that explains the entry: after's for new failures, before's for fixed ones. */
  readonly trace: readonly string[];
  readonly beforeTrace: readonly string[];
  readonly afterTrace: readonly string[];
  /** Why a rejection is a false positive (or a hazard survives), when the model can say. */
  readonly cause?: string;
  /** The message id of `cause` (rules/catalog/model-findings.yaml). */
  readonly causeId?: string;
  /** Userspace calls that reach the changed path (userspace list). */
  readonly entryPoints?: readonly string[];
  /** For a derived exporter: the unknown parts this outcome depends on (absent: it holds for all their values). */
  readonly dependsOn?: string;
}

export interface ModelResult {
  readonly evaluated: number;
  readonly falsePositives: readonly ConfigChange[];
  readonly fixed: readonly ConfigChange[];
  readonly missed: readonly ConfigChange[];
  readonly newHazards: readonly ConfigChange[];
  readonly userspace: readonly ConfigChange[];
  readonly slower: readonly ConfigChange[];
  /** Every configuration of an exporter the series adds, evaluated from its derived entry. */
  readonly introduced: readonly ConfigChange[];
  /** The categories above with their labels, as model-findings.yaml writes them down once. */
  readonly categories: readonly ResultCategory[];
  /** Effects that were applied, and those the bot could not model. */
  readonly effects: readonly Effect[];
}

const HAZARD = new Set<OutcomeKind>(["stale-read", "lost-write"]);
const WORKS = new Set<OutcomeKind>(["ok", "slow"]);

/**
 * Correct use: every CPU access bracketed, or, for exporters whose pages the CPU may reach
 * outside dma-buf (udmabuf's memfd), no SYNC at all. Wrong flags are never correct.
 */
function correctUse(e: Evaluated): boolean {
  if (e.pattern.bracketed) return true;
  return e.exporter.unbracketedAlias && !e.pattern.steps.some((s) => s.op === "sync-start" || s.op === "sync-end");
}

function key(e: Evaluated): string {
  return `${e.exporter.id}|${e.importer.id}|${e.platform}|${e.pattern.id}`;
}

function change(before: Evaluated, after: Evaluated, trace: readonly string[], extra: Partial<ConfigChange> = {}): ConfigChange {
  return {
    beforeTrace: before.outcome.trace,
    afterTrace: after.outcome.trace,
    exporter: before.exporter.id,
    importer: before.importer.id,
    platform: before.platform,
    pattern: before.pattern.id,
    before: before.outcome.kind,
    after: after.outcome.kind,
    trace,
    ...extra,
  };
}

/**
 * Why refusing a working attachment is wrong, in the model's terms: the importer snoops this
 * buffer although its device is not marked coherent (coherency decided per attachment), the
 * exporter does the maintenance for every attachment, or the memory is not cached at all.
 */
function falsePositiveCause(b: Evaluated): { id: string; values?: Record<string, string> } {
  const { exporter, importer, platform } = b;
  if (exporter.memory[platform] !== "cached") return { id: "cause-uncached-memory", values: { memory: exporter.memory[platform] } };
  if (importer.cpuReader) return { id: "cause-cpu-reader" };
  if (importer.access === "per-buffer" && !importer.devCoherent[platform]) return { id: "cause-per-attachment" };
  if (exporter.begin === "all-attachments" || exporter.begin === "cpu-flush") return { id: "cause-exporter-syncs" };
  if (importer.access === "snoop") return { id: "cause-importer-snoops" };
  return { id: "cause-no-maintenance-needed" };
}

/** Facts about cache coherency: a gate that reads none of them aims at something else. */
const COHERENCY_FACTS: ReadonlySet<Fact> = new Set(["buffer-flag", "importer-dev-coherent", "exporter-dev-coherent", "importer-snoops", "memory-cached"]);

function aboutCoherency(p: Predicate): boolean {
  return factsOf(p).some((f) => COHERENCY_FACTS.has(f));
}

/**
 * A working attachment refused only by checks that read no coherency fact (peer2peer, dynamic
 * importers, the direction): its coherency-based causes do not apply, the check's subject does.
 */
function otherCheckCause(b: Evaluated, after: World): { id: string; values: Record<string, string> } | undefined {
  const coherency = after.gates.filter((g) => aboutCoherency(g.predicate));
  if (coherency.length === after.gates.length) return undefined;
  if (rejection({ ...after, gates: coherency }, b.exporter, b.importer, b.platform, b.pattern.steps) !== undefined) return undefined;
  const checks = after.gates.filter((g) => !aboutCoherency(g.predicate)).map((g) => show(g.predicate));
  return { id: "cause-not-coherency", values: { check: [...new Set(checks)].join("; ") } };
}

/** Why a hazard survives the series: usually the gate never sees it. */
function missedCause(b: Evaluated, after: World): string | undefined {
  if (after.gates.length === 0) return undefined;
  const flag = after.flags.get(b.exporter.id);
  if (flag === undefined) return "missed-flag-never-set";
  if (flag === "device" && !b.exporter.deviceCoherent[b.platform]) return "missed-exporter-not-coherent";
  if (b.importer.devCoherent[b.platform]) return "missed-importer-coherent";
  return undefined;
}

function sameScenario(b: Evaluated, a: Evaluated): boolean {
  const bt = b.outcome.trace;
  const at = a.outcome.trace;
  return b.outcome.kind === a.outcome.kind && bt.length === at.length && bt.every((line, i) => line === at[i]);
}

/**
 * The configurations of the exporters a series adds. Where the code leaves a part unknown, the
 * matrix runs once per value: an outcome shared by every value is stated once under the
 * exporter's id; one that differs is listed per value, saying what it depends on.
 */
function introducedConfigs(world: World, effects: readonly Effect[], cache: ExploreCache): { list: ConfigChange[]; evaluated: Evaluated[] } {
  const list: ConfigChange[] = [];
  const evaluated: Evaluated[] = [];
  for (const e of effects) {
    if (e.kind !== "new-exporter") continue;
    const evals = evaluateWorld({ ...world, exporters: e.variants }, cache);
    evaluated.push(...evals);
    const groups = new Map<string, Evaluated[]>();
    for (const v of evals) {
      const k = `${v.importer.id}|${v.platform}|${v.pattern.id}`;
      const g = groups.get(k);
      if (g) g.push(v);
      else groups.set(k, [v]);
    }
    const depends = e.derived.unknown.map((u) => u.part).join(", ");
    for (const g of groups.values()) {
      const same = g.every((v) => v.outcome.kind === g[0]!.outcome.kind);
      for (const v of same ? [g[0]!] : g) {
        list.push({
          exporter: same ? e.derived.exporter.id : v.exporter.id,
          importer: v.importer.id,
          platform: v.platform,
          pattern: v.pattern.id,
          before: "absent",
          after: v.outcome.kind,
          trace: v.outcome.trace,
          beforeTrace: [],
          afterTrace: v.outcome.trace,
          ...(same ? {} : { dependsOn: depends }),
        });
      }
    }
  }
  return { list, evaluated };
}

/**
 * Evaluate the matrix before and after a series' effects and sort every configuration whose
 * outcome changes: false positives, fixed hazards, new hazards, slower paths, userspace-visible
 * failures; hazards the series aims at but leaves reachable are `missed`.
 */
export function compareOutcomes(catalog: Catalog, effects: readonly Effect[], cache: ExploreCache = new Map()): ModelResult {
  const before = baseEvaluation(catalog, cache);
  const afterWorld = applyEffects(catalog, effects);
  const after = evaluateAfter(before, afterWorld, cache);
  // A gate in an exporter's own callback aims at that exporter's buffers; the core's at all.
  // A gate on peer2peer or dynamic importers does not set out to fix a stale read.
  const gates = effects.flatMap((e) => (e.kind === "gate" && aboutCoherency(e.predicate) ? [e] : []));
  const gatedAll = gates.some((g) => !g.exporters);
  const gatedExporters = new Set(gates.flatMap((g) => g.exporters ?? []));
  const touchedExporters = new Set(effects.flatMap((e) => (e.kind === "exporter" || e.kind === "flag" ? e.exporters : [])));
  const touchedImporters = new Set(effects.flatMap((e) => (e.kind === "importer-bracketing" ? e.importers : [])));

  const falsePositives: ConfigChange[] = [];
  const fixed: ConfigChange[] = [];
  const missed: ConfigChange[] = [];
  const newHazards: ConfigChange[] = [];
  const userspace: ConfigChange[] = [];
  const slower: ConfigChange[] = [];
  const userspaceSeen = new Set<string>();

  for (const [i, b] of before.entries()) {
    const a = after[i]!;
    const bk = b.outcome.kind;
    const ak = a.outcome.kind;
    if (ak === "rejected" && bk !== "rejected") {
      // Counted where userspace does its part (SYNC with the right flags): that is what "works today" means.
      if (WORKS.has(bk) && correctUse(b)) {
        const why = otherCheckCause(b, afterWorld) ?? falsePositiveCause(b);
        falsePositives.push(change(b, a, a.outcome.trace, { cause: fillMessage(catalog.texts, why.id, why.values), causeId: why.id }));
      }
      const attachment = `${b.exporter.id}|${b.importer.id}|${b.platform}`;
      if (!userspaceSeen.has(attachment)) {
        userspaceSeen.add(attachment);
        userspace.push(change(b, a, a.outcome.trace, { entryPoints: b.importer.entryPoints }));
      }
    }
    if (HAZARD.has(bk) && !HAZARD.has(ak)) fixed.push(change(b, a, b.outcome.trace));
    else if (HAZARD.has(bk) && HAZARD.has(ak)) {
      // Left open: data corrupts although userspace brackets every access, on a configuration
      // the series set out to change. Unbracketed patterns are userspace bugs, not misses. An
      // exporter or importer change whose configuration fails exactly as before (same outcome,
      // same trace) did not touch that path: repeating it on every patch of the driver is noise.
      const touched = touchedExporters.has(b.exporter.id) || touchedImporters.has(b.importer.id);
      const gated = gatedAll || gatedExporters.has(baseId(b.exporter.id));
      const aimed = gated || (touched && !sameScenario(b, a));
      if (aimed && correctUse(b)) {
        const why = missedCause(b, afterWorld);
        missed.push(change(b, a, a.outcome.trace, why ? { cause: fillMessage(catalog.texts, why), causeId: why } : {}));
      }
    } else if (!HAZARD.has(bk) && HAZARD.has(ak) && correctUse(b)) {
      // A misuse pattern (no SYNC, wrong flags) is a userspace bug whatever the kernel does.
      newHazards.push(change(b, a, a.outcome.trace));
    }
    if (bk === "ok" && ak === "slow") slower.push(change(b, a, a.outcome.trace));
  }
  // Userspace code: the configurations its misuse corrupts while the documented use is correct,
  // and the imports the kernel refuses today that the code cannot do without.
  const byKey = new Map(before.map((e) => [key(e), e]));
  for (const e of effects) {
    if (e.kind === "userspace-misuse") {
      for (const m of before) {
        if (m.pattern.id !== e.misuse) continue;
        if (e.exporters && !e.exporters.includes(m.exporter.id)) continue;
        if (e.importers && !e.importers.includes(m.importer.id)) continue;
        const c = byKey.get(`${m.exporter.id}|${m.importer.id}|${m.platform}|${e.correct}`);
        if (!c || !WORKS.has(c.outcome.kind) || !HAZARD.has(m.outcome.kind)) continue;
        newHazards.push(change(c, m, m.outcome.trace, { pattern: m.pattern.id }));
      }
    } else if (e.kind === "import-refusable") {
      const seen = new Set<string>();
      for (const r of before) {
        if (r.outcome.kind !== "rejected" || (e.importers && !e.importers.includes(r.importer.id))) continue;
        const attachment = `${r.exporter.id}|${r.importer.id}|${r.platform}`;
        if (seen.has(attachment)) continue;
        seen.add(attachment);
        userspace.push(change(r, r, r.outcome.trace, { entryPoints: r.importer.entryPoints }));
      }
    }
  }
  // A new exporter's hazard under correct use is a new hazard like any other.
  const introduced = introducedConfigs(afterWorld, effects, cache);
  const correct = new Map(introduced.evaluated.map((e) => [`${e.importer.id}|${e.platform}|${e.pattern.id}`, correctUse(e)]));
  for (const c of introduced.list) {
    if (HAZARD.has(c.after) && correct.get(`${c.importer}|${c.platform}|${c.pattern}`)) newHazards.push(c);
  }
  const evaluated = before.length + introduced.evaluated.length;
  return { evaluated, falsePositives, fixed, missed, newHazards, userspace, slower, introduced: introduced.list, categories: catalog.texts.categories, effects };
}
