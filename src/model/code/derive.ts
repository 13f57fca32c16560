import type { Catalog, CpuAccessPolicy, CpuAttr, Exporter, MapSync, MemoryClass, PerPlatform } from "../catalog.js";
import { callsIn, type CFunction, type OpsTable, type SeriesCode } from "./functions.js";

/** A part of an exporter entry the code does not pin down, with the values it could take. */
export interface UnknownPart {
  readonly part: "memory" | "map-sync" | "begin-cpu-access" | "end-cpu-access";
  readonly reason: string;
}

/** An exporter entry read from its code, with what could not be read. */
export interface DerivedExporter {
  readonly exporter: Exporter;
  readonly unknown: readonly UnknownPart[];
  /** Why each derived part has its value: the calls that decided it, for the review's evidence. */
  readonly evidence: readonly string[];
  readonly table: OpsTable;
}

const MAX_DEPTH = 3;
const MAP_CALLS = /^dma_map_(sgtable|sg|sg_attrs|page|page_attrs|single|single_attrs|resource)$/;
const UNMAP_CALLS = /^dma_unmap_(sgtable|sg|sg_attrs|page|page_attrs|single|single_attrs|resource)$/;
const SYNC_FOR_CPU = /^dma_sync_(sgtable|sg|single|single_range)_for_cpu$/;
const SYNC_FOR_DEVICE = /^dma_sync_(sgtable|sg|single|single_range)_for_device$/;
const CPU_FLUSH = /^(drm_clflush_sg|drm_clflush_pages|clflush_cache_range|wbinvd_on_all_cpus)$/;
const CONTIGUOUS_ALLOC = new Set(["cma_alloc", "dma_alloc_coherent", "dmam_alloc_coherent", "dma_alloc_attrs", "dma_alloc_wc", "gen_pool_alloc", "gen_pool_dma_alloc", "gen_pool_dma_zalloc", "dma_alloc_from_dev_coherent"]);
const ZEROING = /\b__GFP_ZERO\b|\bmemset\s*\(|\bclear_(highpage|page)\s*\(|\bget_zeroed_page\s*\(/;
/** An argument that names an attachment's device, not the exporter's own. */
const ATTACHMENT_DEVICE = /\b(attach|attachment|att|a|entry)\s*->\s*dev\b/;

/** A function's body with the bodies of the series' functions it calls, followed a few levels deep. */
function reach(fn: CFunction | undefined, code: SeriesCode, depth = 0, seen = new Set<string>()): string {
  if (!fn || seen.has(fn.name)) return "";
  seen.add(fn.name);
  let text = fn.body;
  if (depth >= MAX_DEPTH) return text;
  for (const c of callsIn(fn.body)) {
    const callee = code.functions.get(c.name);
    if (callee) text += `\n${reach(callee, code, depth + 1, seen)}`;
  }
  return text;
}

function same<T>(v: T): PerPlatform<T> {
  return { x86: v, arm64: v, arm32: v };
}

/** The catalog id an ops table stands for: the exporter built from its file, else a name from the table. */
function idFor(table: OpsTable, catalog: Catalog): { id: string; name: string; catalogEntry: Exporter | undefined } {
  const known = catalog.exporters.find((e) => e.files[0] === table.file) ?? catalog.exporters.find((e) => e.files.includes(table.file));
  // A heap is named by its heap ops (foo_heap_ops: foo-heap); a driver by its dma_buf_ops.
  const stem = table.struct === "dma_heap_ops" ? table.name.replace(/_ops$/, "") : table.name.replace(/_(dma_buf_|heap_)?ops$/, "");
  const base = stem.replace(/_/g, "-");
  return { id: known?.id ?? base, name: known?.name ?? `${table.name.replace(/_ops$/, "")} (derived)`, catalogEntry: known };
}

function mapSyncOf(text: string, calls: RegExp, evidence: string[], what: string): MapSync | undefined {
  const found = callsIn(text).filter((c) => calls.test(c.name));
  if (found.length === 0) return undefined;
  // dma_map_resource never syncs: BAR memory has no CPU lines.
  const skip = found.every((c) => c.name.endsWith("_resource") || c.args.some((a) => /DMA_ATTR_SKIP_CPU_SYNC/.test(a)));
  evidence.push(`${what}: ${found[0]!.name}(${found[0]!.args.join(", ")})`);
  return skip ? "skip" : "sync";
}

function cpuAccessOf(fn: CFunction | undefined, code: SeriesCode, sync: RegExp, evidence: string[], what: string): { policy: CpuAccessPolicy | undefined; direction?: string; opaque?: string } {
  if (!fn) {
    evidence.push(`${what}: not provided`);
    return { policy: "none" };
  }
  const text = reach(fn, code);
  const calls = callsIn(text);
  if (calls.some((c) => CPU_FLUSH.test(c.name))) {
    evidence.push(`${what}: flushes CPU caches itself`);
    return { policy: "cpu-flush" };
  }
  const syncs = calls.filter((c) => sync.test(c.name));
  if (syncs.length === 0) {
    // Calls into code the series does not show could still sync: say so rather than guess "noop".
    const opaque = calls.filter((c) => !code.functions.has(c.name) && !/^(mutex_|spin_|list_|dma_resv_|pr_|dev_(err|warn|dbg|info)|WARN|BUG|container_of|iosys_map_|invalidate_kernel_vmap_range|flush_kernel_vmap_range)/.test(c.name));
    if (opaque.length > 0) return { policy: undefined, opaque: `calls ${opaque.map((c) => `${c.name}()`).join(", ")}, which the series does not show` };
    evidence.push(`${what}: ${fn.name}() does no cache maintenance`);
    return { policy: "noop" };
  }
  const s = syncs[0]!;
  const perAttachment = syncs.some((c) => ATTACHMENT_DEVICE.test(c.args[0] ?? "")) || /list_for_each_entry\s*\([^;]*attachments/.test(text);
  evidence.push(`${what}: ${s.name}(${s.args.join(", ")})${perAttachment ? " for every attachment" : " for the exporter's device"}`);
  const dir = s.args.find((a) => /^DMA_(TO_DEVICE|FROM_DEVICE|BIDIRECTIONAL)$/.test(a.trim()));
  return { policy: perAttachment ? "all-attachments" : "own-device", ...(dir ? { direction: dir.trim().replace(/^DMA_/, "") } : {}) };
}

interface Backing {
  readonly memory: PerPlatform<MemoryClass> | undefined;
  readonly contiguous: boolean;
  readonly zeroed: boolean;
}

/** The memory behind the buffers: the allocation calls of the file's functions, by memory.yaml's kinds. */
function backingOf(file: string, code: SeriesCode, catalog: Catalog, evidence: string[]): Backing {
  const bodies = [...code.functions.values()].filter((f) => f.file === file).map((f) => f.body);
  const calls = bodies.flatMap((b) => callsIn(b));
  // Allocation first; a mapping call (pgprot_*) says how the CPU sees it, not what it is, unless
  // it allocates too (dma_alloc_wc is both).
  const kinds = calls
    .map((c) => ({ call: c.name, mem: catalog.memoryCalls.get(c.name) }))
    .filter((k) => k.mem && (!catalog.mappingAttrs.has(k.call) || /alloc/.test(k.call)));
  // An allocator says what the memory is; dma_mmap_coherent and the like only echo it.
  const ranked = [...kinds].sort((a, b) => +!/alloc/.test(a.call) - +!/alloc/.test(b.call));
  const pick = ranked.find((k) => k.mem!.kind !== "cached") ?? ranked[0];
  const zeroed = bodies.some((b) => ZEROING.test(b));
  if (!pick) return { memory: undefined, contiguous: false, zeroed };
  evidence.push(`memory: ${pick.call}() (${pick.mem!.kind})`);
  const contiguous = kinds.some((k) => CONTIGUOUS_ALLOC.has(k.call));
  // A coherent DMA allocation is cached and snooped where the device is coherent (x86), uncached elsewhere.
  const memory: PerPlatform<MemoryClass> =
    pick.mem!.kind === "dma-coherent-allocation" ? { x86: "cached", arm64: pick.mem!.memory, arm32: pick.mem!.memory } : same(pick.mem!.memory);
  return { memory, contiguous, zeroed };
}

function mmapOf(fn: CFunction | undefined, code: SeriesCode, catalog: Catalog, memory: PerPlatform<MemoryClass> | undefined, evidence: string[], heapOpsNotShown = false): PerPlatform<CpuAttr> {
  if (!fn && !heapOpsNotShown) {
    evidence.push("mmap: not provided, the CPU cannot map the buffer through dma-buf");
    return same("none");
  }
  const calls = fn ? callsIn(reach(fn, code)) : [];
  const attr = calls.map((c) => ({ call: c.name, attr: catalog.mappingAttrs.get(c.name) })).find((a) => a.attr);
  if (attr) {
    evidence.push(`mmap: ${attr.call}() (${attr.attr})`);
    return same(attr.attr!);
  }
  // dma_mmap_coherent/_attrs map the allocation as it is; remap_pfn_range and vm_insert_page keep the page's attribute.
  evidence.push(
    fn
      ? `mmap: ${calls.find((c) => /^(dma_mmap_|remap_pfn_range|vm_insert_page|vm_map_pages|vmf_insert_)/.test(c.name))?.name ?? fn.name}() keeps the memory's attribute`
      : "mmap: not shown; a heap maps its buffer's own pages, which keeps the memory's attribute",
  );
  const m = memory ?? same<MemoryClass>("cached");
  const attrOf = (x: MemoryClass): CpuAttr => (x === "cached" ? "cached" : x === "wc" ? "wc" : x === "protected" ? "none" : "uncached");
  return { x86: attrOf(m.x86), arm64: attrOf(m.arm64), arm32: attrOf(m.arm32) };
}

/**
 * Derive the exporter entry of one dma_buf_ops table from the series' code: backing memory from
 * the allocation calls, the CPU attribute from mmap, cache maintenance from map/unmap and
 * begin/end_cpu_access, following the functions the series defines. What the code does not show
 * is listed as unknown; the entry then carries the catalog's default for it.
 */
export function deriveExporter(table: OpsTable, code: SeriesCode, catalog: Catalog): DerivedExporter {
  return derive(table, table.members, code, catalog);
}

/**
 * Derive one exporter: `table` names it and places it (a dma_buf_ops table, or a heap's
 * dma_heap_ops); `bufOps` are the dma_buf_ops members it exports with, undefined when the series
 * does not show them (the heap exports through ops defined elsewhere).
 */
function derive(table: OpsTable, bufOps: ReadonlyMap<string, string> | undefined, code: SeriesCode, catalog: Catalog, opsName?: string): DerivedExporter {
  const fn = (member: string) => {
    const name = bufOps?.get(member);
    return name ? code.functions.get(name) : undefined;
  };
  const evidence: string[] = [];
  const unknown: UnknownPart[] = [];
  const { id, name } = idFor(table, catalog);
  const backing = backingOf(table.file, code, catalog, evidence);
  if (!backing.memory) unknown.push({ part: "memory", reason: `no allocation call in ${table.file} that memory.yaml knows` });
  const memory = backing.memory ?? same<MemoryClass>("cached");
  let mapSync: MapSync | undefined;
  let unmapSync: MapSync;
  let begin: ReturnType<typeof cpuAccessOf>;
  let end: ReturnType<typeof cpuAccessOf>;
  let mmap: PerPlatform<CpuAttr>;
  if (bufOps) {
    mapSync = mapSyncOf(reach(fn("map_dma_buf"), code), MAP_CALLS, evidence, "map_dma_buf");
    if (!mapSync) unknown.push({ part: "map-sync", reason: `${bufOps.get("map_dma_buf") ?? "map_dma_buf"}() maps through code the series does not show` });
    unmapSync = mapSyncOf(reach(fn("unmap_dma_buf"), code), UNMAP_CALLS, evidence, "unmap_dma_buf") ?? mapSync ?? "sync";
    begin = cpuAccessOf(fn("begin_cpu_access"), code, SYNC_FOR_CPU, evidence, "begin_cpu_access");
    end = cpuAccessOf(fn("end_cpu_access"), code, SYNC_FOR_DEVICE, evidence, "end_cpu_access");
    if (!begin.policy) unknown.push({ part: "begin-cpu-access", reason: `begin_cpu_access ${begin.opaque}` });
    if (!end.policy) unknown.push({ part: "end-cpu-access", reason: `end_cpu_access ${end.opaque}` });
    mmap = mmapOf(fn("mmap"), code, catalog, memory, evidence);
  } else {
    // The allocate path is shown, the dma_buf_ops it exports with are not: their cache
    // maintenance is unknown and runs over its values; the mapping keeps the memory's attribute,
    // as every heap's mmap (a remap of the buffer's own pages) does.
    const where = opsName ? `${opsName}, which the series does not show` : "dma_buf_ops the series does not show";
    const reason = `the heap exports with ${where}`;
    unknown.push({ part: "map-sync", reason }, { part: "begin-cpu-access", reason }, { part: "end-cpu-access", reason });
    mapSync = undefined;
    unmapSync = "sync";
    begin = { policy: undefined };
    end = { policy: undefined };
    mmap = mmapOf(undefined, code, catalog, memory, evidence, true);
  }
  const fixedDir = begin.direction ?? end.direction;
  const heap = table.struct === "dma_heap_ops" || table.file.startsWith("drivers/dma-buf/heaps/") || code.ops.some((o) => o.file === table.file && o.struct === "dma_heap_ops");
  const exporter: Exporter = {
    id,
    name,
    files: [table.file],
    exportPath: heap ? "heap" : "driver",
    platforms: ["x86", "arm64", "arm32"],
    memory,
    mmap,
    mapSync: mapSync ?? "sync",
    unmapSync,
    mapOnce: bufOps?.get("cache_sgt_mapping") === "true",
    begin: begin.policy ?? "none",
    end: end.policy ?? "none",
    cpuAccessDirection: (fixedDir as Exporter["cpuAccessDirection"] | undefined) ?? "caller",
    zeroedDirty: backing.zeroed && memory.arm64 === "cached",
    deviceCoherent: { x86: true, arm64: false, arm32: false },
    contiguous: backing.contiguous,
    migratesForImport: false,
    dynamic: bufOps?.has("pin") ?? false,
    unbracketedAlias: false,
    userspaceSources: heap ? ["dma-heap"] : [],
    inferred: true,
    notes: `derived from ${table.name} in ${table.file}:${table.line}${bufOps === table.members ? "" : ` (exports with ${opsName ?? "dma_buf_ops not shown"})`}`,
  };
  return { exporter, unknown, evidence, table };
}

/** The values an unknown part can take: the matrix is evaluated once per combination. */
const POSSIBLE: Readonly<Record<UnknownPart["part"], readonly Partial<Exporter>[]>> = {
  memory: [{ memory: same("cached"), mmap: same("cached") }, { memory: same("uncached"), mmap: same("uncached") }],
  "map-sync": [{ mapSync: "sync", unmapSync: "sync" }, { mapSync: "skip", unmapSync: "skip" }],
  "begin-cpu-access": [{ begin: "none" }, { begin: "all-attachments" }],
  "end-cpu-access": [{ end: "none" }, { end: "all-attachments" }],
};

function describe(v: Partial<Exporter>): string {
  if (v.memory) return `${v.memory.arm64} memory`;
  if (v.mapSync) return `map ${v.mapSync}`;
  if (v.begin) return `begin ${v.begin}`;
  return `end ${v.end ?? "?"}`;
}

/**
 * One exporter per combination of the unknown parts' values, each id suffixed with the values
 * it assumes: `foo{map skip}`. A derived entry with nothing unknown is its own single variant.
 */
export function variants(d: DerivedExporter): Exporter[] {
  let out: { e: Exporter; label: string[] }[] = [{ e: d.exporter, label: [] }];
  for (const u of d.unknown) {
    out = out.flatMap(({ e, label }) => POSSIBLE[u.part].map((v) => ({ e: { ...e, ...v }, label: [...label, describe(v)] })));
  }
  return out.map(({ e, label }) => (label.length === 0 ? e : { ...e, id: `${e.id}{${label.join(", ")}}`, name: `${e.name} assuming ${label.join(", ")}` }));
}

/** The dma_buf_ops a heap's allocate path exports with: `exp_info.ops = &foo_buf_ops`. */
function exportedOps(heap: OpsTable, code: SeriesCode): string | undefined {
  const allocate = code.functions.get(heap.members.get("allocate") ?? "");
  return allocate ? /\.\s*ops\s*=\s*&?\s*(\w+)/.exec(reach(allocate, code))?.[1] : undefined;
}

/**
 * Exporters the series adds: dma_buf_ops tables in files no catalog exporter is built from, and
 * heaps (dma_heap_ops) there whose allocate path sets the buffer up, whether the dma_buf_ops it
 * exports with are in the series (in its file or another) or not.
 */
export function deriveNewExporters(code: SeriesCode, catalog: Catalog): DerivedExporter[] {
  const isNew = (t: OpsTable) => !catalog.exporters.some((e) => e.files.includes(t.file));
  const bufTables = code.ops.filter((t) => t.struct === "dma_buf_ops" && isNew(t));
  const out: DerivedExporter[] = [];
  const usedByHeap = new Set<OpsTable>();
  for (const heap of code.ops.filter((t) => t.struct === "dma_heap_ops" && isNew(t) && t.members.has("allocate"))) {
    const opsName = exportedOps(heap, code);
    const buf = code.ops.find((t) => t.struct === "dma_buf_ops" && t.name === opsName && t.file === heap.file) ?? code.ops.find((t) => t.struct === "dma_buf_ops" && t.name === opsName);
    // A heap with its dma_buf_ops in its own file is read from those ops, as any exporter.
    if (buf && buf.file === heap.file) continue;
    if (buf) usedByHeap.add(buf);
    if (bufTables.some((t) => t.file === heap.file)) continue;
    out.push(derive(heap, buf?.members, code, catalog, opsName));
  }
  return [...bufTables.filter((t) => !usedByHeap.has(t)).map((t) => deriveExporter(t, code, catalog)), ...out];
}
