import type { CpuAttr, Exporter, Importer, Pattern, Platform, Step } from "./catalog.js";
import { baseId, flagValue, type Gate, type World } from "./effect.js";
import { dynamicsKey, explore, mapDirection, type Dynamics, type Outcome } from "./explore.js";
import { evaluate as evalPredicate, factsOf, type Fact, type PredicateInputs } from "./predicate.js";

export interface Evaluated {
  readonly exporter: Exporter;
  readonly importer: Importer;
  readonly platform: Platform;
  readonly pattern: Pattern;
  readonly outcome: Outcome;
}

/**
 * The alias the CPU reads and writes through: device memory behind a BAR is reached
 * write-combined whatever the catalog says of mmap, SRAM never cached.
 */
function cpuAttrOf(exporter: Exporter, platform: Platform): CpuAttr {
  const memory = exporter.memory[platform];
  const mmap = exporter.mmap[platform];
  if (memory === "protected") return "none";
  if (memory === "vram" || memory === "mmio") return mmap === "uncached" ? "uncached" : "wc";
  if (memory === "sram") return mmap === "wc" ? "wc" : "uncached";
  return mmap;
}

export function dynamicsOf(exporter: Exporter, importer: Importer, platform: Platform): Dynamics {
  const memory = exporter.memory[platform];
  const cached = memory === "cached";
  return {
    platform,
    // Names are filled in after the search, so one search serves every configuration alike.
    exporterName: "{exporter}",
    importerName: "{importer}",
    cachedMemory: cached,
    cpuAttr: cpuAttrOf(exporter, platform),
    mapSync: exporter.mapSync,
    unmapSync: exporter.unmapSync,
    mapOnce: exporter.mapOnce,
    begin: exporter.begin,
    end: exporter.end,
    direction: exporter.cpuAccessDirection,
    initialDirty: exporter.zeroedDirty && cached,
    ownDeviceCoherent: exporter.deviceCoherent[platform],
    importerApiCoherent: importer.devCoherent[platform],
    importerSnoops: importer.access === "snoop" || (importer.access === "per-buffer" && cached),
    mapDirection: importer.mapDirection === "bidirectional" ? "BIDIRECTIONAL" : "by-use",
    slowImport: exporter.migratesForImport,
    importFlush: importer.flushesOnImport,
    cpuReader: importer.cpuReader ? (importer.cpuReader.brackets ? "bracketed" : "unbracketed") : "no",
  };
}

function inputs(world: World, exporter: Exporter, importer: Importer, platform: Platform, steps: readonly Step[]): PredicateInputs {
  const cached = exporter.memory[platform] === "cached";
  const dir = mapDirection(importer.mapDirection === "bidirectional" ? "BIDIRECTIONAL" : "by-use", steps);
  return {
    "buffer-flag": flagValue(world, exporter, platform),
    "importer-dev-coherent": importer.devCoherent[platform],
    "exporter-dev-coherent": exporter.deviceCoherent[platform],
    "importer-snoops": importer.access === "snoop" || (importer.access === "per-buffer" && cached),
    "importer-iommu": importer.iommu,
    "importer-p2p": importer.peer2peer,
    "importer-dynamic": importer.dynamic,
    "exporter-dynamic": exporter.dynamic,
    "memory-cached": cached,
    "cpu-mappable": cpuAttrOf(exporter, platform) !== "none",
    "map-direction": `DMA_${dir}`,
  };
}

/** How one fact stood for the configuration a gate refused, in a reviewer's words. */
function factText(f: Fact, x: PredicateInputs, world: World, exporter: Exporter): string {
  const not = (v: unknown) => (v ? "" : "not ");
  switch (f) {
    case "buffer-flag":
      return x[f] ? `dma_coherent set ${world.flags.get(exporter.id) === "device" ? "from the exporting device" : "unconditionally"}` : "dma_coherent clear";
    case "importer-dev-coherent":
      return `importer ${not(x[f])}dma-coherent`;
    case "exporter-dev-coherent":
      return `exporting device ${not(x[f])}dma-coherent`;
    case "importer-snoops":
      return `importer ${x[f] ? "snoops" : "does not snoop"} the buffer`;
    case "importer-iommu":
      return `importer ${x[f] ? "behind" : "without"} an IOMMU`;
    case "importer-p2p":
      return `peer2peer ${x[f] ? "allowed" : "not allowed"}`;
    case "importer-dynamic":
      return `importer ${not(x[f])}dynamic`;
    case "exporter-dynamic":
      return `exporter ${not(x[f])}dynamic`;
    case "memory-cached":
      return `memory ${not(x[f])}CPU-cached`;
    case "cpu-mappable":
      return `memory ${not(x[f])}CPU-mappable`;
    case "map-direction":
      return `mapped ${String(x[f])}`;
  }
}

function gateApplies(gate: Gate, exporter: Exporter): boolean {
  return gate.exporters === undefined || gate.exporters.includes(baseId(exporter.id));
}

/** Checks that refuse an attachment before any access: placement, then the series' gates. */
export function rejection(world: World, exporter: Exporter, importer: Importer, platform: Platform, steps: readonly Step[] = []): string | undefined {
  if (importer.needsContiguous && !exporter.contiguous) {
    return `dma_buf_attach(${importer.name}): buffer is not contiguous in the importer's DMA space -> -EINVAL at import`;
  }
  let x: PredicateInputs | undefined;
  for (const gate of world.gates) {
    if (!gateApplies(gate, exporter)) continue;
    const facts = (x ??= inputs(world, exporter, importer, platform, steps));
    if (evalPredicate(gate.predicate, facts)) {
      const why = factsOf(gate.predicate).map((f) => factText(f, facts, world, exporter));
      return `${gate.at} -> ${gate.error}: ${why.join(", ")}`;
    }
  }
  return undefined;
}

/** Protected memory has no CPU mapping: a pattern that touches it with the CPU cannot run. */
function cpuRefusal(exporter: Exporter, platform: Platform, pattern: Pattern): string | undefined {
  if (cpuAttrOf(exporter, platform) !== "none") return undefined;
  if (!pattern.steps.some((s) => s.op === "cpu-read" || s.op === "cpu-write")) return undefined;
  return `mmap/vmap of ${exporter.memory[platform]} memory: the CPU cannot map it, no CPU access takes place`;
}

/** A gate that reads the mapping direction refuses per access pattern, not per attachment. */
function perPattern(world: World): boolean {
  return world.gates.some((g) => factsOf(g.predicate).includes("map-direction"));
}

/** Fill in the names only when a trace is read: most outcomes are compared, never printed. */
function named(o: Outcome, exporter: string, importer: string): Outcome {
  let trace: readonly string[] | undefined;
  return {
    kind: o.kind,
    get trace() {
      trace ??= o.trace.map((t) => t.replaceAll("{exporter}", exporter).replaceAll("{importer}", importer));
      return trace;
    },
  };
}

/** A cache of explored dynamics: most configurations share them, so a matrix costs few searches. */
export type ExploreCache = Map<string, Outcome>;

export function evaluateWorld(world: World, cache: ExploreCache = new Map()): Evaluated[] {
  const out: Evaluated[] = [];
  const byPattern = perPattern(world);
  for (const exporter of world.exporters) {
    for (const importer of world.importers) {
      for (const platform of exporter.platforms) {
        if (!importer.platforms.includes(platform)) continue;
        const attachRejected = byPattern ? undefined : rejection(world, exporter, importer, platform);
        const d = dynamicsOf(exporter, importer, platform);
        const dkey = dynamicsKey(d);
        for (const pattern of world.catalog.patterns) {
          if ((importer.cpuReader || !importer.deviceWrites) && pattern.steps.some((s) => s.op === "device-write")) continue;
          const rejected = (byPattern ? rejection(world, exporter, importer, platform, pattern.steps) : attachRejected) ?? cpuRefusal(exporter, platform, pattern);
          if (rejected) {
            out.push({ exporter, importer, platform, pattern, outcome: { kind: "rejected", trace: [rejected] } });
            continue;
          }
          const key = `${dkey}#${pattern.id}`;
          let outcome = cache.get(key);
          if (!outcome) {
            outcome = explore(d, pattern.steps);
            cache.set(key, outcome);
          }
          out.push({ exporter, importer, platform, pattern, outcome: named(outcome, exporter.name, importer.name) });
        }
      }
    }
  }
  return out;
}

/**
 * The matrix after a series' effects, derived from the matrix before: a configuration whose
 * exporter and importer entries are untouched keeps its outcome unless a check now refuses the
 * attachment; only changed entries are searched again (through the shared cache).
 */
export function evaluateAfter(before: readonly Evaluated[], world: World, cache: ExploreCache = new Map()): Evaluated[] {
  const exporters = new Map(world.exporters.map((e) => [e.id, e]));
  const importers = new Map(world.importers.map((i) => [i.id, i]));
  return before.map((b) => {
    const exporter = exporters.get(b.exporter.id) ?? b.exporter;
    const importer = importers.get(b.importer.id) ?? b.importer;
    const rejected = rejection(world, exporter, importer, b.platform, b.pattern.steps) ?? cpuRefusal(exporter, b.platform, b.pattern);
    if (rejected) return { ...b, exporter, importer, outcome: { kind: "rejected", trace: [rejected] } };
    if (exporter === b.exporter && importer === b.importer && b.outcome.kind !== "rejected") return b;
    const d = dynamicsOf(exporter, importer, b.platform);
    const key = `${dynamicsKey(d)}#${b.pattern.id}`;
    let outcome = cache.get(key);
    if (!outcome) {
      outcome = explore(d, b.pattern.steps);
      cache.set(key, outcome);
    }
    return { ...b, exporter, importer, outcome: named(outcome, exporter.name, importer.name) };
  });
}
