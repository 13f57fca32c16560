import type { Exporter, Importer, Pattern, Platform } from "./catalog.js";
import { flagValue, type World } from "./effect.js";
import { dynamicsKey, explore, type Dynamics, type Outcome } from "./explore.js";
import { evaluate as evalPredicate, show } from "./predicate.js";

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
    slowImport: exporter.migratesForImport || importer.flushesOnImport,
    cpuReader: importer.cpuReader ? (importer.cpuReader.brackets ? "bracketed" : "unbracketed") : "no",
  };
}

/** Checks that refuse an attachment before any access: placement, then the series' gates. */
function rejection(world: World, exporter: Exporter, importer: Importer, platform: Platform): string | undefined {
  if (importer.needsContiguous && !exporter.contiguous) {
    return `dma_buf_attach(${importer.name}): buffer is not contiguous in the importer's DMA space -> -EINVAL at import`;
  }
  for (const gate of world.gates) {
    const inputs = { bufferFlag: flagValue(world, exporter, platform), importerDevCoherent: importer.devCoherent[platform] };
    if (evalPredicate(gate.predicate, inputs)) {
      const flagWhy = inputs.bufferFlag
        ? `dma_coherent set (${world.flags.get(exporter.id) === "device" ? `exporter device is dma-coherent on ${platform}` : "set unconditionally by the exporter"})`
        : "dma_coherent clear";
      return `dma_buf_attach(${importer.name}): ${show(gate.predicate)} holds: ${flagWhy}, dev_is_dma_coherent(${importer.name}) = ${inputs.importerDevCoherent} -> ${gate.error}`;
    }
  }
  return undefined;
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
          if (importer.cpuReader && pattern.steps.some((s) => s.op === "device-write")) continue;
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
          const named = outcome.trace.map((t) => t.replaceAll("{exporter}", exporter.name).replaceAll("{importer}", importer.name));
          out.push({ exporter, importer, platform, pattern, outcome: { kind: outcome.kind, trace: named } });
        }
      }
    }
  }
  return out;
}
