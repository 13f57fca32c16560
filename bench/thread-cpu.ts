import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU seconds of each thread of this process so far (Linux: /proc/self/task), by thread id;
 * undefined elsewhere. A thread that has ended is no longer listed.
 */
export function threadCpuSeconds(): Map<number, number> | undefined {
  let tids: string[];
  try {
    tids = readdirSync("/proc/self/task");
  } catch {
    return undefined;
  }
  // utime and stime are in clock ticks; 100 per second on every Linux node runs on.
  const ticks = 100;
  const out = new Map<number, number>();
  for (const t of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(t), (Number(f[11]) + Number(f[12])) / ticks);
    } catch {
      // ended between the listing and the read
    }
  }
  return out;
}

/** Where a run's CPU went: this thread, the busiest thread started after `before` (the review worker, where there is one), and all others. */
export interface ThreadCpu {
  readonly main: number;
  readonly worker: number;
  readonly others: number;
}

export function splitThreadCpu(before: ReadonlySet<number>, now: Map<number, number> | undefined, hasWorker = true): ThreadCpu | undefined {
  if (!now) return undefined;
  let main = 0;
  let worker = 0;
  let others = 0;
  for (const [tid, s] of now) {
    if (tid === process.pid) main = s;
    else if (hasWorker && !before.has(tid) && s > worker) {
      others += worker;
      worker = s;
    } else others += s;
  }
  return { main, worker, others };
}

