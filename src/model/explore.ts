import type { CpuAccessPolicy, CpuAttr, MapSync, Platform, Step } from "./catalog.js";
import { FLAG_DIRECTION, applyCacheOp, forCpu, forDevice, type CacheOp, type Direction } from "./platform.js";
import { INITIAL, describeLine, stateKey, type State } from "./state.js";

export type OutcomeKind = "ok" | "slow" | "stale-read" | "lost-write" | "rejected";

/** Worse outcomes first when one configuration can end several ways. */
export const OUTCOME_RANK: Readonly<Record<OutcomeKind, number>> = {
  ok: 0,
  slow: 1,
  "stale-read": 2,
  "lost-write": 3,
  rejected: 4,
};

export interface Outcome {
  readonly kind: OutcomeKind;
  /** The shortest sequence of steps and hardware events that shows the outcome. */
  readonly trace: readonly string[];
}

/**
 * Everything about one configuration that changes what happens to the line, resolved for a
 * platform. Two configurations with equal dynamics have equal outcomes (the explorer memoises).
 */
export interface Dynamics {
  readonly platform: Platform;
  readonly exporterName: string;
  readonly importerName: string;
  /** The memory can sit in the CPU cache: the line may be filled speculatively. */
  readonly cachedMemory: boolean;
  /** The alias the CPU reads and writes through (mmap). */
  readonly cpuAttr: CpuAttr;
  readonly mapSync: MapSync;
  readonly unmapSync: MapSync;
  readonly mapOnce: boolean;
  readonly begin: CpuAccessPolicy;
  readonly end: CpuAccessPolicy;
  readonly direction: "caller" | Direction;
  readonly initialDirty: boolean;
  readonly ownDeviceCoherent: boolean;
  /** dev_is_dma_coherent() of the importer: what the DMA API acts on. */
  readonly importerApiCoherent: boolean;
  /** Whether the importer's accesses to this buffer really snoop the CPU cache. */
  readonly importerSnoops: boolean;
  /** BIDIRECTIONAL for DRM imports; V4L2 queues map for the way they use the buffer. */
  readonly mapDirection: Direction | "by-use";
  /** Import costs a migration (correct, slow). */
  readonly slowImport: boolean;
  /** The importer writes back and invalidates all CPU caches when it maps the buffer. */
  readonly importFlush: boolean;
  /** The importer reads with the CPU through vmap; `brackets`: with begin/end_cpu_access. */
  readonly cpuReader: "no" | "bracketed" | "unbracketed";
}

export function dynamicsKey(d: Dynamics): string {
  return [
    d.platform,
    +d.cachedMemory,
    d.cpuAttr,
    d.mapSync,
    d.unmapSync,
    +d.mapOnce,
    d.begin,
    d.end,
    d.direction,
    +d.initialDirty,
    +d.ownDeviceCoherent,
    +d.importerApiCoherent,
    +d.importerSnoops,
    d.mapDirection,
    +d.slowImport,
    +d.importFlush,
    d.cpuReader,
  ].join("|");
}

interface Node {
  readonly st: State;
  readonly parent: Node | undefined;
  readonly event: string | undefined;
}

function opName(op: CacheOp): string {
  return op === "none" ? "no-op" : op;
}

/** The direction an attachment is mapped with: fixed by the importer, or by its first device access. */
export function mapDirection(importer: Direction | "by-use", steps: readonly Step[]): Direction {
  if (importer !== "by-use") return importer;
  const first = steps.find((s) => s.op === "device-read" || s.op === "device-write");
  return first?.op === "device-write" ? "FROM_DEVICE" : "TO_DEVICE";
}

function mapDir(d: Dynamics, steps: readonly Step[]): Direction {
  if (d.mapDirection !== "by-use") return d.mapDirection;
  const first = steps.find((s) => s.op === "device-read" || s.op === "device-write");
  return first?.op === "device-write" ? "FROM_DEVICE" : "TO_DEVICE";
}

/** A sync issued through the DMA API for a device: nothing happens for a coherent one. */
function dmaSync(
  st: State,
  kind: "for_device" | "for_cpu",
  dir: Direction,
  deviceCoherent: boolean,
  d: Dynamics,
  who: string,
): { st: State; text: string } {
  const op: CacheOp = deviceCoherent ? "none" : kind === "for_device" ? forDevice(d.platform, dir) : forCpu(d.platform, dir);
  const r = applyCacheOp(op, st.line, st.mem);
  const lost = op === "invalidate" && st.line.s === "D";
  const why = deviceCoherent ? ` (${who} is dma-coherent)` : d.platform === "x86" ? " (x86)" : "";
  const text = `dma_sync_*_${kind}(${who}, ${dir}): ${d.platform} ${opName(op)}${why}${lost ? `, dirty v${(st.line as { v: number }).v} dropped` : ""} -> ${describeLine(r.line)}, memory v${r.mem}`;
  return { st: { ...st, line: r.line, mem: r.mem }, text };
}

function cpuAccess(st: State, d: Dynamics, begin: boolean, flags: "READ" | "WRITE" | "RW"): { st: State; text: string } {
  const callback = begin ? "begin_cpu_access" : "end_cpu_access";
  const dir = d.direction === "caller" ? FLAG_DIRECTION[flags] : d.direction;
  const kind = begin ? "for_cpu" : "for_device";
  switch (begin ? d.begin : d.end) {
    case "none":
      return { st, text: `DMA_BUF_IOCTL_SYNC ${begin ? "START" : "END"}|${flags}: ${d.exporterName} has no ${callback}, no cache maintenance` };
    case "noop":
      return { st, text: `DMA_BUF_IOCTL_SYNC ${begin ? "START" : "END"}|${flags}: ${d.exporterName} ${callback} does no cache maintenance` };
    case "all-attachments": {
      if (!st.mapped) return { st, text: `${callback}: no mapped attachment to sync` };
      const r = dmaSync(st, kind, dir, d.importerApiCoherent, d, d.importerName);
      return { st: r.st, text: `${callback} on the ${d.importerName} attachment: ${r.text}` };
    }
    case "own-device": {
      const r = dmaSync(st, kind, dir, d.ownDeviceCoherent, d, "exporter device");
      return { st: r.st, text: `${callback} syncs the exporter's own device only: ${r.text}` };
    }
    case "cpu-flush": {
      const op: CacheOp = begin ? "clean+invalidate" : "clean";
      const r = applyCacheOp(op, st.line, st.mem);
      return { st: { ...st, line: r.line, mem: r.mem }, text: `${callback}: driver flushes CPU caches (${op}) -> ${describeLine(r.line)}, memory v${r.mem}` };
    }
  }
}

/** Apply one software step. */
function apply(st: State, step: Step, d: Dynamics, steps: readonly Step[]): { st: State; text: string } {
  const next = { ...st, step: st.step + 1 };
  switch (step.op) {
    case "attach":
      return { st: next, text: `dma_buf_attach(${d.importerName})${d.slowImport ? ": import needs a migration (slow)" : ""}`, ...(d.slowImport ? { st: { ...next, slow: true } } : {}) };
    case "map": {
      const dir = mapDir(d, steps);
      if (d.importFlush && !st.mapSynced) {
        // i915 on non-LLC parts writes back and invalidates every CPU cache when it maps an import.
        const r = applyCacheOp("clean+invalidate", st.line, st.mem);
        const flushed = { ...next, line: r.line, mem: r.mem, mapped: true, mapSynced: true, slow: true };
        return { st: flushed, text: `map: ${d.importerName} flushes all CPU caches (wbinvd) -> ${describeLine(r.line)}, memory v${r.mem} (slow)` };
      }
      if (d.mapSync === "skip") return { st: { ...next, mapped: true }, text: `map_dma_buf(${dir}): DMA_ATTR_SKIP_CPU_SYNC, no cache maintenance` };
      if (d.mapOnce && st.mapSynced) return { st: { ...next, mapped: true }, text: `map_dma_buf(${dir}): cached sg table returned, no cache maintenance` };
      const r = dmaSync({ ...next, mapped: true, mapSynced: true }, "for_device", dir, d.importerApiCoherent, d, d.importerName);
      return { st: r.st, text: `map_dma_buf(${dir}): ${r.text}` };
    }
    case "unmap": {
      const dir = mapDir(d, steps);
      if (d.unmapSync === "skip" || d.mapOnce) return { st: { ...next, mapped: false }, text: `unmap_dma_buf: no cache maintenance` };
      const r = dmaSync({ ...next, mapped: false }, "for_cpu", dir, d.importerApiCoherent, d, d.importerName);
      return { st: r.st, text: `unmap_dma_buf(${dir}): ${r.text}` };
    }
    case "sync-start":
      return cpuAccess(next, d, true, step.flags);
    case "sync-end":
      return cpuAccess(next, d, false, step.flags);
    case "cpu-write": {
      const v = st.latest + 1;
      if (d.cpuAttr === "cached") return { st: { ...next, line: { s: "D", v }, latest: v }, text: `CPU writes v${v} via mmap (cached): dirty line v${v}` };
      return { st: { ...next, mem: v, latest: v }, text: `CPU writes v${v} via mmap (${d.cpuAttr}): memory v${v}` };
    }
    case "cpu-read": {
      if (d.cpuAttr === "cached") {
        const line = st.line.s === "I" ? ({ s: "C", v: st.mem } as const) : st.line;
        const got = line.v;
        const stale = got < st.latest;
        return {
          st: { ...next, line, stale: st.stale || stale },
          text: `CPU reads via mmap (cached): ${st.line.s === "I" ? `fills from memory, ` : ""}gets v${got}${stale ? `, newest is v${st.latest}: stale` : ""}`,
        };
      }
      const stale = st.mem < st.latest;
      return {
        st: { ...next, slow: true, stale: st.stale || stale },
        text: `CPU reads via mmap (${d.cpuAttr}, slow): gets v${st.mem}${stale ? `, newest is v${st.latest}: stale` : ""}`,
      };
    }
    case "device-write": {
      const v = st.latest + 1;
      if (d.importerSnoops) return { st: { ...next, mem: v, latest: v, line: { s: "I" } }, text: `${d.importerName} writes v${v} (snooping): memory v${v}, CPU line invalidated` };
      return { st: { ...next, mem: v, latest: v }, text: `${d.importerName} writes v${v} to memory, CPU ${describeLine(st.line)} untouched` };
    }
    case "device-read": {
      if (d.cpuReader !== "no") return kernelCpuRead(next, d);
      const got = d.importerSnoops && st.line.s !== "I" ? st.line.v : st.mem;
      const stale = got < st.latest;
      const how = d.importerSnoops ? (st.line.s !== "I" ? "snoops the CPU cache" : "reads memory (snooping, no line)") : "reads memory";
      return {
        st: { ...next, stale: st.stale || stale },
        text: `${d.importerName} ${how}: gets v${got}${stale ? `, newest is v${st.latest}: stale` : ""}`,
      };
    }
  }
}

/** A CPU importer's read: dma_buf_vmap, bracketed with begin/end_cpu_access or not. */
function kernelCpuRead(st: State, d: Dynamics): { st: State; text: string } {
  const parts: string[] = [];
  let cur = st;
  if (d.cpuReader === "bracketed") {
    const b = cpuAccess(cur, d, true, "READ");
    cur = b.st;
    parts.push(`${d.importerName}: dma_buf_begin_cpu_access(READ): ${b.text}`);
  } else parts.push(`${d.importerName} reads through dma_buf_vmap without begin_cpu_access`);
  const r = apply({ ...cur, step: cur.step - 1 }, { op: "cpu-read" }, d, []);
  parts.push(r.text.replace("via mmap", "via vmap"));
  return { st: r.st, text: parts.join("; ") };
}

/** Hardware events that may happen between any two steps. */
function hardware(st: State, d: Dynamics): { st: State; text: string }[] {
  const out: { st: State; text: string }[] = [];
  if (st.line.s === "D") {
    out.push({ st: { ...st, mem: st.line.v, line: { s: "C", v: st.line.v } }, text: `[hw] eviction writes dirty v${st.line.v} back to memory` });
  }
  if (st.line.s === "I" && d.cachedMemory) {
    out.push({ st: { ...st, line: { s: "C", v: st.mem } }, text: `[hw] speculative fill through a cached alias: clean line v${st.mem}` });
  }
  return out;
}

function classify(st: State): OutcomeKind {
  // Eventually every dirty line is written back; memory must then hold the newest version.
  const finalMem = st.line.s === "D" ? st.line.v : st.mem;
  if (finalMem < st.latest) return "lost-write";
  if (st.stale) return "stale-read";
  return st.slow ? "slow" : "ok";
}

function traceOf(n: Node, final: State): string[] {
  const out: string[] = [];
  for (let c: Node | undefined = n; c; c = c.parent) if (c.event) out.push(c.event);
  out.reverse();
  const kind = classify(final);
  if (kind === "stale-read") {
    // The outcome shows at the first stale read; what follows adds nothing.
    const at = out.findIndex((e) => e.endsWith(": stale"));
    if (at >= 0) out.length = at + 1;
  }
  if (kind === "lost-write") {
    const finalMem = final.line.s === "D" ? final.line.v : final.mem;
    out.push(`end: memory settles at v${finalMem}, newest write was v${final.latest}: lost`);
  }
  return out;
}

/**
 * Breadth-first search over steps and hardware events: every reachable end state is
 * classified, and for the worst outcome the first (shortest) trace that reaches it is kept.
 */
export function explore(d: Dynamics, steps: readonly Step[]): Outcome {
  // Zeroing through a cached alias at allocation leaves the line dirty with the zeroes (v0).
  const initial: State = d.initialDirty ? { ...INITIAL, line: { s: "D", v: 0 } } : INITIAL;
  const seen = new Set<number>([stateKey(initial)]);
  let frontier: Node[] = [{ st: initial, parent: undefined, event: undefined }];
  let best: { kind: OutcomeKind; node: Node; st: State } | undefined;
  while (frontier.length > 0) {
    const next: Node[] = [];
    for (const node of frontier) {
      const st = node.st;
      if (st.step === steps.length) {
        const kind = classify(st);
        if (!best || OUTCOME_RANK[kind] > OUTCOME_RANK[best.kind]) best = { kind, node, st };
      }
      const succ = st.step < steps.length ? [apply(st, steps[st.step]!, d, steps), ...hardware(st, d)] : hardware(st, d);
      for (const s of succ) {
        const key = stateKey(s.st);
        if (seen.has(key)) continue;
        seen.add(key);
        next.push({ st: s.st, parent: node, event: s.text });
      }
    }
    frontier = next;
  }
  if (!best) throw new Error("explore: no end state reached");
  // For a correct outcome the witness is the run without hardware events: the steps that make it work.
  return { kind: best.kind, trace: best.kind === "ok" || best.kind === "slow" ? deterministicRun(d, steps, initial) : traceOf(best.node, best.st) };
}

function deterministicRun(d: Dynamics, steps: readonly Step[], initial: State): string[] {
  const out: string[] = [];
  let st = initial;
  for (const step of steps) {
    const r = apply(st, step, d, steps);
    out.push(r.text);
    st = r.st;
  }
  return out;
}
