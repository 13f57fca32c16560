import { readFileSync } from "node:fs";

/** A size field of /proc/self/status (VmRSS, VmHWM, ...) in MB; undefined where there is none (not Linux). */
export function statusMb(field: string): number | undefined {
  try {
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined; // not Linux
  }
}

/**
 * Peak resident memory of this process. getrusage's maxRSS is inherited across fork and exec on
 * Linux (a child of the big bench process would report the parent's peak); VmHWM belongs to
 * this process image alone.
 */
export function peakRssMb(): number {
  return statusMb("VmHWM") ?? process.resourceUsage().maxRSS / 1024;
}
