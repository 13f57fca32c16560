import { setFlagsFromString } from "node:v8";

/**
 * How far a heap may grow past what its last full collection left, in percent. V8's own factor
 * (up to four times, with memory to spare) lets garbage pile up to several times what a long run
 * holds, so the peak follows the input rather than what is kept. A V8 flag: for the whole process.
 */
export function boundHeapGrowth(percent: number): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/** A command over a long input that holds outlines and one series or chain in full (review, track). */
export const OUTLINED_INPUT_GROWTH = 50;
