/**
 * Backfill of a generated public-inbox archive (100,000 messages by default, mostly not about
 * dma-buf, as on dri-devel) against a raw `git cat-file --batch` read of the same blobs, and the
 * backfill's peak memory at a quarter, half and all of the archive: it should not grow with it.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { listEpochs } from "../src/ingest/public-inbox/reader.js";
import { appendToInbox } from "../src/ingest/public-inbox/writer.js";
import { generateInbox } from "./inbox.js";
import type { PeakParts } from "./peak-parts.js";
import type { ThreadCpu } from "./thread-cpu.js";

// Bump when the generator changes, so a cached archive from an older one is not reused.
const GENERATOR = 3;

const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });
const ROUNDS = 3;

/** The middle one by `key`. */
export function median<T>(runs: readonly T[], key: (r: T) => number): T {
  return [...runs].sort((a, b) => key(a) - key(b))[Math.floor(runs.length / 2)]!;
}

export interface ChildResult {
  readonly messages: number;
  readonly patches: number;
  readonly reviewed: number;
  readonly skipped: number;
  readonly deleted: number;
  readonly seconds: number;
  readonly reviewSeconds: number;
  readonly maxRssMb: number;
  /** The main thread's committed heap at the end, and its young generation's part. */
  readonly heapMb?: number;
  readonly newSpaceMb?: number;
  readonly liveHeapMb: number;
  /** CPU seconds by thread up to the end of the pass (Linux only). */
  readonly cpu?: ThreadCpu;
  /** Reviews ran in a worker thread (else on the reading thread, `backfill` on two cores or fewer). */
  readonly inWorker?: boolean;
  /** Resident memory by kind of mapping at the highest point sampled during the pass (Linux only). */
  readonly peakParts?: PeakParts;
}

async function ensureInbox(count: number): Promise<{ dir: string; dmaBufSeries: number; series: number; built: boolean }> {
  const dir = join(tmpdir(), "dmabuf-review-bench", `inbox-${count}-g${GENERATOR}`);
  const marker = join(dir, "generated.json");
  if (existsSync(marker)) return { dir, ...(JSON.parse(execFileSync("cat", [marker]).toString()) as { dmaBufSeries: number; series: number }), built: false };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const g = generateInbox(count);
  // Epochs of 60,000 messages: the archive spans two, as a long-lived list does.
  await appendToInbox(dir, g.messages, { perEpoch: 60_000 });
  writeFileSync(marker, JSON.stringify({ dmaBufSeries: g.dmaBufSeries, series: g.series }));
  return { dir, dmaBufSeries: g.dmaBufSeries, series: g.series, built: true };
}

/** The blob of every message commit, epoch by epoch, then one pipelined cat-file per epoch. */
export async function rawRead(inbox: string): Promise<{ blobs: number; bytes: number; ms: number }> {
  const perEpoch = listEpochs(inbox).map((e) => {
    const log = execFileSync("git", ["--git-dir", e.dir, "log", "--first-parent", "--reverse", "--raw", "--no-abbrev", "--no-renames", "--format="], { maxBuffer: 1 << 30 }).toString();
    return { dir: e.dir, oids: [...log.matchAll(/^:\d+ \d+ [0-9a-f]+ ([0-9a-f]{40}) [AM]\tm$/gm)].map((m) => m[1]!) };
  });
  const t = performance.now();
  let bytes = 0;
  let blobs = 0;
  for (const e of perEpoch) {
    await new Promise<void>((resolve, reject) => {
      const p = spawn("git", ["--git-dir", e.dir, "cat-file", "--batch"], { stdio: ["pipe", "pipe", "inherit"] });
      p.stdout.on("data", (c: Buffer) => (bytes += c.length));
      p.on("error", reject);
      p.on("close", () => resolve());
      p.stdin.end(`${e.oids.join("\n")}\n`);
    });
    blobs += e.oids.length;
  }
  return { blobs, bytes, ms: performance.now() - t };
}

// The heap limits `npm start` runs the service with (package.json). Without them V8 lets garbage
// pile up in a heap that has room, and the peak grows with the length of the run, not with
// what the reader holds; the young generation's size can only be set when the process starts.
export const SERVICE_HEAP = ["--max-old-space-size=256", "--max-semi-space-size=2"] as const;

/** A backfill as the service's first pass makes it: with `npm start`'s heap flags, its reviews in a worker (the HTTP thread stays free). */
export function serviceBackfill(inbox: string, limit: number): Promise<ChildResult> {
  return backfill(inbox, limit, [...SERVICE_HEAP], { BENCH_WORKER: "1" });
}

export function backfill(inbox: string, limit: number, nodeArgs: readonly string[] = [], env: Record<string, string> = {}): Promise<ChildResult> {
  const db = join(tmpdir(), "dmabuf-review-bench", `state-${process.pid}-${limit}.db`);
  for (const f of [db, `${db}-wal`, `${db}-shm`, `${db}.created`]) rmSync(f, { force: true });
  const child = fileURLToPath(new URL("./backfill-child.js", import.meta.url));
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...nodeArgs, child, inbox, db, String(limit)], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } });
    let out = "";
    p.stdout.on("data", (c: Buffer) => (out += c.toString()));
    p.on("error", reject);
    p.on("close", (code) => {
      for (const f of [db, `${db}-wal`, `${db}-shm`, `${db}.created`]) rmSync(f, { force: true });
      rmSync(`${db}.outbox`, { recursive: true, force: true });
      if (code !== 0) reject(new Error(`backfill child exited ${code}`));
      else resolve(JSON.parse(out.trim().split("\n").pop()!) as ChildResult);
    });
  });
}

export interface TrackRun {
  readonly code: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly maxRssMb: number;
  readonly bytes: number;
}

/** One `dmabuf-review track --format json` over `path` (an inbox, or one epoch of it) in a child of its own. */
export function trackInbox(path: string, nodeArgs: readonly string[] = []): Promise<TrackRun> {
  const child = fileURLToPath(new URL("./track-child.js", import.meta.url));
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...nodeArgs, child, path], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (b: Buffer) => (out += b.toString()));
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve(JSON.parse(out) as TrackRun) : reject(new Error(`track child exited ${code}`))));
  });
}

/** `track`'s line: the whole inbox's time and rate against the raw read, and the peak of each part tracked (the last is the whole). */
export function trackLine(parts: readonly (readonly [string, TrackRun])[], messages: number, rawRate: number): string {
  const whole = parts[parts.length - 1]![1];
  const rate = messages / whole.seconds;
  return `track, whole inbox   ${fmt(whole.seconds * 1000).padStart(6)} ms  ${fmt(rate)} msg/s  ${(rate / rawRate).toFixed(3)} of the raw rate (target >= 0.25); cpu ${whole.cpuSeconds.toFixed(1)} s; peak RSS ${parts.map(([name, t]) => `${name}: ${fmt(t.maxRssMb)} MB`).join(", ")} (target < 300 MB); ${fmt(whole.bytes / 1e3)} KB of JSON`;
}

export async function benchPublicInbox(): Promise<void> {
  const count = Number(process.env["BENCH_INBOX_MESSAGES"] ?? 100_000);
  const t0 = performance.now();
  const inbox = await ensureInbox(count);
  const epochs = listEpochs(inbox.dir);
  console.log(
    `public-inbox backfill: ${fmt(count)} generated messages in ${epochs.length} epochs (${fmt(inbox.series)} series, ${fmt(inbox.dmaBufSeries)} touching dma-buf)${inbox.built ? `, built in ${((performance.now() - t0) / 1000).toFixed(1)} s` : ", cached"}`,
  );
  // This machine's speed wanders by a tenth or more from one minute to the next: the raw read and the
  // backfill take turns, three times each, and the medians are compared.
  const raws: Awaited<ReturnType<typeof rawRead>>[] = [];
  const fulls: ChildResult[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    raws.push(await rawRead(inbox.dir));
    fulls.push(await backfill(inbox.dir, count));
  }
  const raw = median(raws, (r) => r.ms);
  const rawRate = (raw.blobs / raw.ms) * 1000;
  console.log(
    `raw cat-file --batch  ${fmt(raw.ms).padStart(6)} ms  ${fmt(rawRate)} msg/s  (${fmt(raw.blobs)} blobs, ${(raw.bytes / 1e6).toFixed(0)} MB, one pipelined process per epoch; median of ${ROUNDS}: ${raws.map((r) => fmt(r.ms)).join(", ")} ms)`,
  );
  const full = median(fulls, (r) => r.seconds);
  const rate = full.messages / full.seconds;
  console.log(
    `backfill             ${fmt(full.seconds * 1000).padStart(6)} ms  ${fmt(rate)} msg/s  ${(rate / rawRate).toFixed(2)} of the raw rate (target >= 0.50; median of ${ROUNDS}: ${fulls.map((r) => fmt(r.seconds * 1000)).join(", ")} ms); ${fmt(full.patches)} patches, ${fmt(full.reviewed)} series reviewed (${full.inWorker ? "in a worker, overlapping the reading" : "on the reading thread"}), ${fmt(full.skipped)} skipped, ${fmt(full.deleted)} removed`,
  );
  const runs = [await backfill(inbox.dir, Math.floor(count / 4)), await backfill(inbox.dir, Math.floor(count / 2)), full];
  console.log(`backfill peak RSS     ${runs.map((r) => `${fmt(r.messages)}: ${fmt(r.maxRssMb)} MB`).join(", ")}  (the whole process${full.inWorker ? ", its review worker included" : ""}, node's default heap limit)`);
  console.log(`live JS heap          ${runs.map((r) => `${fmt(r.messages)}: ${fmt(r.liveHeapMb)} MB`).join(", ")}  (after a full GC at the end: what the reading thread keeps${full.inWorker ? "" : ", what the reviews load and their bounded caches included"})`);
  const capped = [await serviceBackfill(inbox.dir, Math.floor(count / 4)), await serviceBackfill(inbox.dir, Math.floor(count / 2)), await serviceBackfill(inbox.dir, count)];
  const cappedRate = capped[2]!.messages / capped[2]!.seconds;
  console.log(
    `peak RSS, ${SERVICE_HEAP.join(" ")}  ${capped.map((r) => `${fmt(r.messages)}: ${fmt(r.maxRssMb)} MB`).join(", ")}  (as npm start runs it, reviews in a worker; ${fmt(cappedRate)} msg/s, ${(cappedRate / rawRate).toFixed(2)} of the raw rate)`,
  );
  // Epoch 0 alone is an inbox's first part that `track` can be given: its peak beside the whole one's.
  const first = epochs[0]!;
  const commits = () => fmt(Number(execFileSync("git", ["--git-dir", first.dir, "rev-list", "--count", "HEAD"], { encoding: "utf8" })));
  const parts: [string, TrackRun][] = epochs.length > 1 ? [[`epoch ${first.name} (${commits()} commits)`, await trackInbox(first.dir)]] : [];
  parts.push(["all", await trackInbox(inbox.dir)]);
  console.log(trackLine(parts, raw.blobs, rawRate));
}
