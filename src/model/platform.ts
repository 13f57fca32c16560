import type { Platform } from "./catalog.js";
import type { Line } from "./state.js";

export type Direction = "TO_DEVICE" | "FROM_DEVICE" | "BIDIRECTIONAL";

/** What a DMA-API sync does to the line on each architecture (arch/arm64/mm/dma-mapping.c, arch/arm/mm/dma-mapping.c). */
export type CacheOp = "none" | "clean" | "invalidate" | "clean+invalidate";

/**
 * dma_sync_*_for_device on a device dev_is_dma_coherent() calls non-coherent.
 * arm64 cleans for every direction (so dirty lines cannot be evicted over device data later);
 * arm32 invalidates for FROM_DEVICE, which throws away unflushed CPU writes; x86 has no
 * non-coherent devices as far as the DMA API is concerned.
 */
export function forDevice(platform: Platform, dir: Direction): CacheOp {
  if (platform === "x86") return "none";
  if (platform === "arm32" && dir === "FROM_DEVICE") return "invalidate";
  return "clean";
}

/** dma_sync_*_for_cpu: invalidate unless the buffer only went to the device. */
export function forCpu(platform: Platform, dir: Direction): CacheOp {
  if (platform === "x86") return "none";
  return dir === "TO_DEVICE" ? "none" : "invalidate";
}

export interface OpResult {
  readonly line: Line;
  readonly mem: number;
}

export function applyCacheOp(op: CacheOp, line: Line, mem: number): OpResult {
  switch (op) {
    case "none":
      return { line, mem };
    case "clean":
      return line.s === "D" ? { line: { s: "C", v: line.v }, mem: line.v } : { line, mem };
    case "invalidate":
      // A dirty line is dropped without write-back: its data is gone.
      return { line: { s: "I" }, mem };
    case "clean+invalidate":
      return { line: { s: "I" }, mem: line.s === "D" ? line.v : mem };
  }
}

export const FLAG_DIRECTION: Readonly<Record<"READ" | "WRITE" | "RW", Direction>> = {
  READ: "FROM_DEVICE",
  WRITE: "TO_DEVICE",
  RW: "BIDIRECTIONAL",
};
