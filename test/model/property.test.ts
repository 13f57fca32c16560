import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Step } from "../../src/model/catalog.js";
import { explore, type Dynamics } from "../../src/model/explore.js";
import { HEAP_TO_DISPLAY } from "../helpers/dynamics.js";

/** Bracketed blocks a correct program is made of; attach and map come first. */
const BLOCKS: Record<string, Step[]> = {
  cpuWrite: [{ op: "sync-start", flags: "WRITE" }, { op: "cpu-write" }, { op: "sync-end", flags: "WRITE" }],
  cpuRead: [{ op: "sync-start", flags: "READ" }, { op: "cpu-read" }, { op: "sync-end", flags: "READ" }],
  cpuReadWrite: [{ op: "sync-start", flags: "RW" }, { op: "cpu-read" }, { op: "cpu-write" }, { op: "sync-end", flags: "RW" }],
  deviceRead: [{ op: "device-read" }],
  deviceWrite: [{ op: "device-write" }],
};

const program = fc
  .tuple(fc.array(fc.constantFrom(...Object.keys(BLOCKS)), { minLength: 1, maxLength: 6 }), fc.boolean())
  .map(([blocks, unmapAtEnd]) => {
    const steps: Step[] = [{ op: "attach" }, { op: "map" }, ...blocks.flatMap((b) => BLOCKS[b]!)];
    if (unmapAtEnd) steps.push({ op: "unmap" }, ...BLOCKS["cpuRead"]!);
    return steps;
  });

/**
 * Everything bracketed, every sync performed, right directions: an exporter that syncs at map
 * and unmap and in begin/end for every mapped attachment, with the caller's direction. The
 * importer is honest about coherency (snoops exactly when the DMA API believes it does).
 */
const dynamics = fc
  .record({
    platform: fc.constantFrom("x86", "arm64", "arm32"),
    cachedMemory: fc.boolean(),
    coherent: fc.boolean(),
    initialDirty: fc.boolean(),
    mapDirection: fc.constantFrom("BIDIRECTIONAL", "by-use"),
  })
  .map(({ platform, cachedMemory, coherent, initialDirty, mapDirection }): Dynamics => {
    const apiCoherent = platform === "x86" ? true : coherent;
    return {
      platform: platform as Dynamics["platform"],
      exporterName: "exporter",
      importerName: "importer",
      cachedMemory,
      cpuAttr: cachedMemory ? "cached" : "wc",
      mapSync: "sync",
      unmapSync: "sync",
      mapOnce: false,
      begin: "all-attachments",
      end: "all-attachments",
      direction: "caller",
      initialDirty: initialDirty && cachedMemory,
      ownDeviceCoherent: apiCoherent,
      importerApiCoherent: apiCoherent,
      // x86 devices that do not snoop are handled by their drivers (clflush), outside the DMA API.
      importerSnoops: apiCoherent,
      mapDirection: mapDirection as Dynamics["mapDirection"],
      slowImport: false,
      importFlush: false,
      cpuReader: "no",
    };
  });

describe("property: with every access bracketed and every sync performed, no configuration corrupts data", () => {
  it("never ends in stale-read or lost-write", () => {
    fc.assert(
      fc.property(dynamics, program, (d0, steps) => {
        // A mapping made for one direction is only correct if the device uses it that way only.
        const both = steps.some((s) => s.op === "device-read") && steps.some((s) => s.op === "device-write");
        const d: Dynamics = both ? { ...d0, mapDirection: "BIDIRECTIONAL" } : d0;
        const o = explore(d, steps);
        return o.kind !== "stale-read" && o.kind !== "lost-write";
      }),
      { numRuns: 3000, seed: 20221020 },
    );
  });

  it("is not vacuous: dropping end_cpu_access on a non-coherent importer does corrupt", () => {
    const d: Dynamics = { ...HEAP_TO_DISPLAY, end: "none" };
    expect(explore(d, [{ op: "attach" }, { op: "map" }, ...BLOCKS["cpuWrite"]!, { op: "device-read" }]).kind).toBe("stale-read");
  });
});
