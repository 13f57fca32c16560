import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { MailMirror, mailTarget } from "../../src/channels/mail.js";
import { boundedInlineReviews, startReviewPool, type PoolOptions, type ReviewPool } from "../../src/channels/review-pool.js";
import type { ReviewSource } from "../../src/channels/context.js";
import { assertBuilt } from "../helpers/cli.js";
import { PeerInbox } from "../peers/public-inbox.js";
import { fixtureMessages, header, idOf, LIST, mailEnv, type Env } from "./mail-setup.js";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

const SERIES = () => fixtureMessages("series/dma-coherent-v1.mbox");
const UDMABUF = () => fixtureMessages("model/udmabuf-skip-cpu-sync.patch").map((b) => Buffer.from(`Message-ID: <udmabuf-1@example.org>\nTo: ${LIST}\n${b.toString("latin1")}`, "latin1"));

// The service reviews in a worker; `backfill` on two cores or fewer on its own thread.
const REVIEWERS: [string, (deps: ReviewSource, opts: PoolOptions) => Promise<ReviewPool>][] = [
  ["in a worker", (deps, opts) => startReviewPool(1, deps, pino({ level: "silent" }), opts)],
  ["on the reading thread", async (deps, opts) => boundedInlineReviews(deps, pino({ level: "silent" }), opts)],
];

describe.each(REVIEWERS)("mail channel: a review past its time budget, reviews %s", (_where, start) => {
  it("skips that series with review-timeout, answers the other, and does not review it again", async () => {
    assertBuilt(); // the worker runs the compiled pool from dist/
    const inbox = new PeerInbox();
    const series = SERIES();
    for (const m of [...series, ...UDMABUF()]) inbox.add(m);
    const e: Env = await mailEnv(inbox.dir);
    const cover = idOf(series[0]!);
    const pool: ReviewPool = await start(e.ctx.review, { budgetMs: 1500, stallOn: cover });
    cleanup.push(async () => {
      await pool.close();
      await e.close();
    });
    e.engine = new MailMirror(e.ctx, e.mirror, mailTarget(e.ctx), pool);
    const first = await e.engine.pass({ reply: "new" });
    expect(first.reviewed).toBe(1);
    expect(first.skipped.map((k) => [k.id, k.reason]).sort()).toEqual(
      // The cover letter and the three patches; the reply in the thread was never to be reviewed.
      series.slice(0, 4).map((m) => [idOf(m), "review-timeout"]).sort(),
    );
    expect(e.mails().map((m) => header(m, "Subject"))).toEqual(["Re: [PATCH] dma-buf/udmabuf: skip the CPU sync when mapping for importers"]);
    expect(await e.engine.pass({ reply: "new" })).toMatchObject({ messages: 0, reviewed: 0, replies: 0, skipped: [] });
  });
});
