import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { createContext, Script } from "node:vm";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import type { Logger } from "pino";
import { trackSeries, type TrackResult } from "../feedback/track.js";
import type { RevisionLink } from "../patch/revision-link.js";
import type { Series } from "../patch/series.js";
import { cutTrace } from "../review/review-page.js";
import { BoundedMap } from "../review/bounded-map.js";
import { ReviewCache } from "../review/review-cache.js";
import { reviewSeries, type PatchReview, type SeriesReview } from "../review/review-series.js";
import type { FileTouches } from "../analysis/touch.js";
import type { Message } from "../patch/message.js";
import { boundHeapGrowth, startIsolate } from "../heap.js";
import { contentKeyOf } from "../patch/content-key.js";
import { mapMessages, MessageTable, TableMirror, type HeldMessage } from "./message-table.js";
import { loadReviewDeps, reviewDepsOf, type ReviewDeps, type ReviewSource } from "./context.js";

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
  /** Messages the workers took from their tables of canonical messages instead of the copies sent. */
  messagesReused(): number;
  /** Messages sent to a worker as their key alone, the worker holding them already. */
  messagesNotSent(): number;
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
 * half a megabyte for one patch) stay with the CLI's JSON output, but for the one explaining
 * trace a review page shows, cut short.
 */
export function forPublishing(r: SeriesReview): SeriesReview {
  // The explaining trace stays, cut to what a review page shows on a click; the two full ones go.
  const bare = <T extends { trace: readonly string[]; beforeTrace: readonly string[]; afterTrace: readonly string[] }>(c: T): T => ({
    ...c,
    trace: cutTrace(c.trace),
    beforeTrace: [],
    afterTrace: [],
  });
  const result = r.model?.result;
  return {
    ...r,
    patches: r.patches.map((p) => ({ ...p, files: p.files.map(settled), findings: p.findings.map(({ model: _model, ...f }) => f) })),
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
              introduced: result.introduced.map(bare),
            },
          }
        : r.model,
  };
}

/**
 * A file outside the surface works out its tree facts (docOnly, the calls of its functions) on
 * first read, for the review's own rules; nothing reads them after the review (renderers and
 * publishers look at in-scope files). Copied for publishing, or by a worker's postMessage, they
 * would parse the file only to carry the answer: it goes without them, as an unparsed file does.
 */
function settled(f: FileTouches): FileTouches {
  if (f.inScope || Object.getOwnPropertyDescriptor(f, "docOnly")?.get === undefined) return f;
  return { file: f.file, area: f.area, inScope: false, touches: f.touches, unplaced: f.unplaced, docOnly: false, functionCalls: new Map(), functionCallsBefore: new Map(), context: f.context };
}

/** Reviews on this thread (tests, and the fallback when no compiled worker script exists). */
export function inlineReviews(deps: ReviewSource): ReviewPool {
  // Loaded at the first review, not before: a reader that never reviews here never loads them.
  let ready: Promise<ReturnType<typeof reviewing>> | undefined;
  const on = () => (ready ??= reviewDepsOf(deps).then(reviewing));
  return {
    size: 0,
    messagesReused: () => 0,
    messagesNotSent: () => 0,
    review: async (series) => (await on()).review(series),
    track: async (current, known, place, ignore) => (await on()).track(current, known, place, ignore),
    close: async () => {},
  };
}

/**
 * Reviews on the calling thread, each held to the time budget as hard as a worker holds it: V8
 * ends whatever the review is running when vm's timeout fires (JavaScript, a regex, tree-sitter's
 * wasm). A review stopped halfway may leave its caches and the parser's wasm heap half-updated,
 * so nothing of this thread reviews again: the reviews that follow go to a worker.
 */
export function boundedInlineReviews(deps: ReviewSource, log: Logger, opts: PoolOptions = {}): ReviewPool {
  const budgetMs = opts.budgetMs ?? REVIEW_BUDGET_MS;
  boundHeapGrowth(HEAP_GROWING_PERCENT);
  let ready: Promise<ReturnType<typeof reviewing>> | undefined;
  let moved: Promise<ReviewPool> | undefined;
  const on = () => (ready ??= reviewDepsOf(deps).then(reviewing));
  const context = createContext({ job: undefined as (() => unknown) | undefined });
  const script = new Script("job()");
  const bounded = async <T>(seriesId: string, f: (r: Awaited<ReturnType<typeof on>>) => T, elsewhere: (p: ReviewPool) => Promise<T>): Promise<T> => {
    if (moved) return elsewhere(await moved);
    const r = await on();
    if (moved) return elsewhere(await moved);
    // Tests only (stallOn): a review that runs twenty budgets long, so a broken stop fails a test instead of hanging it.
    context.job = seriesId === opts.stallOn ? () => stall(20 * budgetMs, () => f(r)) : () => f(r);
    try {
      return script.runInContext(context, { timeout: budgetMs }) as T;
    } catch (err) {
      if ((err as { code?: string }).code !== "ERR_SCRIPT_EXECUTION_TIMEOUT") throw err;
      ready = undefined;
      moved = startReviewPool(1, deps, log, opts);
      const detail = `series ${seriesId} not reviewed within ${budgetMs} ms; reviews go on in a worker`;
      log.warn({ component: "review-pool", series: seriesId, budgetMs }, "review stopped at its time budget; reviewing in a worker from now on");
      throw new ReviewTimeout(detail, seriesId);
    } finally {
      context.job = undefined;
    }
  };
  return {
    size: 0,
    messagesReused: () => 0,
    messagesNotSent: () => 0,
    review: (series) => bounded(series.id, (r) => r.review(series), (p) => p.review(series)),
    track: (current, known, place, ignore) => bounded(current.id, (r) => r.track(current, known, place, ignore), (p) => p.track(current, known, place, ignore)),
    close: async () => {
      ready = undefined;
      await (await moved)?.close();
    },
  };
}

function stall<T>(ms: number, then: () => T): T {
  const end = Date.now() + ms;
  while (Date.now() < end);
  return then();
}

/**
 * Where a backfill reviews: on its own thread where there are two cores or fewer, since a worker's
 * second isolate (its JIT, its collector, its caches, the copies both ways) then costs more than
 * the overlap gains; in one worker otherwise.
 */
export async function backfillReviews(deps: ReviewSource, log: Logger, opts: PoolOptions = {}): Promise<ReviewPool> {
  return availableParallelism() <= 2 ? boundedInlineReviews(deps, log, opts) : startReviewPool(1, deps, log, opts);
}

/**
 * Reviews and tracking over one cache of reviews: a series reviewed when it arrives is not
 * reviewed again when the tracker judges its next revision, nor on every reply after.
 */
function reviewing(all: ReviewDeps) {
  // Sixteen reviews: tracking keeps its own judgements (feedback/kept-tracking.ts), so older
  // revisions are asked for again rarely, and a review with model traces can weigh half a megabyte.
  const reviews = new ReviewCache(16);
  // As many searches as kept-searches.ts keeps on disk: the usual effects of a list, bounded.
  const deps = { ...all, model: { ...all.model, cache: new BoundedMap(20_000, all.model.cache) } };
  const run = (s: Series) => reviewSeries(s, deps.rules, deps.parser, deps.model);
  return {
    review: (series: Series) => forPublishing(reviews.review(series, run)),
    track: (current: Series, known: readonly Series[], place: string, ignore: readonly string[] | undefined) => trackSeries(current, known, { ...deps, place, ignore, reviews }),
  };
}

/**
 * A review as a worker sends it back: without the series it was asked about, which the pool
 * holds already. Each patch's message is its slot's, and is left out too: a series of large
 * patches would otherwise cross the thread boundary, and be built on the reading thread, twice.
 */
type SentReview = Omit<SeriesReview, "series" | "patches"> & { readonly patches: readonly (Omit<PatchReview, "message"> & { readonly message?: Message })[] };

function toSend(r: SeriesReview): SentReview {
  const slots = r.series.slots;
  const { series: _series, ...rest } = r;
  return { ...rest, patches: r.patches.map(({ message, ...p }) => (slots[p.index - 1]?.messageId === message.messageId ? p : { ...p, message })) };
}

function received(r: SentReview, series: Series): SeriesReview {
  // In the review's own key order: what is written from it reads the same as from the calling thread.
  return { series, ...r, patches: r.patches.map((p) => ({ message: p.message ?? series.slots[p.index - 1]!, ...p })) };
}

/**
 * A tracking result as a worker sends it back: each series it was given (the current one, the
 * earlier revisions) by its place among them. A series of large patches tracked over several
 * revisions would otherwise cross twice, all of it.
 */
type SentSeries = Series | { readonly given: number };
// A link names two of the revisions: by reference too, or the numbers read from the chain (keyed by the series objects) are lost.
type SentLink = Omit<RevisionLink, "series" | "previous"> & { readonly series: SentSeries; readonly previous: SentSeries };
type SentTrack =
  | (Omit<Extract<TrackResult, { kind: "tracked" }>, "series" | "tracker"> & {
      readonly series: SentSeries;
      readonly tracker: Omit<Extract<TrackResult, { kind: "tracked" }>["tracker"], "series" | "revisions" | "links"> & {
        readonly series: SentSeries;
        readonly revisions: readonly SentSeries[];
        readonly links: readonly SentLink[];
      };
    })
  | (Omit<Extract<TrackResult, { kind: "no-previous" }>, "series"> & { readonly series: SentSeries });

function trackToSend(r: TrackResult, given: readonly Series[]): SentTrack {
  const ref = (s: Series): SentSeries => {
    const i = given.indexOf(s);
    return i < 0 ? s : { given: i };
  };
  if (r.kind === "no-previous") return { ...r, series: ref(r.series) };
  const links = r.tracker.links.map((l) => ({ ...l, series: ref(l.series), previous: ref(l.previous) }));
  return { ...r, series: ref(r.series), tracker: { ...r.tracker, series: ref(r.tracker.series), revisions: r.tracker.revisions.map(ref), links } };
}

function trackReceived(r: SentTrack, given: readonly Series[]): TrackResult {
  const back = (s: SentSeries): Series => ("given" in s ? given[s.given]! : s);
  if (r.kind === "no-previous") return { ...r, series: back(r.series) };
  const links = r.tracker.links.map((l) => ({ ...l, series: back(l.series), previous: back(l.previous) }));
  return { ...r, series: back(r.series), tracker: { ...r.tracker, series: back(r.tracker.series), revisions: r.tracker.revisions.map(back), links } };
}

/** The series of a job as sent: a message the worker holds as its key alone, and what carries keys. */
interface Outgoing {
  readonly given: readonly Series[];
  /**
   * The content keys of the messages, in mapMessages' order, a series given twice counted once;
   * null for a message without one. They travel beside the series: a key is not a field of a
   * message, and structured cloning drops what a WeakMap knows.
   */
  readonly keys: readonly (string | null)[];
  /** Messages sent as their key alone. */
  readonly held: number;
}

/** Each series the same object again when given twice, as structured cloning keeps it. */
function onceEach(given: readonly Series[], f: (s: Series) => Series): Series[] {
  const done = new Map<Series, Series>();
  return given.map((s) => {
    let c = done.get(s);
    if (!c) done.set(s, (c = f(s)));
    return c;
  });
}

function outgoing(given: readonly Series[], mirror: TableMirror): Outgoing {
  const keys: (string | null)[] = [];
  let held = 0;
  const sent = onceEach(given, (s) =>
    mapMessages(s, (m) => {
      const key = contentKeyOf(m);
      keys.push(key ?? null);
      if (key === undefined) return m;
      const out = mirror.send(key, m);
      if (out !== m) held++;
      // A key alone crosses in a message's place; the worker puts the message back (canonical()).
      return out as Message;
    }),
  );
  return { given: sent, keys, held };
}

/** The series of a job over the worker's canonical messages. */
function canonical(given: readonly Series[], keys: readonly (string | null)[], table: MessageTable): Series[] {
  let i = 0;
  return onceEach(given, (s) =>
    mapMessages(s, (m) => {
      const key = keys[i++];
      const sent = m as Message | HeldMessage;
      if ("held" in sent) return table.resolve(sent);
      return key ? table.intern(key, m) : m;
    }),
  );
}

// Bodies of the patches a worker holds: enough for what the trackings of a chain ask for again and
// again, while a held patch keeps what its caches computed alive too, several times its text in heap.
const TABLE_BYTES = 512 * 1024;

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

/** What one review may take in a worker before it is abandoned; `review-budget` in the configuration. */
export const REVIEW_BUDGET_MS = 60_000;

/**
 * A review abandoned at its time budget: its worker was replaced, and the series is to be
 * reported as skipped for this reason (it would run as long again on a retry).
 */
export class ReviewTimeout extends Error {
  readonly reason = "review-timeout";
  constructor(
    readonly detail: string,
    readonly seriesId: string,
  ) {
    super(`review-timeout: ${detail}`);
    this.name = "ReviewTimeout";
  }
}

export interface PoolOptions {
  /** Per review; REVIEW_BUDGET_MS when not given. */
  readonly budgetMs?: number;
  /** Tests only: the worker stalls, without end, on the series with this id (a review that never returns); on the calling thread, for twenty budgets. */
  readonly stallOn?: string;
}

interface Job {
  /** The job's message to the worker that takes it, by what that worker holds. */
  readonly message: (mirror: TableMirror) => Record<string, unknown>;
  readonly seriesId: string;
  readonly resolve: (r: unknown) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** The worker's table as this thread knows it: started afresh with each worker. */
  mirror: TableMirror;
  /** The one review the worker runs; the others wait in the pool's queue, not behind it. */
  job: { readonly id: number; readonly job: Job; readonly timer: NodeJS.Timeout } | undefined;
}

// What a review allocates dies within it: a small young generation collects it as often, as cheaply.
const WORKER_YOUNG_MB = 8;

// The reading thread: most of what it allocates waits on git, the store or a worker, outlives the
// young generation and dies in the old one. The workers, capped below, already grow by about 1.3.
const HEAP_GROWING_PERCENT = 30;

export async function startReviewPool(size: number, fallback: ReviewSource, log: Logger, opts: PoolOptions = {}): Promise<ReviewPool> {
  const script = size > 0 ? workerScript() : undefined;
  if (!script) {
    if (size > 0) log.warn({ component: "review-pool" }, "review pool: no compiled worker script (run the build); reviewing on the HTTP thread");
    return inlineReviews(fallback);
  }
  const budgetMs = opts.budgetMs ?? REVIEW_BUDGET_MS;
  boundHeapGrowth(HEAP_GROWING_PERCENT);
  let nextId = 1;
  let closing = false;
  const queue: Job[] = [];

  const pump = () => {
    for (const slot of slots) {
      if (queue.length === 0) return;
      if (!slot.ready || slot.job) continue;
      const job = queue.shift()!;
      const id = nextId++;
      slot.job = { id, job, timer: setTimeout(() => abandon(slot, id), budgetMs) };
      slot.worker.postMessage({ id, ...job.message(slot.mirror) });
    }
  };

  // The worker is busy with a review past its budget: a thread running JavaScript cannot be
  // asked to stop, so it is terminated and a fresh one takes its place.
  const abandon = (slot: Slot, id: number) => {
    if (slot.job?.id !== id) return;
    const { job } = slot.job;
    slot.job = undefined;
    const detail = `series ${job.seriesId} not reviewed within ${budgetMs} ms; its worker was restarted`;
    log.warn({ component: "review-pool", series: job.seriesId, budgetMs }, "review abandoned at its time budget");
    job.reject(new ReviewTimeout(detail, job.seriesId));
    const old = slot.worker;
    slot.ready = false;
    void old.terminate();
    if (!closing) start(slot).catch(() => undefined);
  };

  const start = (existing: Slot | undefined): Promise<Slot> =>
    new Promise((resolve, reject) => {
      const worker = startIsolate(WORKER_YOUNG_MB, () =>
        new Worker(script, {
          workerData: { role: ROLE, stallOn: opts.stallOn },
          execArgv: workerExecArgv(process.execArgv),
          // A review keeps little (tens of MB live) but allocates much: left to itself the worker's
          // heap grows several times past what it holds. A service's --max-old-space-size wins over this.
          resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB, maxOldGenerationSizeMb: 128 },
        }),
      );
      const slot: Slot = existing ?? { worker, ready: false, job: undefined, mirror: new TableMirror(TABLE_BYTES) };
      slot.worker = worker;
      slot.mirror = new TableMirror(TABLE_BYTES);
      const current = () => slot.worker === worker;
      worker.on("message", (m: { ready?: true; id?: number; review?: SentReview; tracked?: SentTrack; error?: string; reused?: number }) => {
        if (!current()) return;
        if (m.ready) {
          slot.ready = true;
          resolve(slot);
          pump();
          return;
        }
        const running = slot.job;
        if (!running || running.id !== m.id) return;
        const { job, timer } = running;
        clearTimeout(timer);
        slot.job = undefined;
        reused += m.reused ?? 0;
        // The worker let go of its table on a failed job (it may have failed halfway through it).
        if (m.error !== undefined) slot.mirror = new TableMirror(TABLE_BYTES);
        if (m.error !== undefined) job.reject(new Error(m.error));
        else job.resolve(m.review ?? m.tracked);
        pump();
      });
      worker.once("error", (err) => {
        if (!current()) return;
        log.error({ component: "review-pool", err: err.message }, "review worker failed");
        reject(err);
      });
      worker.once("exit", (code) => {
        if (!current()) return; // an abandoned worker, already replaced
        slot.ready = false;
        if (slot.job) {
          clearTimeout(slot.job.timer);
          slot.job.job.reject(new Error(`review worker exited (${code})`));
          slot.job = undefined;
        }
        // A worker that dies (out of memory on a huge diff) is replaced; its review fails and is retried on redelivery.
        if (!closing) start(slot).catch(() => undefined);
      });
    });

  let reused = 0;
  const slots: Slot[] = [];
  for (const slot of await Promise.all(Array.from({ length: size }, () => start(undefined)))) slots.push(slot);
  log.info({ component: "review-pool", workers: size, budgetMs }, `review pool: ${size} worker thread${size === 1 ? "" : "s"}`);
  let notSent = 0;
  const withKeys = (given: readonly Series[], mirror: TableMirror) => {
    const out = outgoing(given, mirror);
    notSent += out.held;
    return out;
  };
  const send = <T>(message: (mirror: TableMirror) => Record<string, unknown>, seriesId: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push({ message, seriesId, resolve: resolve as (r: unknown) => void, reject });
      pump();
    });
  return {
    size,
    messagesReused: () => reused,
    messagesNotSent: () => notSent,
    review: async (series) =>
      received(
        await send<SentReview>((mirror) => {
          const { given, keys } = withKeys([series], mirror);
          return { series: given[0], keys };
        }, series.id),
        series,
      ),
    track: async (current, known, place, ignore) =>
      trackReceived(
        await send<SentTrack>((mirror) => {
          const { given, keys } = withKeys([current, ...known], mirror);
          return { track: { current: given[0], known: given.slice(1), place, ignore }, keys };
        }, current.id),
        [current, ...known],
      ),
    async close() {
      closing = true;
      for (const job of queue.splice(0)) job.reject(new Error("review pool closed"));
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

// The worker side: load the rules, the catalog and the parser once, then review what comes in.
if (!isMainThread && (workerData as { role?: string } | null)?.role === ROLE) {
  const { review, track } = reviewing(await loadReviewDeps());
  const port = parentPort!;
  const stallOn = (workerData as { stallOn?: string }).stallOn;
  const table = new MessageTable(TABLE_BYTES);
  port.on("message", (m: { id: number; keys: (string | null)[]; series?: Series; track?: { current: Series; known: Series[]; place: string; ignore?: string[] } }) => {
    if (stallOn !== undefined && (m.series ?? m.track?.current)?.id === stallOn) {
      // Blocks this thread as a review that never ends would; terminate() ends it between waits.
      const cell = new Int32Array(new SharedArrayBuffer(4));
      for (;;) Atomics.wait(cell, 0, 0, 20);
    }
    const before = table.reused;
    try {
      if (m.track) {
        const { place, ignore } = m.track;
        const given = canonical([m.track.current, ...m.track.known], m.keys, table);
        port.postMessage({ id: m.id, tracked: trackToSend(track(given[0]!, given.slice(1), place, ignore), given), reused: table.reused - before });
      } else {
        const [series] = canonical([m.series!], m.keys, table);
        port.postMessage({ id: m.id, review: toSend(review(series!)), reused: table.reused - before });
      }
    } catch (err) {
      table.clear();
      port.postMessage({ id: m.id, error: (err as Error).message });
    }
  });
  port.postMessage({ ready: true });
}
