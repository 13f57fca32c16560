import { describe, expect, it } from "vitest";
import type { Step } from "../../src/model/catalog.js";
import { explore } from "../../src/model/explore.js";
import { HEAP_TO_DISPLAY } from "../helpers/dynamics.js";

const steps = (...s: string[]): Step[] =>
  s.map((x) => {
    const [op, flags] = x.split(" ");
    return (flags ? { op, flags } : { op }) as Step;
  });

const base = HEAP_TO_DISPLAY;

describe("explore: one outcome class each, with the shortest trace", () => {
  it("ok: CPU fill bracketed with SYNC, the exporter cleans for the mapped attachment", () => {
    const o = explore(base, steps("attach", "map", "sync-start WRITE", "cpu-write", "sync-end WRITE", "device-read"));
    expect(o.kind).toBe("ok");
    expect(o.trace.some((t) => /end_cpu_access on the display attachment: dma_sync_\*_for_device\(display, TO_DEVICE\): arm64 clean/.test(t))).toBe(true);
  });

  it("stale-read: no end_cpu_access, the display reads memory while the line is dirty", () => {
    const o = explore({ ...base, begin: "none", end: "none" }, steps("attach", "map", "sync-start WRITE", "cpu-write", "sync-end WRITE", "device-read"));
    expect(o.kind).toBe("stale-read");
    expect(o.trace).toEqual([
      "dma_buf_attach(display)",
      "map_dma_buf(BIDIRECTIONAL): dma_sync_*_for_device(display, BIDIRECTIONAL): arm64 clean -> line invalid, memory v0",
      "DMA_BUF_IOCTL_SYNC START|WRITE: heap has no begin_cpu_access, no cache maintenance",
      "CPU writes v1 via mmap (cached): dirty line v1",
      "DMA_BUF_IOCTL_SYNC END|WRITE: heap has no end_cpu_access, no cache maintenance",
      "display reads memory: gets v0, newest is v1: stale",
    ]);
  });

  it("stale-read through a speculative fill: the CPU reads without SYNC after the device wrote", () => {
    const o = explore(base, steps("attach", "map", "device-write", "cpu-read"));
    expect(o.kind).toBe("stale-read");
    // The shortest way: the line is filled with the old data before the device writes.
    expect(o.trace).toEqual([
      "dma_buf_attach(display)",
      "map_dma_buf(BIDIRECTIONAL): dma_sync_*_for_device(display, BIDIRECTIONAL): arm64 clean -> line invalid, memory v0",
      "[hw] speculative fill through a cached alias: clean line v0",
      "display writes v1 to memory, CPU clean line v0 untouched",
      "CPU reads via mmap (cached): gets v0, newest is v1: stale",
    ]);
  });

  it("lost-write: dirty zeroing lines survive a skip-sync map and are evicted over device data", () => {
    const o = explore(
      { ...base, initialDirty: true, mapSync: "skip", begin: "none", end: "none" },
      steps("attach", "map", "device-write", "sync-start READ", "cpu-read", "sync-end READ"),
    );
    expect(o.kind).toBe("lost-write");
    expect(o.trace.at(-1)).toBe("end: memory settles at v0, newest write was v1: lost");
    expect(o.trace).toContain("display writes v1 to memory, CPU dirty line v0 untouched");
  });

  it("lost-write on arm32: end_cpu_access with a fixed FROM_DEVICE direction invalidates the CPU's writes", () => {
    const o = explore({ ...base, platform: "arm32", direction: "FROM_DEVICE", begin: "own-device", end: "own-device" }, steps("attach", "map", "sync-start WRITE", "cpu-write", "sync-end WRITE", "device-read"));
    expect(["lost-write", "stale-read"]).toContain(o.kind);
    expect(o.kind).toBe("lost-write");
    expect(o.trace.some((t) => /arm32 invalidate, dirty v1 dropped/.test(t))).toBe(true);
  });

  it("slow: correct, but the CPU reads through a write-combined mapping", () => {
    const o = explore({ ...base, cachedMemory: false, cpuAttr: "wc", mapSync: "skip", begin: "noop", end: "noop" }, steps("attach", "map", "device-write", "sync-start READ", "cpu-read", "sync-end READ"));
    expect(o.kind).toBe("slow");
    expect(o.trace).toContain("CPU reads via mmap (wc, slow): gets v1");
  });

  it("x86: every device is coherent for the DMA API and the syncs are no-ops, yet snooping makes it correct", () => {
    const o = explore({ ...base, platform: "x86", importerApiCoherent: true, importerSnoops: true, begin: "none", end: "none" }, steps("attach", "map", "cpu-write", "device-read"));
    expect(o.kind).toBe("ok");
  });
});
