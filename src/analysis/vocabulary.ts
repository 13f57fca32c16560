/**
 * The dma-buf surface in the kernel's own names: what a hunk can touch. Kept as data so a new
 * API (say the 2026 mapping-type negotiation) is one line here, not a new code path.
 */

export type Area =
  | "core"
  | "uapi"
  | "heaps"
  | "udmabuf"
  | "drm-prime"
  | "gem-helper"
  | "vb2"
  | "dma-mapping"
  | "exporter-driver"
  | "documentation"
  | "userspace"
  | "other";

const AREA_BY_PATH: readonly [RegExp, Area][] = [
  [/^Documentation\//, "documentation"],
  [/^include\/uapi\/linux\/(dma-buf|dma-heap|udmabuf)\.h$/, "uapi"],
  [/^drivers\/dma-buf\/heaps\/|^drivers\/dma-buf\/dma-heap\.c$|^include\/linux\/dma-heap\.h$/, "heaps"],
  [/^drivers\/dma-buf\/udmabuf\.c$/, "udmabuf"],
  [/^drivers\/dma-buf\/|^include\/linux\/dma-(buf|resv|fence)[\w-]*\.h$/, "core"],
  [/^drivers\/gpu\/drm\/drm_prime\.c$|^include\/drm\/drm_prime\.h$/, "drm-prime"],
  [/^drivers\/gpu\/drm\/drm_gem_[\w]*helper\.c$|^include\/drm\/drm_gem_[\w]*helper\.h$/, "gem-helper"],
  [/^drivers\/media\/common\/videobuf2\/|^include\/media\/videobuf2-/, "vb2"],
  [/^kernel\/dma\/|^include\/linux\/dma-(mapping|map-ops|direct)\.h$|^arch\/[\w]+\/mm\/dma-mapping[\w-]*\.c$/, "dma-mapping"],
];

/** Top-level directories of a kernel tree; anything else (and tools/) is userspace code. */
const KERNEL_DIRS = /^(arch|block|certs|crypto|drivers|fs|include|init|io_uring|ipc|kernel|lib|mm|net|rust|samples|scripts|security|sound|usr|virt)\//;

export function areaOfPath(path: string): Area {
  for (const [re, area] of AREA_BY_PATH) if (re.test(path)) return area;
  if (isCSource(path) && (!KERNEL_DIRS.test(path) || /\.(cc|cpp|cxx|hh|hpp|hxx)$/.test(path))) return "userspace";
  return "other";
}

/** Selftests, KUnit tests, documentation, tools and samples: code no shared buffer runs through. */
const MINOR_PATH = /^(Documentation|tools|samples)\/|(^|\/)(selftests|tests|kunit)\/|^drivers\/dma-buf\/(st-[\w-]+|selftest)\.[ch]$/;

export function isMinorPath(path: string): boolean {
  return MINOR_PATH.test(path);
}

export function isCSource(path: string): boolean {
  return /\.(c|h|cc|cpp|cxx|hh|hpp|hxx)$/.test(path);
}

/** Text that marks userspace code as handling dma-buf file descriptors. */
export const USERSPACE_DMA_BUF_MARKER =
  /\bDMA_BUF_\w+|linux\/dma-(buf|heap)\.h|\/dev\/dma_heap|DMA_HEAP_IOCTL_ALLOC|drmPrime(FDToHandle|HandleToFD)|DRM_IOCTL_PRIME_\w+|VIDIOC_EXPBUF|V4L2_MEMORY_DMABUF|UDMABUF_CREATE|EGL_LINUX_DMA_BUF_EXT|DMA_BUF_BIT_EXT|dmabuf|dma_buf/i;

/** The `struct dma_buf_ops` members. */
export const OPS_MEMBERS = [
  "attach",
  "detach",
  "pin",
  "unpin",
  "map_dma_buf",
  "unmap_dma_buf",
  "release",
  "begin_cpu_access",
  "end_cpu_access",
  "mmap",
  "vmap",
  "vunmap",
  "cache_sgt_mapping",
] as const;
export type OpsMember = (typeof OPS_MEMBERS)[number];

/**
 * Function-name endings that in-tree exporters use for their dma_buf_ops callbacks, for
 * hunks whose initializer is not in view (vb2 calls map_dma_buf "dmabuf_ops_map").
 */
export const OPS_IMPL_SUFFIXES: readonly [RegExp, OpsMember][] = [
  [/_begin_cpu_access$/, "begin_cpu_access"],
  [/_end_cpu_access$/, "end_cpu_access"],
  [/_unmap_dma_buf$|_dmabuf_ops_unmap$|_unmap_dmabuf$/, "unmap_dma_buf"],
  [/_map_dma_buf$|_dmabuf_ops_map$|_map_dmabuf$/, "map_dma_buf"],
  [/_dma_?buf_(ops_)?attach$|_heap_attach$|^drm_gem_map_attach$/, "attach"],
  [/_dma_?buf_(ops_)?detach$|_heap_detach$|^drm_gem_map_detach$/, "detach"],
  [/_dma_?buf_(ops_)?mmap$|_heap_mmap$|^drm_gem_dmabuf_mmap$/, "mmap"],
  [/_dma_?buf_(ops_)?vmap$|_heap_vmap$|^drm_gem_dmabuf_vmap$/, "vmap"],
  [/_dma_?buf_(ops_)?vunmap$|_heap_vunmap$|^drm_gem_dmabuf_vunmap$/, "vunmap"],
  [/_dma_?buf_(ops_)?release$|_heap_dma_buf_release$/, "release"],
  // udmabuf puts the verb first: map_udmabuf, begin_cpu_udmabuf, release_udmabuf.
  [/^begin_cpu_udmabuf$/, "begin_cpu_access"],
  [/^end_cpu_udmabuf$/, "end_cpu_access"],
  [/^unmap_udmabuf$/, "unmap_dma_buf"],
  [/^map_udmabuf$/, "map_dma_buf"],
  [/^mmap_udmabuf$/, "mmap"],
  [/^vmap_udmabuf$/, "vmap"],
  [/^vunmap_udmabuf$/, "vunmap"],
  [/^release_udmabuf$/, "release"],
];

/**
 * Helpers that do an ops member's work in a file where the name alone says nothing: udmabuf
 * maps and unmaps for importers in get_sg_table()/put_sg_table(), called from map_udmabuf()
 * and unmap_udmabuf() far from any hunk that changes them.
 */
export const OPS_HELPERS_BY_FILE: Readonly<Record<string, Readonly<Record<string, OpsMember>>>> = {
  "drivers/dma-buf/udmabuf.c": { get_sg_table: "map_dma_buf", put_sg_table: "unmap_dma_buf" },
};

/** Structs of the framework whose fields a patch may add or remove. */
export const FRAMEWORK_STRUCTS = new Set([
  "dma_buf",
  "dma_buf_export_info",
  "dma_buf_attachment",
  "dma_buf_ops",
  "dma_buf_attach_ops",
  "dma_buf_sync",
]);

export type CallKind = "framework-call" | "cache-sync" | "dma-map" | "coherency-query" | "mapping-attr";

const CALLS: readonly [RegExp, CallKind][] = [
  [
    /^dma_buf_(attach|dynamic_attach|detach|map_attachment|map_attachment_unlocked|unmap_attachment|unmap_attachment_unlocked|begin_cpu_access|end_cpu_access|vmap|vmap_unlocked|vunmap|vunmap_unlocked|mmap|export|fd|get|put|pin|unpin|move_notify|mapping_attach)$/,
    "framework-call",
  ],
  [/^drm_gem_prime_(export|import|import_dev)$|^drm_gem_dmabuf_(export|mmap|vmap|vunmap)$/, "framework-call"],
  [
    /^dma_sync_(single|sg|sgtable|single_range)_for_(cpu|device)$|^arch_sync_dma_for_(cpu|device)$|^(invalidate|flush)_kernel_vmap_range$|^dma_cache_sync$|^clflush_cache_range$|^drm_clflush_\w+$|^wbinvd_on_all_cpus$|^dma_buf_sync_\w+$/,
    "cache-sync",
  ],
  [/^dma_(map|unmap)_(sgtable|sg|sg_attrs|page|page_attrs|single|single_attrs|resource|phys)$/, "dma-map"],
  [/^(dev_is_dma_coherent|dev_dma_coherent|of_dma_is_coherent|device_get_dma_attr|acpi_get_dma_attr)$/, "coherency-query"],
  [
    /^(pgprot_writecombine|pgprot_noncached|pgprot_dmacoherent|pgprot_device|dma_alloc_wc|dma_mmap_wc|dma_alloc_coherent|dma_alloc_noncoherent|dma_alloc_attrs|dma_mmap_attrs|dma_mmap_noncontiguous|dma_vmap_noncontiguous|set_pages_array_wc|set_pages_array_wb|set_memory_wc|set_memory_uc)$/,
    "mapping-attr",
  ],
];

export function callKind(name: string): CallKind | undefined {
  for (const [re, kind] of CALLS) if (re.test(name)) return kind;
  return undefined;
}

/** Identifiers whose appearance or disappearance matters on their own. */
export const ATTR_IDENTIFIERS = new Set([
  "DMA_ATTR_SKIP_CPU_SYNC",
  "DMA_ATTR_REQUIRE_COHERENT",
  "DMA_ATTR_WRITE_COMBINE",
  "DMA_ATTR_NON_CONSISTENT",
  "PAGE_KERNEL",
  "DMA_BIDIRECTIONAL",
]);

export const UAPI_IDENTIFIER = /^(DMA_BUF_SYNC_\w+|DMA_BUF_IOCTL_\w+|DMA_HEAP_IOCTL_\w+|UDMABUF_\w+)$/;

/** A field name that reads as a coherency flag: dma_coherent, coherent, is_coherent. */
export const COHERENCY_FIELD = /(^|_)coheren(t|cy)$/;

/** Text that marks a file as dma-buf code even outside the known paths. */
export const DMA_BUF_MARKER = /\bdma_buf\w*|\bdmabuf\b|\bDMA_BUF_\w+/;
