import { pino } from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { loadReviewDeps, type ReviewDeps } from "../../src/channels/context.js";
import { loadConfig } from "../../src/config/config.js";
import { backfillReviews, boundedInlineReviews, forPublishing, inlineReviews, ReviewTimeout, startReviewPool, workerExecArgv } from "../../src/channels/review-pool.js";
import { reviewSeries } from "../../src/review/review-series.js";
import { loadMessages } from "../../src/ingest/mbox/messages.js";
import { seriesMessages } from "../../src/ingest/outline.js";
import { groupSeries, type Series } from "../../src/patch/series.js";
import { renderTrackerText } from "../../src/review/render/tracker.js";
import { assertBuilt } from "../helpers/cli.js";
import { fixture } from "../helpers/mail.js";
import { MBOX, seriesOf, V2_COVER } from "../feedback/fixture.js";

describe("workerExecArgv", () => {
  it("keeps module loading and warning options, with their values, in either spelling", () => {
    expect(workerExecArgv(["--import", "tsx", "--enable-source-maps", "--require=./pre.cjs", "-r", "x.cjs", "--no-warnings"])).toEqual([
      "--import",
      "tsx",
      "--enable-source-maps",
      "--require=./pre.cjs",
      "-r",
      "x.cjs",
      "--no-warnings",
    ]);
  });

  it("drops V8 flags and --input-type, which the Worker constructor refuses", () => {
    expect(workerExecArgv(["--max-old-space-size=256", "--stack-size=2000", "--expose-gc", "--input-type=module", "--import=tsx"])).toEqual(["--import=tsx"]);
  });
});

describe("inlineReviews", () => {
  it("loads what a review needs at the first review, once: a reader whose reviews run elsewhere never loads it", async () => {
    let loads = 0;
    const pool = inlineReviews(() => (loads++, loadReviewDeps()));
    expect(loads).toBe(0);
    const [series] = groupSeries((await loadMessages(fixture("broken/middle-truncated.reviewable.mbox"))).messages).series;
    await Promise.all([pool.review(series!), pool.review(series!)]);
    expect(loads).toBe(1);
  });
});

describe("review pool: a review past its time budget", () => {
  let deps: ReviewDeps;
  let series: readonly Series[];
  beforeAll(async () => {
    assertBuilt(); // the workers run the compiled pool from dist/
    deps = await loadReviewDeps();
    series = groupSeries((await loadMessages(fixture("broken/middle-truncated.reviewable.mbox"))).messages).series;
  });

  it("is abandoned with review-timeout, its worker replaced, and the review queued behind it goes on", async () => {
    const [stalled, next] = series;
    // One worker: the second review waits in the pool's queue behind a review that never ends.
    const pool = await startReviewPool(1, deps, pino({ level: "silent" }), { budgetMs: 1500, stallOn: stalled!.id });
    try {
      const first = pool.review(stalled!);
      const second = pool.review(next!);
      const err = await first.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ReviewTimeout);
      expect(err).toMatchObject({ reason: "review-timeout", seriesId: stalled!.id });
      expect((await second).series.id).toBe(next!.id);
      // The replacement worker goes on reviewing, the stalled series included once it is not stalled on.
      expect((await pool.review(next!)).patches).toHaveLength(1);
    } finally {
      await pool.close();
    }
  });

  it("holds no other review while it runs: a free worker takes the next one", async () => {
    const [stalled, next] = series;
    const pool = await startReviewPool(2, deps, pino({ level: "silent" }), { budgetMs: 1500, stallOn: stalled!.id });
    try {
      let settled = false;
      const first = pool.review(stalled!).finally(() => (settled = true));
      first.catch(() => undefined);
      expect((await pool.review(next!)).series.id).toBe(next!.id);
      expect(settled).toBe(false);
      await expect(first).rejects.toBeInstanceOf(ReviewTimeout);
    } finally {
      await pool.close();
    }
  });
});

describe("reviews on the calling thread, held to a time budget", () => {
  let deps: ReviewDeps;
  let series: readonly Series[];
  beforeAll(async () => {
    assertBuilt(); // after a stopped review, the reviews go to a worker run from dist/
    deps = await loadReviewDeps();
    series = groupSeries((await loadMessages(fixture("broken/middle-truncated.reviewable.mbox"))).messages).series;
  });

  it("make the review inlineReviews makes, without a worker", async () => {
    const pool = boundedInlineReviews(deps, pino({ level: "silent" }));
    try {
      expect(pool.size).toBe(0);
      expect(JSON.stringify(await pool.review(series[1]!))).toBe(JSON.stringify(await inlineReviews(deps).review(series[1]!)));
    } finally {
      await pool.close();
    }
  });

  it("stop a review that runs past the budget, with review-timeout, and review the rest in a worker", async () => {
    const [stalled, next] = series;
    const lines: string[] = [];
    const log = pino({ level: "warn" }, { write: (l: string) => void lines.push(l) });
    const pool = boundedInlineReviews(deps, log, { budgetMs: 800, stallOn: stalled!.id });
    try {
      const t0 = Date.now();
      const err = await pool.review(stalled!).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ReviewTimeout);
      expect(err).toMatchObject({ reason: "review-timeout", seriesId: stalled!.id });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(800);
      expect(lines.map((l) => (JSON.parse(l) as { msg: string; series: string }))).toEqual([
        expect.objectContaining({ msg: "review stopped at its time budget; reviewing in a worker from now on", series: stalled!.id }),
      ]);
      // This thread's caches may be half-updated: what follows is the worker's, and is the same review.
      expect(JSON.stringify(await pool.review(next!))).toBe(JSON.stringify(await inlineReviews(deps).review(next!)));
      const all = await seriesOf();
      const current = all.find((s) => s.id === V2_COVER)!;
      const known = all.filter((s) => s !== current);
      expect(JSON.stringify(await pool.track(current, known, "the store"))).toBe(JSON.stringify(await inlineReviews(deps).track(current, known, "the store")));
    } finally {
      await pool.close();
    }
  });
});

describe("backfillReviews", () => {
  it("reviews on the calling thread on two cores or fewer, in one worker with more", async () => {
    assertBuilt();
    const pool = await backfillReviews(loadReviewDeps, pino({ level: "silent" }));
    try {
      expect(pool.size).toBe(availableParallelism() <= 2 ? 0 : 1);
    } finally {
      await pool.close();
    }
  });
});

describe("review pool: what a worker sends back", () => {
  it("is the review the calling thread would make, on the series it was asked about", async () => {
    assertBuilt();
    const deps = await loadReviewDeps();
    const [series] = groupSeries((await loadMessages(fixture("broken/middle-truncated.reviewable.mbox"))).messages).series;
    const pool = await startReviewPool(1, deps, pino({ level: "silent" }));
    try {
      const r = await pool.review(series!);
      // The series and its messages are the caller's own, not copies sent back.
      expect(r.series).toBe(series);
      for (const p of r.patches) expect(p.message).toBe(series!.slots[p.index - 1]);
      expect(JSON.stringify(r)).toBe(JSON.stringify(await inlineReviews(deps).review(series!)));
    } finally {
      await pool.close();
    }
  });

  it("tracks on the revisions it was given, not copies of them", async () => {
    assertBuilt();
    const deps = await loadReviewDeps();
    const all = await seriesOf();
    const current = all.find((s) => s.id === V2_COVER)!;
    const known = all.filter((s) => s !== current);
    const pool = await startReviewPool(1, deps, pino({ level: "silent" }));
    try {
      const r = await pool.track(current, known, "the store");
      expect(r.kind).toBe("tracked");
      if (r.kind !== "tracked") return;
      expect(r.series).toBe(current);
      expect(r.tracker.revisions.every((s) => s === current || known.includes(s))).toBe(true);
      // The links name the same objects as the revisions: the chain's numbers are read through them.
      for (const l of r.tracker.links) expect([l.series, l.previous].every((s) => r.tracker.revisions.includes(s))).toBe(true);
      const inline = await inlineReviews(deps).track(current, known, "the store");
      expect(JSON.stringify(r)).toBe(JSON.stringify(inline));
      if (inline.kind !== "tracked") throw new Error("inline tracking found no earlier revision");
      expect(renderTrackerText(r.tracker)).toBe(renderTrackerText(inline.tracker));
    } finally {
      await pool.close();
    }
  });
});

describe("review pool: messages a worker holds already", () => {
  it("are taken from its table when a series decoded again is sent again, with the same reviews and trackings", async () => {
    assertBuilt();
    const deps = await loadReviewDeps();
    const pool = await startReviewPool(1, deps, pino({ level: "silent" }));
    try {
      // Decoded as an archive reader decodes them: each message with its content key.
      const decoded = async () => groupSeries((await loadMessages(MBOX)).messages).series;
      const all = await decoded();
      const current = all.find((s) => s.id === V2_COVER)!;
      const first = await pool.track(current, all.filter((s) => s !== current), "the store");
      expect(pool.messagesReused()).toBe(0);
      // Read again from the same bytes: new objects, the same content keys.
      const again = await decoded();
      const current2 = again.find((s) => s.id === V2_COVER)!;
      const known2 = again.filter((s) => s !== current2);
      // Those with a diff: what the worker's caches key by the objects inside them.
      const held = (s: Series) => seriesMessages(s).filter((m) => m.files.length > 0);
      const count = again.reduce((n, s) => n + held(s).length, 0);
      expect(count).toBeGreaterThan(0);
      const second = await pool.track(current2, known2, "the store");
      expect(pool.messagesReused()).toBe(count);
      // The pool knew its worker held them: those patches crossed as their keys alone.
      expect(pool.messagesNotSent()).toBe(count);
      expect(second.series).toBe(current2);
      expect(JSON.stringify(second)).toBe(JSON.stringify(first));
      expect(JSON.stringify(second)).toBe(JSON.stringify(await inlineReviews(deps).track(current2, known2, "the store")));
      const review = await pool.review(current2);
      expect(pool.messagesReused()).toBe(count + held(current2).length);
      expect(pool.messagesNotSent()).toBe(count + held(current2).length);
      expect(review.series).toBe(current2);
      for (const p of review.patches) expect(p.message).toBe(current2.slots[p.index - 1]);
      // A derived copy has no key: it is sent and used as it is, never taken for the original.
      const derived = { ...current2, slots: current2.slots.map((m) => m && { ...m }), cover: current2.cover && { ...current2.cover } };
      const before = pool.messagesReused();
      await pool.review(derived);
      expect(pool.messagesReused() - before).toBe(held(current2).filter((m) => m !== current2.cover && !current2.slots.includes(m)).length);
      // Read a third time: the worker's table, kept in step with the pool's mirror, still answers for the first copies' keys.
      const third = await decoded();
      const current3 = third.find((s) => s.id === V2_COVER)!;
      expect(JSON.stringify(await pool.track(current3, third.filter((s) => s !== current3), "the store"))).toBe(JSON.stringify(first));
    } finally {
      await pool.close();
    }
  });
});

describe("review-budget in the configuration", () => {
  const file = (text: string) => {
    const path = join(mkdtempSync(join(tmpdir(), "dmabuf-review-cfg-")), "config.yaml");
    writeFileSync(path, text);
    return path;
  };
  it("is read in seconds, minutes or hours; unset, the pool's default applies", async () => {
    expect((await loadConfig(file("review-budget: 90s\n"), {})).reviewBudgetMs).toBe(90_000);
    expect((await loadConfig(file("review-budget: 2m\n"), {})).reviewBudgetMs).toBe(120_000);
    expect((await loadConfig(undefined, {})).reviewBudgetMs).toBeUndefined();
  });
  it("refuses a budget of nothing", async () => {
    await expect(loadConfig(file("review-budget: 0s\n"), {})).rejects.toMatchObject({ reason: "bad-config" });
  });
});

describe("forPublishing: files outside the surface", () => {
  it("carries an out-of-scope file without working out its tree facts, and leaves in-scope files as they are", async () => {
    const deps = await loadReviewDeps();
    const series = groupSeries((await loadMessages(fixture("series/dma-coherent-v1.mbox"))).messages).series[0]!;
    const review = reviewSeries(series, deps.rules, deps.parser, deps.model);
    let parsed = 0;
    const first = review.patches[0]!;
    const inScope = first.files.find((f) => f.inScope)!;
    // As touch.ts's untouched() gives it: the facts are read from the file's tree on first use.
    const outside = {
      file: inScope.file,
      area: "other" as const,
      inScope: false,
      touches: [],
      unplaced: [],
      get docOnly(): boolean {
        parsed++;
        return true;
      },
      get functionCalls(): ReadonlyMap<string, ReadonlySet<string>> {
        parsed++;
        return new Map([["f", new Set(["g"])]]);
      },
      get functionCallsBefore(): ReadonlyMap<string, ReadonlySet<string>> {
        parsed++;
        return new Map();
      },
      context: [],
    };
    const published = forPublishing({ ...review, patches: [{ ...first, files: [...first.files, outside] }, ...review.patches.slice(1)] });
    const files = published.patches[0]!.files;
    structuredClone(published); // what a worker's postMessage does with it
    expect(JSON.parse(JSON.stringify(files[files.length - 1]))).toMatchObject({ inScope: false, docOnly: false, functionCalls: {} });
    expect(parsed).toBe(0);
    expect(files.slice(0, -1)).toEqual(first.files);
    expect(files.find((f) => f.inScope)).toBe(inScope);
  });
});
