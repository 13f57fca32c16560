import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import type { Logger } from "pino";
import { trackSeries, type TrackResult } from "../feedback/track.js";
import type { Series } from "../patch/series.js";
import { ReviewCache } from "../review/review-cache.js";
import { reviewSeries, type SeriesReview } from "../review/review-series.js";
import { loadReviewDeps, type ReviewDeps } from "./context.js";

/**
 * Where the forge channels run `reviewSeries`: the same function the CLI calls, in worker
 * threads. A review is CPU work (tree-sitter, rules, the model's matrix); on the thread that
 * answers webhooks, one large merge request would hold every other delivery and /healthz
 * past the forges' ten-second patience.
 */
export type Reviewer = (series: Series) => Promise<SeriesReview>;

/**
 * trackSeries in the same workers: tracking reviews every revision again and re-runs the model
 * on each, as much CPU as a review. `place` says where earlier revisions were looked for.
 */
export type Tracking = (current: Series, known: readonly Series[], place: string, ignore?: readonly string[]) => Promise<TrackResult>;

export interface ReviewPool {
  readonly review: Reviewer;
  readonly track: Tracking;
  /** Worker threads; 0 when reviews run on the calling thread. */
  readonly size: number;
  close(): Promise<void>;
}

const ROLE = "dmabuf-review/review-worker";

/** One worker per spare core, at most four: the HTTP thread keeps a core of its own. */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/**
 * What the forge targets read of a review: everything but the model's traces. A forge comment
 * shows each configuration's before → after; the step-by-step traces (most of a review's bytes,
 * half a megabyte for one patch) stay with the CLI's JSON output.
 */
export function forPublishing(r: SeriesReview): SeriesReview {
  const bare = <T extends { trace: readonly string[]; beforeTrace: readonly string[]; afterTrace: readonly string[] }>(c: T): T => ({ ...c, trace: [], beforeTrace: [], afterTrace: [] });
  const result = r.model?.result;
  return {
    ...r,
    patches: r.patches.map((p) => ({ ...p, findings: p.findings.map(({ model: _model, ...f }) => f) })),
    model:
      r.model && result
        ? {
            ...r.model,
            result: {
              ...result,
              falsePositives: result.falsePositives.map(bare),
              fixed: result.fixed.map(bare),
              missed: result.missed.map(bare),
              newHazards: result.newHazards.map(bare),
              userspace: result.userspace.map(bare),
              slower: result.slower.map(bare),
            },
          }
        : r.model,
  };
}

/** Reviews on this thread (tests, and the fallback when no compiled worker script exists). */
export function inlineReviews(deps: ReviewDeps): ReviewPool {
  const { review, track } = reviewing(deps);
  return {
    size: 0,
    review: async (series) => review(series),
    track: async (current, known, place, ignore) => track(current, known, place, ignore),
    close: async () => {},
  };
}

/**
 * Reviews and tracking over one cache of reviews: a series reviewed when it arrives is not
 * reviewed again when the tracker judges its next revision, nor on every reply after.
 */
function reviewing(deps: ReviewDeps) {
  const reviews = new ReviewCache();
  const run = (s: Series) => reviewSeries(s, deps.rules, deps.parser, deps.model);
  return {
    review: (series: Series) => forPublishing(reviews.review(series, run)),
    track: (current: Series, known: readonly Series[], place: string, ignore: readonly string[] | undefined) => trackSeries(current, known, { ...deps, place, ignore, reviews }),
  };
}

/** Workers run compiled JavaScript; under a TypeScript runner the compiled copy in dist/ is used. */
function workerScript(): URL | undefined {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith(".js")) return here;
  const built = new URL("../../dist/src/channels/review-pool.js", here);
  return existsSync(fileURLToPath(built)) ? built : undefined;
}

// Options a worker takes from its parent: module loading and warnings. V8 flags (the heap and
// stack sizes a service is started with) are refused by the Worker constructor, which throws;
// a worker's heap is set by resourceLimits instead. --input-type (a `node -e` caller) is
// refused by a worker started from a file.
const WORKER_OPTIONS = new Set(["--import", "--require", "-r", "--loader", "--experimental-loader", "--conditions", "-C", "--enable-source-maps", "--no-warnings", "--no-deprecation"]);
const WITH_VALUE = new Set(["--import", "--require", "-r", "--loader", "--experimental-loader", "--conditions", "-C"]);

/** The parent's command-line options a worker thread can be started with. */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    const name = a.includes("=") ? a.slice(0, a.indexOf("=")) : a;
    const takesNext = WITH_VALUE.has(a) && i + 1 < execArgv.length;
    if (WORKER_OPTIONS.has(name)) out.push(...(takesNext ? [a, execArgv[i + 1]!] : [a]));
    if (takesNext) i++;
  }
  return out;
}

interface Pending {
  readonly resolve: (r: unknown) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  readonly pending: Map<number, Pending>;
}

export async function startReviewPool(size: number, fallback: ReviewDeps, log: Logger): Promise<ReviewPool> {
  const script = size > 0 ? workerScript() : undefined;
  if (!script) {
    if (size > 0) log.warn({ component: "review-pool" }, "review pool: no compiled worker script (run the build); reviewing on the HTTP thread");
    return inlineReviews(fallback);
  }
  let nextId = 1;
  let closing = false;
  const spawn = (slot: Slot | undefined): Promise<Slot> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(script, {
        workerData: { role: ROLE },
        execArgv: workerExecArgv(process.execArgv),
        // The model allocates many short-lived objects per review; a roomier young generation
        // halves the time spent in scavenges.
        resourceLimits: { maxYoungGenerationSizeMb: 64 },
      });
      const s: Slot = slot ?? { worker, pending: new Map() };
      s.worker = worker;
      worker.on("message", (m: { ready?: true; id?: number; review?: SeriesReview; tracked?: TrackResult; error?: string }) => {
        if (m.ready) return resolve(s);
        const p = s.pending.get(m.id!);
        if (!p) return;
        s.pending.delete(m.id!);
        if (m.error !== undefined) p.reject(new Error(m.error));
        else p.resolve(m.review ?? m.tracked);
      });
      worker.once("error", (err) => {
        log.error({ component: "review-pool", err: err.message }, "review worker failed");
        reject(err);
      });
      worker.once("exit", (code) => {
        for (const p of s.pending.values()) p.reject(new Error(`review worker exited (${code})`));
        s.pending.clear();
        // A worker that dies (out of memory on a huge diff) is replaced; its reviews fail and are retried on redelivery.
        if (!closing) void spawn(s).catch(() => undefined);
      });
    });
  const slots = await Promise.all(Array.from({ length: size }, () => spawn(undefined)));
  log.info({ component: "review-pool", workers: size }, `review pool: ${size} worker thread${size === 1 ? "" : "s"}`);
  const send = <T>(message: Record<string, unknown>): Promise<T> => {
    const slot = slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      slot.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      slot.worker.postMessage({ id, ...message });
    });
  };
  return {
    size,
    review: (series) => send<SeriesReview>({ series }),
    track: (current, known, place, ignore) => send<TrackResult>({ track: { current, known, place, ignore } }),
    async close() {
      closing = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

// The worker side: load the rules, the catalog and the parser once, then review what comes in.
if (!isMainThread && (workerData as { role?: string } | null)?.role === ROLE) {
  const { review, track } = reviewing(await loadReviewDeps());
  const port = parentPort!;
  port.on("message", (m: { id: number; series?: Series; track?: { current: Series; known: Series[]; place: string; ignore?: string[] } }) => {
    try {
      if (m.track) port.postMessage({ id: m.id, tracked: track(m.track.current, m.track.known, m.track.place, m.track.ignore) });
      else port.postMessage({ id: m.id, review: review(m.series!) });
    } catch (err) {
      port.postMessage({ id: m.id, error: (err as Error).message });
    }
  });
  port.postMessage({ ready: true });
}
