/**
 * One `dmabuf-review review` in its own process, so that its time and peak memory are its own;
 * the output is counted and dropped. Prints one JSON line on stderr's neighbour, stdout.
 * Usage: node dist/bench/review-child.js <path> [text|json]
 */
import { Writable } from "node:stream";
import { main } from "../src/cli/main.js";
import { peakRssMb } from "./peak-rss.js";

const [path, format] = process.argv.slice(2) as [string, string | undefined];
let bytes = 0;
const sink = new Writable({
  write(chunk: Buffer | string, _enc, cb) {
    bytes += Buffer.byteLength(chunk);
    cb();
  },
});
const errors: string[] = [];
const stderr = new Writable({
  write(chunk: Buffer | string, _enc, cb) {
    errors.push(chunk.toString());
    cb();
  },
});
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const code = await main(["review", path, "--format", format ?? "text"], { stdin: process.stdin, stdout: sink, stderr });
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({ code, seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMb: peakRssMb(), bytes, stderr: errors.join("") })}\n`,
);
