import type { Catalog, CpuAccessPolicy, CpuAttr, Exporter, MapSync, Platform } from "./catalog.js";
import type { DerivedExporter } from "./code/derive.js";
import type { Predicate } from "./predicate.js";

/** Where an effect came from: the rule and the line that produced it. */
export interface EffectSource {
  readonly rule: string;
  readonly patch: number;
  readonly file: string;
  readonly line: number;
  readonly detail: string;
}

export interface ExporterChange {
  readonly begin?: CpuAccessPolicy;
  readonly end?: CpuAccessPolicy;
  readonly mapSync?: MapSync;
  readonly unmapSync?: MapSync;
  readonly mmap?: CpuAttr;
}

/** What a matched rule changes in the model. */
export type Effect =
  | {
      readonly kind: "gate";
      readonly predicate: Predicate;
      readonly error: string;
      readonly source: EffectSource;
      /** The callback that refuses: dma_buf_attach (the default) or map_dma_buf. */
      readonly at?: string;
      /** The exporters whose callback holds the gate; undefined: the core's, every exporter. */
      readonly exporters?: readonly string[];
    }
  | {
      readonly kind: "flag";
      /** Exporters whose export path sets the flag. */
      readonly exporters: readonly string[];
      /** "device": copied from dev_is_dma_coherent() of the exporting device. */
      readonly value: "device" | boolean;
      readonly source: EffectSource;
    }
  | { readonly kind: "exporter"; readonly exporters: readonly string[]; readonly change: ExporterChange; readonly source: EffectSource }
  | { readonly kind: "importer-bracketing"; readonly importers: readonly string[]; readonly brackets: boolean; readonly source: EffectSource }
  | {
      /** Userspace code that accesses the buffer the way `misuse` does where `correct` is documented. */
      readonly kind: "userspace-misuse";
      readonly misuse: string;
      readonly correct: string;
      /** Exporters its fds come from, importers it hands them to; undefined: not identified. */
      readonly exporters: readonly string[] | undefined;
      readonly importers: readonly string[] | undefined;
      readonly source: EffectSource;
    }
  | { readonly kind: "import-refusable"; readonly importers: readonly string[] | undefined; readonly source: EffectSource }
  | {
      /** An exporter the series adds, read from its code; one entry per value of what is unknown. */
      readonly kind: "new-exporter";
      readonly derived: DerivedExporter;
      readonly variants: readonly Exporter[];
      readonly source: EffectSource;
    }
  | { readonly kind: "not-modelled"; readonly reason: string; readonly source: EffectSource };

export interface Gate {
  readonly predicate: Predicate;
  readonly error: string;
  readonly source: EffectSource;
  readonly at: string;
  readonly exporters: readonly string[] | undefined;
}

/** The catalog with a series' effects applied: what the kernel looks like after the patches. */
export interface World {
  readonly catalog: Catalog;
  readonly exporters: readonly Exporter[];
  readonly importers: Catalog["importers"];
  readonly gates: readonly Gate[];
  /** Value of the buffer coherency flag per exporter; absent: zero-initialised, false. */
  readonly flags: ReadonlyMap<string, "device" | boolean>;
}

export function baseWorld(catalog: Catalog): World {
  return { catalog, exporters: catalog.exporters, importers: catalog.importers, gates: [], flags: new Map() };
}

/** The exporter an entry was derived as, without the values a variant assumes: `foo{map skip}` is foo. */
export function baseId(id: string): string {
  const at = id.indexOf("{");
  return at < 0 ? id : id.slice(0, at);
}

export function flagValue(world: World, exporter: Exporter, platform: Platform): boolean {
  const v = world.flags.get(baseId(exporter.id));
  if (v === undefined) return false;
  return v === "device" ? exporter.deviceCoherent[platform] : v;
}

/** Apply a series' effects, in patch order, on top of the catalog. */
export function applyEffects(catalog: Catalog, effects: readonly Effect[]): World {
  let exporters = [...catalog.exporters];
  let importers = [...catalog.importers];
  const gates: Gate[] = [];
  const flags = new Map<string, "device" | boolean>();
  for (const e of effects) {
    switch (e.kind) {
      case "gate":
        gates.push({ predicate: e.predicate, error: e.error, source: e.source, at: e.at ?? "dma_buf_attach", exporters: e.exporters });
        break;
      case "flag":
        for (const id of e.exporters) flags.set(id, e.value);
        break;
      case "exporter":
        exporters = exporters.map((x) =>
          e.exporters.includes(x.id)
            ? {
                ...x,
                ...(e.change.begin ? { begin: e.change.begin } : {}),
                ...(e.change.end ? { end: e.change.end } : {}),
                ...(e.change.mapSync ? { mapSync: e.change.mapSync } : {}),
                ...(e.change.unmapSync ? { unmapSync: e.change.unmapSync } : {}),
                ...(e.change.mmap ? { mmap: { x86: e.change.mmap, arm64: e.change.mmap, arm32: e.change.mmap } } : {}),
              }
            : x,
        );
        break;
      case "new-exporter":
        exporters = [...exporters, ...e.variants];
        break;
      case "importer-bracketing":
        importers = importers.map((i) => (e.importers.includes(i.id) && i.cpuReader ? { ...i, cpuReader: { brackets: e.brackets } } : i));
        break;
      case "not-modelled":
      case "userspace-misuse":
      case "import-refusable":
        // Userspace code changes no kernel behaviour: compared pattern against pattern instead.
        break;
    }
  }
  return { catalog, exporters, importers, gates, flags };
}
