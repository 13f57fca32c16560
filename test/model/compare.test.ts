import { beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../src/analysis/catalog/load.js";
import type { Catalog } from "../../src/model/catalog.js";
import { compareOutcomes, type ConfigChange } from "../../src/model/compare.js";
import type { Effect, EffectSource } from "../../src/model/effect.js";

let catalog: Catalog;
beforeAll(async () => {
  catalog = await loadCatalog();
});

const src: EffectSource = { rule: "test", patch: 1, file: "f.c", line: 1, detail: "" };
const gate: Effect = {
  kind: "gate",
  predicate: { op: "and", args: [{ op: "buffer-flag" }, { op: "not", arg: { op: "importer-dev-coherent" } }] },
  error: "-EINVAL",
  source: src,
};
const pick = (l: readonly ConfigChange[], exporter: string, importer: string, platform: string, pattern: string) =>
  l.find((c) => c.exporter === exporter && c.importer === importer && c.platform === platform && c.pattern === pattern);

describe("compareOutcomes", () => {
  it("no effects: nothing changes", () => {
    const r = compareOutcomes(catalog, []);
    expect(r.evaluated).toBeGreaterThan(1000);
    expect([r.falsePositives, r.fixed, r.missed, r.newHazards, r.userspace, r.slower].every((l) => l.length === 0)).toBe(true);
  });

  it("a gate on a flag forced true for vb2-vmalloc: false positives, fixes and userspace failures", () => {
    const r = compareOutcomes(catalog, [gate, { kind: "flag", exporters: ["vb2-vmalloc"], value: true, source: src }]);
    // Works today (map cleans the CPU's fill before the first map), refused after.
    const fp = pick(r.falsePositives, "vb2-vmalloc", "soc-display-iommu", "arm64", "cpu-fill-then-import");
    expect(fp?.before).toBe("ok");
    expect(fp?.after).toBe("rejected");
    // A snooping-per-buffer importer is refused only because its device is not marked coherent.
    expect(pick(r.falsePositives, "vb2-vmalloc", "soc-gpu-per-buffer", "arm64", "stream-two-frames")?.cause).toMatch(/per attachment/);
    // The UVC stream to a display was corrupt and is now refused: fixed, by rejection.
    const fixed = pick(r.fixed, "vb2-vmalloc", "soc-display-iommu", "arm64", "stream-two-frames");
    expect(fixed?.before).toBe("stale-read");
    expect(fixed?.trace.at(-1)).toMatch(/stale$/);
    // One userspace entry per attachment, naming the ioctls.
    const us = r.userspace.filter((c) => c.exporter === "vb2-vmalloc" && c.importer === "v4l2-device" && c.platform === "arm64");
    expect(us).toHaveLength(1);
    expect(us[0]!.entryPoints).toContain("VIDIOC_QBUF (V4L2_MEMORY_DMABUF)");
    // Left open for vb2-vmalloc only where the importer counts as dma-coherent (x86).
    const open = r.missed.filter((c) => c.exporter === "vb2-vmalloc");
    expect(open.length).toBeGreaterThan(0);
    expect(open.every((c) => c.platform === "x86" && /counts as dma-coherent/.test(c.cause ?? ""))).toBe(true);
    expect(r.missed.some((c) => c.exporter === "drm-prime-shmem")).toBe(true);
    // x86 importers are all dma-coherent for the DMA API: nothing refused there.
    expect(r.userspace.filter((c) => c.platform === "x86")).toEqual([]);
  });

  it("vb2-vmalloc gains begin/end_cpu_access for every attachment: the UVC stream is fixed, nothing refused", () => {
    const r = compareOutcomes(catalog, [{ kind: "exporter", exporters: ["vb2-vmalloc"], change: { begin: "all-attachments", end: "all-attachments" }, source: src }]);
    const c = pick(r.fixed, "vb2-vmalloc", "soc-display-iommu", "arm64", "stream-two-frames");
    expect(c?.before).toBe("stale-read");
    expect(c?.after).toBe("ok");
    expect(r.falsePositives).toEqual([]);
    expect(r.newHazards).toEqual([]);
  });

  it("udmabuf maps with DMA_ATTR_SKIP_CPU_SYNC (the 2026 patch): a CPU fill before the first map goes stale", () => {
    const r = compareOutcomes(catalog, [{ kind: "exporter", exporters: ["udmabuf"], change: { mapSync: "skip", unmapSync: "skip" }, source: src }]);
    const c = pick(r.newHazards, "udmabuf", "soc-gpu-noncoherent", "arm64", "cpu-fill-then-import-unbracketed");
    expect(c?.before).toBe("ok");
    expect(c?.after).toBe("stale-read");
    expect(pick(r.newHazards, "udmabuf", "x86-pcie-gpu", "x86", "cpu-fill-then-import-unbracketed")).toBeUndefined();
  });

  it("the system heap stops syncing at unmap: a read after unmap goes stale even with SYNC", () => {
    const r = compareOutcomes(catalog, [{ kind: "exporter", exporters: ["system-heap"], change: { unmapSync: "skip" }, source: src }]);
    const c = pick(r.newHazards, "system-heap", "v4l2-device", "arm64", "device-write-unmap-cpu-read");
    expect(c?.before).toBe("ok");
    expect(c?.after).toBe("stale-read");
  });

  it("the system heap mmap becomes write-combined: correct but slow CPU reads", () => {
    const r = compareOutcomes(catalog, [{ kind: "exporter", exporters: ["system-heap"], change: { mmap: "wc" }, source: src }]);
    const c = pick(r.slower, "system-heap", "v4l2-device", "arm64", "device-write-cpu-read");
    expect(c?.before).toBe("ok");
    expect(c?.after).toBe("slow");
  });
  it("an exporter change does not list as left open what fails exactly as before", () => {
    // amdgpu GTT skipping the CPU sync on map: its broken configurations keep the same trace.
    const r = compareOutcomes(catalog, [{ kind: "exporter", exporters: ["amdgpu-gtt"], change: { mapSync: "skip" }, source: src }]);
    expect(r.missed).toEqual([]);
  });

  it("an exporter change whose configuration still fails along a changed path is left open", () => {
    const r = compareOutcomes(catalog, [{ kind: "exporter", exporters: ["vb2-vmalloc"], change: { begin: "own-device", end: "own-device" }, source: src }]);
    expect(r.missed.length).toBeGreaterThan(0);
    for (const c of r.missed) expect(c.afterTrace).not.toEqual(c.beforeTrace);
  });
});

describe("gates that read no coherency fact", () => {
  const p2p: Effect = { kind: "gate", predicate: { op: "not", arg: { op: "fact", fact: "importer-p2p" } }, error: "-EOPNOTSUPP", source: src };

  it("refuse working attachments for their own reason, and leave no coherency hazard 'open'", () => {
    const r = compareOutcomes(catalog, [p2p]);
    expect(r.falsePositives.length).toBeGreaterThan(0);
    expect(new Set(r.falsePositives.map((c) => c.causeId))).toEqual(new Set(["cause-not-coherency"]));
    expect(r.falsePositives[0]!.cause).toContain("attach->peer2peer");
    // Hazards between peer2peer importers and the catalog are not what such a check aims at.
    expect(r.missed).toEqual([]);
  });

  it("beside a coherency gate, what the coherency gate refuses keeps its coherency cause", () => {
    const r = compareOutcomes(catalog, [p2p, gate, { kind: "flag", exporters: ["vb2-vmalloc"], value: true, source: src }]);
    expect(pick(r.falsePositives, "vb2-vmalloc", "soc-gpu-per-buffer", "arm64", "stream-two-frames")?.cause).toMatch(/per attachment/);
    expect(pick(r.falsePositives, "system-heap", "soc-gpu-per-buffer", "arm64", "stream-two-frames")?.causeId).toBe("cause-not-coherency");
  });
});
