/**
 * One backfill in its own process, so that its peak memory is its own: prints one JSON line.
 * Usage: node dist/bench/backfill-child.js <inbox> <db> <limit>
 */
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import type { ChannelContext } from "../src/channels/context.js";
import { boundYoungGeneration } from "../src/heap.js";
import { watchPeak } from "./peak-parts.js";
import { peakRssMb } from "./peak-rss.js";
import { splitThreadCpu, threadCpuSeconds } from "./thread-cpu.js";

// As the CLI does (bin/dmabuf-review.js): before the rest is loaded.
boundYoungGeneration();
const { pino } = await import("pino");
const { lazyReviewDeps } = await import("../src/channels/context.js");
const { mailTarget, MailMirror } = await import("../src/channels/mail.js");
const { backfillReviews, startReviewPool } = await import("../src/channels/review-pool.js");
const { loadConfig } = await import("../src/config/config.js");
const { Store } = await import("../src/state/store.js");

/** The main thread's heap after a full collection: what the reader holds on to. */
function liveHeapMb(): number {
  v8.setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  gc();
  return process.memoryUsage().heapUsed / 1048576;
}

/** The main thread's heap as the run left it, before any collection: committed, and its young generation's part. */
function heapMb(): { heapMb: number; newSpaceMb: number } {
  const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
  return { heapMb: v8.getHeapStatistics().total_heap_size / 1048576, newSpaceMb: (newSpace?.space_size ?? 0) / 1048576 };
}

const [inbox, db, limit] = process.argv.slice(2) as [string, string, string];
const peak = watchPeak();
const config = await loadConfig(undefined);
const store = Store.open(db);
const ctx: ChannelContext = { config, store, review: lazyReviewDeps(), log: pino({ level: "error", base: undefined }, pino.destination(2)) };
const mirror = { name: "bench", inbox, remote: undefined, pollSeconds: 300, policy: "all" as const, threshold: "warning" as const, list: undefined, history: "record" as const };
const target = mailTarget(ctx, { outbox: `${db}.outbox` });
const threadsBefore = new Set(threadCpuSeconds()?.keys());
// As `backfill` reviews; BENCH_WORKER=1 puts the reviews in a worker whatever the cores.
const pool = process.env["BENCH_WORKER"] ? await startReviewPool(1, ctx.review, ctx.log) : await backfillReviews(ctx.review, ctx.log);
const engine = new MailMirror(ctx, mirror, target, pool);
const stats = await engine.pass({ reply: "none", limit: Number(limit) });
// Read before the pool closes: an ended worker thread is no longer listed.
const cpu = splitThreadCpu(threadsBefore, threadCpuSeconds(), pool.size > 0);
const peakParts = peak();
await engine.close();
target.close();
await pool.close();
store.close();
const heap = heapMb();
process.stdout.write(
  `${JSON.stringify({
    messages: stats.messages,
    patches: stats.patches,
    reviewed: stats.reviewed,
    skipped: stats.skipped.length,
    deleted: stats.deleted,
    seconds: stats.seconds,
    reviewSeconds: stats.reviewSeconds,
    maxRssMb: peakRssMb(),
    cpu,
    inWorker: pool.size > 0,
    peakParts,
    ...heap,
    liveHeapMb: liveHeapMb(),
  })}\n`,
);
