import { beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../src/analysis/catalog/load.js";
import type { Catalog, Exporter, MemoryClass } from "../../src/model/catalog.js";
import { baseWorld } from "../../src/model/effect.js";
import { evaluateWorld } from "../../src/model/evaluate.js";

let catalog: Catalog;
beforeAll(async () => {
  catalog = await loadCatalog();
});

/** The system heap's sync policy over another memory class: only the memory differs. */
function over(memory: MemoryClass, mmap: Exporter["mmap"]["x86"] = "cached"): Exporter {
  const heap = catalog.exporters.find((e) => e.id === "system-heap")!;
  const m = { x86: memory, arm64: memory, arm32: memory };
  // No sync at all: if anything could go stale, it would.
  return { ...heap, id: `heap-${memory}`, memory: m, mmap: { x86: mmap, arm64: mmap, arm32: mmap }, mapSync: "skip", unmapSync: "skip", begin: "none", end: "none" };
}

function outcomes(e: Exporter) {
  return evaluateWorld({ ...baseWorld(catalog), exporters: [e] });
}

describe("memory the CPU does not cache", () => {
  // SRAM and BAR memory are never mapped cacheable, whatever the mmap entry says; wc and uncached RAM by their mmap.
  for (const [memory, mmap] of [["sram", "cached"], ["mmio", "cached"], ["uncached", "uncached"], ["wc", "wc"]] as const) {
    it(`${memory} memory, mmap entry ${mmap}: no stale line and no lost write without any cache maintenance`, () => {
      const all = outcomes(over(memory, mmap));
      expect(all.length).toBeGreaterThan(50);
      expect(all.filter((e) => e.outcome.kind === "stale-read" || e.outcome.kind === "lost-write").map((e) => `${e.importer.id} ${e.platform} ${e.pattern.id}`)).toEqual([]);
    });
  }

  it("cached memory without maintenance does go stale (the check above can fail)", () => {
    expect(outcomes(over("cached")).some((e) => e.outcome.kind === "stale-read")).toBe(true);
  });

  it("protected: the CPU cannot map it, so CPU patterns are refused and device-only ones run", () => {
    const all = outcomes(over("protected"));
    // Importers that need contiguous memory refuse the heap's pages before any access.
    const cpu = all.filter((e) => !e.importer.needsContiguous && e.pattern.steps.some((s) => s.op === "cpu-read" || s.op === "cpu-write"));
    expect(cpu.length).toBeGreaterThan(0);
    expect(cpu.every((e) => e.outcome.kind === "rejected" && /CPU cannot map it/.test(e.outcome.trace[0] ?? ""))).toBe(true);
    expect(all.filter((e) => e.outcome.kind === "stale-read" || e.outcome.kind === "lost-write")).toEqual([]);
  });
});
