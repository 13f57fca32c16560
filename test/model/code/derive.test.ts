import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../src/analysis/catalog/load.js";
import type { Catalog, Exporter } from "../../../src/model/catalog.js";
import { deriveExporter, deriveNewExporters, variants } from "../../../src/model/code/derive.js";
import { seriesCode } from "../../../src/model/code/functions.js";
import { compareOutcomes } from "../../../src/model/compare.js";
import { parseDiff } from "../../../src/patch/diff.js";

const DIR = join(import.meta.dirname, "..", "..", "..", "fixtures", "model", "derived");

let catalog: Catalog;
beforeAll(async () => {
  catalog = await loadCatalog();
});

function codeOf(name: string) {
  const text = readFileSync(join(DIR, name), "utf8");
  // The diff ends where the mail signature ("-- ") starts.
  const diff = text.slice(text.indexOf("diff --git"), text.lastIndexOf("\n-- \n") + 1);
  return seriesCode([{ patch: 1, files: parseDiff(diff) }]);
}

/** The fields that decide the model's outcomes; names, notes and userspace sources are bookkeeping. */
function behaviour(e: Exporter) {
  return {
    memory: e.memory,
    mmap: e.mmap,
    mapSync: e.mapSync,
    unmapSync: e.unmapSync,
    mapOnce: e.mapOnce,
    begin: e.begin,
    end: e.end,
    cpuAccessDirection: e.cpuAccessDirection,
    zeroedDirty: e.zeroedDirty,
    deviceCoherent: e.deviceCoherent,
    contiguous: e.contiguous,
    exportPath: e.exportPath,
    dynamic: e.dynamic,
  };
}

describe("exporters derived from code agree with the catalog", () => {
  for (const [fixture, id] of [
    ["system-heap.patch", "system-heap"],
    ["cma-heap.patch", "cma-heap"],
  ] as const) {
    it(`${id}: the entry read from ${fixture} is the catalog's`, () => {
      const code = codeOf(fixture);
      const table = code.ops.find((t) => t.struct === "dma_buf_ops");
      expect(table).toBeDefined();
      const d = deriveExporter(table!, code, catalog);
      expect(d.unknown).toEqual([]);
      expect(d.exporter.id).toBe(id);
      expect(behaviour(d.exporter)).toEqual(behaviour(catalog.exporters.find((e) => e.id === id)!));
    });
  }

  it("a part the code does not show is unknown, and the matrix runs once per value", () => {
    const code = codeOf("system-heap.patch");
    const table = code.ops.find((t) => t.struct === "dma_buf_ops")!;
    // Without sys_map's body the map-time maintenance cannot be read.
    const functions = new Map(code.functions);
    functions.delete("sys_map");
    const d = deriveExporter(table, { ...code, functions }, catalog);
    expect(d.unknown.map((u) => u.part)).toEqual(["map-sync"]);
    expect(d.unknown[0]!.reason).toMatch(/sys_map/);
    const v = variants(d);
    expect(v.map((e) => [e.id, e.mapSync])).toEqual([
      ["system-heap{map sync}", "sync"],
      ["system-heap{map skip}", "skip"],
    ]);
    // Evaluated as a new exporter: what holds for both values is stated once, the rest says what it depends on.
    const renamed = { ...d, exporter: { ...d.exporter, id: "sys" } };
    const source = { rule: "model/derived-exporter", patch: 1, file: table.file, line: table.line, detail: "" };
    const r = compareOutcomes(catalog, [{ kind: "new-exporter", derived: renamed, variants: variants(renamed), source }]);
    const pick = (importer: string, pattern: string) => r.introduced.filter((c) => c.importer === importer && c.platform === "arm64" && c.pattern === pattern);
    // The first map cleans the CPU's fill only when map_dma_buf syncs.
    const fill = pick("soc-display-iommu", "cpu-fill-then-import-unbracketed");
    expect(fill.map((c) => [c.exporter, c.after, c.dependsOn])).toEqual([
      ["sys{map sync}", "ok", "map-sync"],
      ["sys{map skip}", "stale-read", "map-sync"],
    ]);
    // With SYNC, end_cpu_access cleans for the attachment whatever map does.
    expect(pick("soc-display-iommu", "cpu-fill-device-read").map((c) => [c.exporter, c.after, c.dependsOn])).toEqual([["sys", "ok", undefined]]);
  });
});

/** The series' code of a fixture patch under fixtures/model/. */
function codeOfModelFixture(name: string) {
  const text = readFileSync(join(DIR, "..", name), "utf8");
  const diff = text.slice(text.indexOf("diff --git"), text.lastIndexOf("\n-- \n") + 1);
  return seriesCode([{ patch: 1, files: parseDiff(diff) }]);
}

describe("heaps read from their allocate path", () => {
  it("a heap whose dma_buf_ops the series does not show still has its memory read, the rest unknown", () => {
    const [d, ...rest] = deriveNewExporters(codeOfModelFixture("wc-pool-heap-shared-ops-new.patch"), catalog);
    expect(rest).toEqual([]);
    expect(d!.table).toMatchObject({ struct: "dma_heap_ops", name: "wc_pool_heap_ops" });
    expect(d!.exporter).toMatchObject({ id: "wc-pool-heap", exportPath: "heap", memory: { x86: "wc", arm64: "wc", arm32: "wc" }, mmap: { arm64: "wc" } });
    expect(d!.unknown.map((u) => u.part)).toEqual(["map-sync", "begin-cpu-access", "end-cpu-access"]);
    expect(d!.unknown[0]!.reason).toBe("the heap exports with vendor_heap_buf_ops, which the series does not show");
    expect(d!.evidence).toContain("memory: dma_alloc_wc() (write-combined)");
  });

  it("a heap exporting with dma_buf_ops another file of the series defines is one exporter, read from both", () => {
    const code = codeOfModelFixture("wc-pool-heap-shared-ops-new.patch");
    const shared = codeOf("system-heap.patch");
    const sys = shared.ops.find((t) => t.struct === "dma_buf_ops")!;
    const ops = [...code.ops, { ...sys, file: "drivers/dma-buf/heaps/vendor_heap_helpers.c", name: "vendor_heap_buf_ops" }];
    const derived = deriveNewExporters({ functions: new Map([...shared.functions, ...code.functions]), ops }, catalog);
    expect(derived.map((d) => d.exporter.id)).toEqual(["wc-pool-heap"]);
    expect(derived[0]!.unknown).toEqual([]);
    expect(derived[0]!.exporter).toMatchObject({ memory: { arm64: "wc" }, mapSync: "sync", begin: "all-attachments", end: "all-attachments" });
  });
});

