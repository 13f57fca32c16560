import type { ModelTexts } from "./messages.js";

/**
 * The model's world: exporters (one per exporter and memory type), importer device classes,
 * platforms and access patterns. Data comes from rules/catalog/ (validated at load time);
 * these are the shapes the checker works on. No I/O here.
 */

export type Platform = "x86" | "arm64" | "arm32";
export const PLATFORMS: readonly Platform[] = ["x86", "arm64", "arm32"];

/** How the CPU sees memory through one alias. `none`: no such alias can hold a line. */
export type CpuAttr = "cached" | "wc" | "uncached" | "none";

/**
 * What backs a buffer, as the checker sees it: `cached` RAM is the only class whose lines the
 * CPU cache can hold; wc and uncached RAM, on-chip SRAM, device memory behind a BAR (vram,
 * mmio) never go stale; protected memory has no CPU mapping at all.
 */
export type MemoryClass = "cached" | "wc" | "uncached" | "vram" | "sram" | "mmio" | "protected";

/** Per platform where it differs (vb2-dma-contig memory is cached only on coherent devices). */
export type PerPlatform<T> = Readonly<Record<Platform, T>>;

/**
 * What begin/end_cpu_access do:
 * - none: the exporter has no such op (DMA_BUF_IOCTL_SYNC only waits for fences);
 * - noop: the op exists and does no cache maintenance;
 * - all-attachments: sync for every mapped attachment's device (system and CMA heaps);
 * - own-device: sync only for the exporter's own device (vb2-dma-sg, udmabuf misc device);
 * - cpu-flush: the driver flushes CPU caches itself (i915 clflush domains): works for any device.
 */
export type CpuAccessPolicy = "none" | "noop" | "all-attachments" | "own-device" | "cpu-flush";

/** Cache maintenance in map_dma_buf: sync (attrs 0) or skip (DMA_ATTR_SKIP_CPU_SYNC). */
export type MapSync = "sync" | "skip";

/** The memory a device access goes to: through the CPU cache hierarchy (snoop) or around it. */
export type DeviceAccess = "snoop" | "no-snoop" | "per-buffer";

export interface Exporter {
  readonly id: string;
  readonly name: string;
  /** Kernel files the entry is based on; a patch to one of them changes this entry. */
  readonly files: readonly string[];
  /** How buffers leave the driver: the export path a flag-setting patch goes through. */
  readonly exportPath: "heap" | "udmabuf" | "drm-prime" | "vb2-dma-contig" | "vb2-dma-sg" | "vb2-vmalloc" | "driver";
  readonly platforms: readonly Platform[];
  /** Whether the backing memory can sit in the CPU cache at all (a cached alias exists). */
  readonly memory: PerPlatform<MemoryClass>;
  readonly mmap: PerPlatform<CpuAttr>;
  readonly mapSync: MapSync;
  readonly unmapSync: MapSync;
  /** The core or the exporter caches the device mapping: map-time maintenance runs once. */
  readonly mapOnce: boolean;
  readonly begin: CpuAccessPolicy;
  readonly end: CpuAccessPolicy;
  /** begin/end sync with the caller's direction, or a fixed one (vb2 uses buf->dma_dir). */
  readonly cpuAccessDirection: "caller" | "TO_DEVICE" | "FROM_DEVICE" | "BIDIRECTIONAL";
  /** Allocation zeroes the buffer through a cached alias and leaves dirty lines behind. */
  readonly zeroedDirty: boolean;
  /** dev_is_dma_coherent() of the exporter's own device. */
  readonly deviceCoherent: PerPlatform<boolean>;
  readonly contiguous: boolean;
  /** Device access to it needs migration first (VRAM to a non-P2P importer): correct but slow. */
  readonly migratesForImport: boolean;
  /** The exporter is dynamic (pin/unpin, move_notify to dynamic importers). */
  readonly dynamic: boolean;
  /**
   * The CPU may legitimately reach the pages outside dma-buf, without DMA_BUF_IOCTL_SYNC
   * (udmabuf's memfd mapping): unbracketed CPU access through it is not a userspace bug.
   */
  readonly unbracketedAlias: boolean;
  /** How userspace code gets a dma-buf fd of this exporter (dma-heap, PRIME export, VIDIOC_EXPBUF...). */
  readonly userspaceSources: readonly string[];
  /** A claim the domain notes mark as inferred rather than read in code or on the lists. */
  readonly inferred: boolean;
  readonly notes: string;
}

export interface Importer {
  readonly id: string;
  readonly name: string;
  readonly files: readonly string[];
  readonly platforms: readonly Platform[];
  /** What dev_is_dma_coherent() says for the device. */
  readonly devCoherent: PerPlatform<boolean>;
  /** How its DMA really behaves for an imported buffer. */
  readonly access: DeviceAccess;
  readonly needsContiguous: boolean;
  /** The device reaches memory through an IOMMU (device_iommu_mapped()). */
  readonly iommu: boolean;
  /** The importer sets allow_peer2peer: it accepts BAR addresses. */
  readonly peer2peer: boolean;
  /** The importer provides move_notify (dma_buf_attachment_is_dynamic()). */
  readonly dynamic: boolean;
  /** The importer writes back and invalidates all CPU caches on import (i915 non-LLC): slow. */
  readonly flushesOnImport: boolean;
  /**
   * An importer that reads with the CPU through dma_buf_vmap (USB displays): its "device read"
   * is a kernel CPU read, bracketed with dma_buf_begin/end_cpu_access or not.
   */
  readonly cpuReader: { readonly brackets: boolean } | undefined;
  readonly mapDirection: "bidirectional" | "by-use";
  /** The device writes what it imports; a scanout engine only reads. */
  readonly deviceWrites: boolean;
  /** Userspace calls that import a dma-buf fd into this device (PRIME, V4L2 QBUF, EGL, Vulkan, GBM). */
  readonly userspaceApis: readonly string[];
  /** Userspace calls that reach dma_buf_attach() for this importer. */
  readonly entryPoints: readonly string[];
  readonly inferred: boolean;
  readonly notes: string;
}

export type SyncFlags = "READ" | "WRITE" | "RW";

/** One software step of an access pattern. */
export type Step =
  | { readonly op: "attach" }
  | { readonly op: "map" }
  | { readonly op: "unmap" }
  | { readonly op: "sync-start"; readonly flags: SyncFlags }
  | { readonly op: "sync-end"; readonly flags: SyncFlags }
  | { readonly op: "cpu-write" }
  | { readonly op: "cpu-read" }
  | { readonly op: "device-write" }
  | { readonly op: "device-read" };

export interface Pattern {
  readonly id: string;
  readonly name: string;
  /** Every CPU access is bracketed with DMA_BUF_IOCTL_SYNC with the right flags. */
  readonly bracketed: boolean;
  readonly steps: readonly Step[];
}

export interface MemoryCall {
  /** The memory.yaml kind ("cached" for the cached allocations). */
  readonly kind: string;
  readonly memory: MemoryClass;
}

export interface Catalog {
  readonly version: string;
  /** The CPU mapping attribute a call sets up (pgprot_writecombine: wc), from rules/catalog/memory.yaml. */
  readonly mappingAttrs: ReadonlyMap<string, "wc" | "uncached">;
  /** The memory an allocation or mapping call stands for (memory.yaml): what a derived exporter is backed by. */
  readonly memoryCalls: ReadonlyMap<string, MemoryCall>;
  /** The model's result categories and finding texts (rules/catalog/model-findings.yaml). */
  readonly texts: ModelTexts;
  readonly exporters: readonly Exporter[];
  readonly importers: readonly Importer[];
  readonly patterns: readonly Pattern[];
}

/** exporter × importer × platform × pattern. */
export interface Configuration {
  readonly exporter: Exporter;
  readonly importer: Importer;
  readonly platform: Platform;
  readonly pattern: Pattern;
}

export function configurationKey(c: { exporter: { id: string }; importer: { id: string }; platform: Platform; pattern: { id: string } }): string {
  return `${c.exporter.id}|${c.importer.id}|${c.platform}|${c.pattern.id}`;
}
