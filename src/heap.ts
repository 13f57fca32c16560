import { setFlagsFromString } from "node:v8";

/**
 * How far a heap may grow past what its last full collection left, in percent. V8's own factor
 * (up to four times, with memory to spare) lets garbage pile up to several times what a long run
 * holds, so the peak follows the input rather than what is kept. A V8 flag: for the whole process.
 */
export function boundHeapGrowth(percent: number): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}

let youngBounded = false;

/**
 * Keeps each young generation at the size it starts with (1 MB semi-spaces). V8 doubles it, up to
 * 16 MB semi-spaces by default, whenever much outlives a scavenge, as on a thread holding what it
 * read while it waits on git, the store or a worker: 32 MB committed for little work saved.
 * --max-semi-space-size counts only at start; the growth factor is read at each growth.
 */
export function boundYoungGeneration(): void {
  youngBounded = true;
  setFlagsFromString("--semi-space-growth-factor=1");
}

/**
 * Starts a worker with its young generation at `youngMb` (or its own bound, if lower) from the
 * beginning, where its first reviews would grow it. V8 reads the flag as it sets an isolate up,
 * and setting one up puts the growth factor back to its default, for every thread: taken back here.
 */
export function startIsolate<W extends { once(event: "online", f: () => void): unknown }>(youngMb: number, start: () => W): W {
  setFlagsFromString(`--min-semi-space-size=${youngMb}`);
  const worker = start();
  if (youngBounded) worker.once("online", boundYoungGeneration);
  return worker;
}

/** A command over a long input that holds outlines and one series or chain in full (review, track). */
export const OUTLINED_INPUT_GROWTH = 50;
