import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

/**
 * How far a heap may grow past what its last full collection left, in percent. V8's own factor
 * (up to four times, with memory to spare) lets garbage pile up to several times what a long run
 * holds, so the peak follows the input rather than what is kept. A V8 flag: for the whole process.
 */
export function boundHeapGrowth(percent: number): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}

// Each young generation stops growing at this (semi-spaces of 4 MB), where default flags take it to 16.
const YOUNG_SPACE_BYTES = 8 << 20;
let youngBounded = false;
let held = false;
let watching: PerformanceObserver | undefined;

const newSpaceBytes = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;

/** Once this thread's young generation has grown to its bound, no young generation grows further. */
function holdYoungGeneration(): void {
  if (!held && newSpaceBytes() < YOUNG_SPACE_BYTES) return;
  held = true;
  setFlagsFromString("--semi-space-growth-factor=1");
  watching?.disconnect();
  watching = undefined;
}

/**
 * Lets each young generation grow (V8 doubles it whenever much outlives a scavenge) only to 8 MB
 * instead of the default 32 MB: a thread holding what it read while it waits on git, the store or
 * a worker keeps it at its largest, committed for little work saved. --max-semi-space-size counts
 * only at start; the growth factor is read at each growth, so it is set to 1 once there. GC entries
 * reach the observer after the collection, so one more doubling (16 MB) can slip through first.
 */
export function boundYoungGeneration(): void {
  youngBounded = true;
  holdYoungGeneration();
  if (newSpaceBytes() >= YOUNG_SPACE_BYTES || watching) return;
  watching = new PerformanceObserver(holdYoungGeneration);
  watching.observe({ entryTypes: ["gc"] });
}

/**
 * Starts a worker with its young generation at `youngMb` (or its own bound, if lower) from the
 * beginning, where its first reviews would grow it. V8 reads the flag as it sets an isolate up,
 * and setting one up puts the growth factor back to its default, for every thread: held again
 * here, even where this thread's young generation has shrunk below the bound since.
 */
export function startIsolate<W extends { once(event: "online", f: () => void): unknown }>(youngMb: number, start: () => W): W {
  setFlagsFromString(`--min-semi-space-size=${youngMb}`);
  const worker = start();
  if (youngBounded) worker.once("online", boundYoungGeneration);
  return worker;
}

/** A command over a long input that holds outlines and one series or chain in full (review, track). */
export const OUTLINED_INPUT_GROWTH = 50;
