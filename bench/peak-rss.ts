import { readFileSync } from "node:fs";

/**
 * Peak resident memory of this process. getrusage's maxRSS is inherited across fork and exec on
 * Linux (a child of the big bench process would report the parent's peak); VmHWM belongs to
 * this process image alone.
 */
export function peakRssMb(): number {
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}
