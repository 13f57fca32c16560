import { readFileSync, realpathSync } from "node:fs";
import { statusMb } from "./peak-rss.js";

/** Resident memory by kind of mapping, in MB. */
export interface PeakParts {
  /** The resident size when the parts were read. */
  readonly rssMb: number;
  /** Anonymous mappings under 1 MB: V8's heap pages (256 KB each), with small malloc mappings. */
  readonly pages: number;
  /** The main thread's malloc arena ([heap]). */
  readonly malloc: number;
  /** Anonymous mappings of 1 MB or more: other threads' malloc arenas, stacks, wasm memory, V8's large objects. */
  readonly large: number;
  /** Executable anonymous mappings: code V8 compiled. */
  readonly code: number;
  /** The node binary's own pages. */
  readonly binary: number;
  /** Every other file mapped: shared libraries, native addons. */
  readonly libraries: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$/;

/** What /proc/self/smaps says resident memory is made of now; undefined where there is none (not Linux). */
export function residentParts(): PeakParts | undefined {
  let text: string;
  let binary: string;
  try {
    text = readFileSync("/proc/self/smaps", "utf8");
    binary = realpathSync(process.execPath);
  } catch {
    return undefined;
  }
  const parts = { rssMb: 0, pages: 0, malloc: 0, large: 0, code: 0, binary: 0, libraries: 0 };
  let part: keyof typeof parts = "libraries";
  for (const line of text.split("\n")) {
    const h = HEADER.exec(line);
    if (h) {
      const bytes = parseInt(h[2]!, 16) - parseInt(h[1]!, 16);
      const path = h[4]!;
      if (path === "[heap]") part = "malloc";
      else if (path === binary) part = "binary";
      else if (path === "" || path === "[stack]") part = h[3]!.includes("x") ? "code" : bytes < 1 << 20 ? "pages" : "large";
      else part = "libraries";
      continue;
    }
    if (line.startsWith("Rss:")) {
      const mb = Number(/(\d+)/.exec(line)![1]) / 1024;
      parts[part] += mb;
      parts.rssMb += mb;
    }
  }
  return parts;
}

/**
 * Reads the parts again each time the resident size passes its last high by `stepMb`, checked
 * every `everyMs` on this thread's event loop (so a long synchronous stretch is seen at its end).
 * The returned function stops watching and gives the parts at the highest point seen.
 */
export function watchPeak(everyMs = 200, stepMb = 4, read: { rss(): number | undefined; parts(): PeakParts | undefined } = { rss: () => statusMb("VmRSS"), parts: residentParts }): () => PeakParts | undefined {
  let high = 0;
  let at: PeakParts | undefined;
  const check = () => {
    const now = read.rss();
    // Not Linux: nothing to watch.
    if (now === undefined || now < high + stepMb) return;
    high = now;
    at = read.parts() ?? at;
  };
  const timer = setInterval(check, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    check();
    return at;
  };
}
