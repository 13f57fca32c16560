import type { Exporter, Importer, Pattern, Platform } from "./catalog.js";
import { flagValue, type World } from "./effect.js";
import { dynamicsKey, explore, type Dynamics, type Outcome } from "./explore.js";
import { evaluate as evalPredicate } from "./predicate.js";

export interface Evaluated {
  readonly exporter: Exporter;
  readonly importer: Importer;
  readonly platform: Platform;
  readonly pattern: Pattern;
  readonly outcome: Outcome;
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
    cpuAttr: memory === "vram" ? "wc" : exporter.mmap[platform],
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

/** Checks that refuse an attachment before any access: placement, then the series' gates. */
export function rejection(world: World, exporter: Exporter, importer: Importer, platform: Platform): string | undefined {
  if (importer.needsContiguous && !exporter.contiguous) {
    return `dma_buf_attach(${importer.name}): buffer is not contiguous in the importer's DMA space -> -EINVAL at import`;
  }
  for (const gate of world.gates) {
    const inputs = { bufferFlag: flagValue(world, exporter, platform), importerDevCoherent: importer.devCoherent[platform] };
    if (evalPredicate(gate.predicate, inputs)) {
      const flagWhy = inputs.bufferFlag
        ? `dma_coherent set ${world.flags.get(exporter.id) === "device" ? "from the exporting device" : "unconditionally"}`
        : "dma_coherent clear";
      return `dma_buf_attach -> ${gate.error}: ${flagWhy}, importer ${inputs.importerDevCoherent ? "" : "not "}dma-coherent`;
    }
  }
  return undefined;
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
  for (const exporter of world.exporters) {
    for (const importer of world.importers) {
      for (const platform of exporter.platforms) {
        if (!importer.platforms.includes(platform)) continue;
        const rejected = rejection(world, exporter, importer, platform);
        const d = dynamicsOf(exporter, importer, platform);
        const dkey = dynamicsKey(d);
        for (const pattern of world.catalog.patterns) {
          if ((importer.cpuReader || !importer.deviceWrites) && pattern.steps.some((s) => s.op === "device-write")) continue;
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
    const rejected = rejection(world, exporter, importer, b.platform);
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
