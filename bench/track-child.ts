/**
 * One `dmabuf-review track` in its own process, so that its time and peak memory are its own;
 * the output is counted and dropped. Prints one JSON line on stdout.
 * Usage: node dist/bench/track-child.js <path>
 */
import { Writable } from "node:stream";
import { boundYoungGeneration } from "../src/heap.js";
import { peakRssMb } from "./peak-rss.js";

// As the CLI does (bin/dmabuf-review.js): before the rest is loaded.
boundYoungGeneration();
const { main } = await import("../src/cli/main.js");

const [path] = process.argv.slice(2) as [string];
let bytes = 0;
const sink = new Writable({
  write(chunk: Buffer | string, _enc, cb) {
    bytes += Buffer.byteLength(chunk);
    cb();
  },
});
const quiet = new Writable({ write: (_c, _e, cb) => cb() });
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const code = await main(["track", path, "--format", "json"], { stdin: process.stdin, stdout: sink, stderr: quiet });
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({ code, seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMb: peakRssMb(), bytes })}\n`,
);
