import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, type MirrorConfig } from "../../src/config/config.js";
import { loadReviewDeps, type ChannelContext } from "../../src/channels/context.js";
import { MailMirror, mailTarget, type PassOptions } from "../../src/channels/mail.js";
import { inlineReviews } from "../../src/channels/review-pool.js";
import { splitMbox } from "../../src/ingest/mbox/reader.js";
import { appendToInbox } from "../../src/ingest/public-inbox/writer.js";
import { postMessageId } from "../../src/publish/mail/compose.js";
import { FeedbackStore } from "../../src/state/feedback.js";
import { Store } from "../../src/state/store.js";
import { MBOX, V1_COVER, V2_COVER } from "../feedback/fixture.js";
import { NO_AGE_LIMIT } from "./mail-setup.js";

const ANSWER = "YWxleC1hbnN3ZXItam9uYXM@example.com";
const BOT = { name: "dmabuf-review", email: "bot@dmabuf-review.example" };

/** The fixture's messages as raw bytes with their Message-ID and Date, archive order. */
function raws(): { id: string; bytes: Buffer; time: Date }[] {
  return splitMbox(readFileSync(MBOX), "fixture").map((r) => {
    const text = r.bytes.toString("latin1");
    const id = /^Message-ID: <([^>]+)>/im.exec(text)![1]!;
    const date = new Date(/^Date: (.*)$/im.exec(text)![1]!);
    return { id, bytes: r.bytes, time: date };
  });
}

function header(raw: string, name: string): string | undefined {
  const head = raw.slice(0, raw.indexOf("\n\n")).replace(/\r/g, "").replace(/\n[ \t]+/g, " ");
  return new RegExp(`^${name}: (.*)$`, "im").exec(head)?.[1]?.trim();
}

function body(raw: string): string {
  return raw.replace(/\r/g, "").slice(raw.replace(/\r/g, "").indexOf("\n\n") + 2);
}

/**
 * A mirror of `messages` (mirror and mail settings as the tests give them) with a fresh store
 * and outbox; every trackSeries call is counted by the series it tracks.
 */
async function setup(messages: { bytes: Buffer; time: Date }[], over: { mirror?: Partial<MirrorConfig>; batch?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-mail-tracker-"));
  const inbox = join(dir, "inbox");
  const outbox = join(dir, "outbox");
  await appendToInbox(inbox, messages);
  const config = await loadConfig(undefined, {});
  const mirror: MirrorConfig = { name: "dri-devel", inbox, remote: undefined, pollSeconds: 300, policy: "all", threshold: "warning", list: "dri-devel@lists.freedesktop.org", history: "reply", mode: "send", sending: NO_AGE_LIMIT, ...over.mirror };
  const store = Store.open(join(dir, "state.db"));
  const ctx: ChannelContext = {
    config: { ...config, dataDir: dir, mail: { ...config.mail, mirrors: [mirror], outbox, demo: false, from: `${BOT.name} <${BOT.email}>`, ...(over.batch ? { batch: over.batch } : {}) } },
    store,
    review: await loadReviewDeps(),
    log: pino({ level: "silent" }),
  };
  // The target's clock (the once-a-day follow-up, the daily cap) is moved by the tests.
  let now = Date.now();
  const clock = { now: () => new Date(now), advance: (seconds: number) => (now += seconds * 1000) };
  const tracked: string[] = [];
  const inline = inlineReviews(ctx.review);
  const reviews = { review: inline.review, track: ((current, ...rest) => (tracked.push(current.id), inline.track(current, ...rest))) as typeof inline.track };
  // A restart: a new engine on the same store and inbox.
  const engineOn = (m: MirrorConfig) => new MailMirror(ctx, m, mailTarget(ctx, { clock: clock.now }), reviews);
  const engine = engineOn(mirror);
  const mails = () => {
    let files: string[] = [];
    try {
      files = readdirSync(outbox);
    } catch {
      return [];
    }
    return files
      .filter((f) => f.endsWith(".eml"))
      .sort()
      .map((f) => readFileSync(join(outbox, f), "utf8"));
  };
  return { inbox, store, mirror, engine, engineOn, tracked, mails, clock, trackerMails: () => mails().filter((m) => /^tracker/.test(header(m, "X-Dmabuf-Review") ?? "")) };
}

describe("mail channel: a v2 found through its cover letter's lore link alone", () => {
  it("is tracked against v1, the link's escaped angle brackets read as b4 writes them", async () => {
    // Another sender, no change-id: only the `Link to v1:` line (here with %3C..%3E) leads to v1.
    const edited = raws()
      .filter((r) => r.id !== ANSWER)
      .map((r) => {
        let text = r.bytes.toString("latin1").replace(/^change-id: .*\n/gm, "");
        if (r.id.includes("-v2-")) {
          text = text.replace(/^From: Alex Moreau <alex\.moreau@example\.com>$/m, "From: Joe Other <joe@example.com>");
          text = text.replace(/r\/20221020-dma-coherent-v1-0-3f2a9c1b7d4e@example\.com/, "r/%3C20221020-dma-coherent-v1-0-3f2a9c1b7d4e%40example.com%3E");
        }
        return { ...r, bytes: Buffer.from(text, "latin1") };
      });
    const v2Cover = edited.find((r) => r.id === V2_COVER)!.bytes.toString("latin1");
    expect(v2Cover).toContain("%3C20221020-dma-coherent-v1-0-3f2a9c1b7d4e%40example.com%3E");
    expect(v2Cover).not.toContain("change-id:");
    const env = await setup(edited);
    try {
      await env.engine.pass({ reply: "all" });
      const t = env.trackerMails();
      expect(t.map((m) => header(m, "In-Reply-To"))).toEqual([`<${V2_COVER}>`]);
      expect(body(t[0]!)).toContain(`  v1 <${V1_COVER}>, 2022-10-20\n`);
    } finally {
      await env.engine.close();
      env.store.close();
    }
  });
});

describe("mail channel: the review tracker on the v2 cover letter", () => {
  let env: Awaited<ReturnType<typeof setup>>;
  const trackerMails = () => env.trackerMails();
  const mails = () => env.mails();

  beforeAll(async () => {
    env = await setup(raws().filter((r) => r.id !== ANSWER));
  });

  afterAll(async () => {
    await env.engine.close();
    env.store.close();
  });

  it("posts one tracker, in reply to the v2 cover letter, once v2 is reviewed", async () => {
    await env.engine.pass({ reply: "all" });
    const t = trackerMails();
    expect(t).toHaveLength(1);
    const m = t[0]!;
    expect(header(m, "X-Dmabuf-Review")).toBe("tracker");
    expect(header(m, "In-Reply-To")).toBe(`<${V2_COVER}>`);
    expect(header(m, "Subject")).toBe("Re: [PATCH v2 0/3] dma-buf: coherency flag with an exporter override");
    expect(header(m, "To")).toBe("Alex Moreau <alex.moreau@example.com>");
    expect(header(m, "Message-ID")).toBe(`<${postMessageId({ channel: "mail", thread: V2_COVER, what: "tracker" }, BOT)}>`);
    const text = body(m);
    expect(text.startsWith("Tracker: dma-buf: coherency flag with an exporter override (v2)\n")).toBe(true);
    expect(text).toContain(`  v1 <${V1_COVER}>, 2022-10-20\n`);
    expect(text).toContain("  1.4  not addressed  objection         1/3   Jonas Weber\n");
    expect(text).toContain("\n-- \ndmabuf-review: an automated review");
    // The bot's own review replies are in the outbox too, but are not the tracker.
    expect(mails().length).toBeGreaterThan(1);
  });

  it("a later reply that changes a verdict is answered on the tracker with the change, not a second tracker", async () => {
    // A day after the tracker: a follow-up may go (at most one a day per series).
    env.clock.advance(86400);
    await appendToInbox(env.inbox, raws().filter((r) => r.id === ANSWER));
    await env.engine.pass({ reply: "all" });
    const t = trackerMails();
    expect(t).toHaveLength(2);
    const update = t.find((m) => header(m, "X-Dmabuf-Review") !== "tracker")!;
    expect(header(update, "X-Dmabuf-Review")).toMatch(/^tracker:[0-9a-f]{16}$/);
    expect(header(update, "In-Reply-To")).toBe(`<${postMessageId({ channel: "mail", thread: V2_COVER, what: "tracker" }, BOT)}>`);
    expect(body(update).split("\n").slice(0, 4)).toEqual([
      "Since the last tracker for v2:",
      "",
      "  1.4  not addressed -> answered: Jonas Weber, objection on v1 1/3",
      "    - reply <YWxleC1hbnN3ZXItam9uYXM@example.com> from Alex Moreau,",
    ]);
    expect(body(update)).toContain("  1.4  answered       objection         1/3   Jonas Weber\n");
    expect(new FeedbackStore(env.store.db).items(V2_COVER).map((i) => i.verdict)).toEqual([
      "not addressed",
      "addressed",
      "unclear",
      "answered",
      "addressed",
      "obsolete",
      "addressed",
      "not addressed",
      "unclear",
    ]);
    expect(env.store.ledger.get({ channel: "mail", thread: V2_COVER, what: "tracker" })).toMatchObject({ state: "posted" });
  });

  it("a pass with nothing new sends nothing", async () => {
    const before = mails().length;
    await env.engine.pass({ reply: "all" });
    expect(mails().length).toBe(before);
  });
});

describe("mail channel: a pass that sends nothing", () => {
  it("records the tracker like the reviews it withholds, and a later reply is tracked by it", async () => {
    const env = await setup(raws().filter((r) => r.id !== ANSWER));
    await env.engine.pass({ reply: "none" });
    expect(env.mails()).toEqual([]);
    const fb = new FeedbackStore(env.store.db);
    expect(fb.tracker("mail", V2_COVER)?.body).toMatch(/^Tracker: dma-buf: coherency flag with an exporter override \(v2\)\n/);
    expect(fb.links(V2_COVER).map((l) => l.previousId)).toEqual([V1_COVER]);
    expect(fb.items(V2_COVER).find((i) => i.itemId === "1.4")?.verdict).toBe("not addressed");
    expect(env.store.ledger.get({ channel: "mail", thread: V2_COVER, what: "tracker" })).toBeUndefined();

    // Nothing new: the tracker as it was recorded is not news, whoever may send now.
    await env.engine.pass({ reply: "all" });
    expect(env.trackerMails()).toEqual([]);

    // The author's answer on v1 changes a verdict: the first tracker goes out, with it.
    await appendToInbox(env.inbox, raws().filter((r) => r.id === ANSWER));
    await env.engine.pass({ reply: "all" });
    const t = env.trackerMails();
    expect(t).toHaveLength(1);
    expect(header(t[0]!, "X-Dmabuf-Review")).toBe("tracker");
    expect(body(t[0]!)).toContain("  1.4  answered       objection         1/3   Jonas Weber\n");
    await env.engine.close();
    env.store.close();
  });
});

describe("mail channel: a v2 with no v1 in the store", () => {
  it("gets its review and no tracker, and nothing is remembered for it", async () => {
    const v2 = raws().filter((r) => r.id.startsWith("20221110-dma-coherent-v2-"));
    expect(v2).toHaveLength(4);
    const env = await setup(v2);
    await env.engine.pass({ reply: "all" });
    expect(env.mails().length).toBeGreaterThan(0);
    expect(env.trackerMails()).toEqual([]);
    const fb = new FeedbackStore(env.store.db);
    expect(fb.tracker("mail", V2_COVER)).toBeUndefined();
    expect(fb.items(V2_COVER)).toEqual([]);
    expect(fb.links(V2_COVER)).toEqual([]);
    await env.engine.close();
    env.store.close();
  });
});

describe("mail channel: a later revision off the dma-buf surface", () => {
  // A driver patch that triage keeps (a line names `coherent`) and the review finds nothing
  // dma-buf in: its reviewers' points are for the list, not for a dma-buf bot to track.
  const patch = (v: number, id: string, day: number, line: string) =>
    Buffer.from(
      [
        "From: Jane Dev <jane@example.org>",
        "To: dri-devel@lists.freedesktop.org",
        `Subject: [PATCH${v > 1 ? ` v${v}` : ""}] drm/foo: rename the coherent field of the ring`,
        `Date: ${new Date(Date.UTC(2022, 9, day)).toUTCString()}`,
        `Message-ID: <${id}>`,
        "",
        "The ring's field name says nothing about what it holds.",
        "",
        "Signed-off-by: Jane Dev <jane@example.org>",
        "---",
        ...(v > 1 ? ["v2: use a name that says what the hardware does (Priya)", ""] : []),
        " drivers/gpu/drm/foo/foo_ring.c | 2 +-",
        "",
        "diff --git a/drivers/gpu/drm/foo/foo_ring.c b/drivers/gpu/drm/foo/foo_ring.c",
        "--- a/drivers/gpu/drm/foo/foo_ring.c",
        "+++ b/drivers/gpu/drm/foo/foo_ring.c",
        "@@ -10,7 +10,7 @@ static int foo_ring_init(struct foo_ring *ring)",
        " {",
        " \tint ret;",
        " ",
        "-\tring->coherent = true;",
        `+\t${line}`,
        " \tret = foo_ring_alloc(ring);",
        " \treturn ret;",
        " }",
        "-- ",
        "2.47.0",
        "",
      ].join("\n"),
    );
  const reply = Buffer.from(
    [
      "From: Priya Raman <priya@example.org>",
      "To: Jane Dev <jane@example.org>",
      "Cc: dri-devel@lists.freedesktop.org",
      "Subject: Re: [PATCH] drm/foo: rename the coherent field of the ring",
      `Date: ${new Date(Date.UTC(2022, 9, 4)).toUTCString()}`,
      "Message-ID: <foo-review@example.org>",
      "In-Reply-To: <foo-v1@example.org>",
      "References: <foo-v1@example.org>",
      "",
      "On Mon, Jane Dev wrote:",
      "> +\tring->snooped = true;",
      "",
      "Please call it io_coherent, the hardware manual does.",
      "",
    ].join("\n"),
  );

  it("gets no tracker", async () => {
    const env = await setup([
      { bytes: patch(1, "foo-v1@example.org", 3, "ring->snooped = true;"), time: new Date(Date.UTC(2022, 9, 3)) },
      { bytes: reply, time: new Date(Date.UTC(2022, 9, 4)) },
      { bytes: patch(2, "foo-v2@example.org", 10, "ring->io_coherent = true;"), time: new Date(Date.UTC(2022, 9, 10)) },
    ]);
    await env.engine.pass({ reply: "all" });
    expect(env.trackerMails()).toEqual([]);
    expect(new FeedbackStore(env.store.db).tracker("mail", "foo-v2@example.org")).toBeUndefined();
    await env.engine.close();
    env.store.close();
  });
});

describe("mail channel: the trackers of a pass that sends nothing", () => {
  // One page per message, the author's answer on v1 archived after v2: a pass that may send
  // tracks v2 when it is reviewed and again when the answer arrives.
  const inbox = () => [...raws().filter((r) => r.id !== ANSWER), { ...raws().find((r) => r.id === ANSWER)!, time: new Date(Date.UTC(2022, 10, 12)) }];
  const owed = (store: Store) => store.db.prepare("SELECT series_id FROM tracker_due ORDER BY rowid").pluck().all() as string[];
  const writes = (store: Store) => store.db.prepare("SELECT writes FROM trackers WHERE thread = ?").pluck().get(V2_COVER);
  /** What the store keeps of v2's tracking. */
  const kept = (store: Store) => {
    const fb = new FeedbackStore(store.db);
    return { body: fb.tracker("mail", V2_COVER)?.body, items: fb.items(V2_COVER), links: fb.links(V2_COVER).map(({ seriesId, previousId, how, detail }) => ({ seriesId, previousId, how, detail })) };
  };
  let perPage: ReturnType<typeof kept>;

  beforeAll(async () => {
    // Trackers mailed nowhere: each one prepared is recorded, none waits for the next day.
    const env = await setup(inbox(), { batch: 1, mirror: { sending: { ...NO_AGE_LIMIT, trackers: "none" } } });
    await env.engine.pass({ reply: "all" });
    // A pass that may send tracks per page, as before: on the review of v2, and on the answer after it.
    expect(env.tracked.filter((id) => id === V2_COVER)).toHaveLength(2);
    expect(writes(env.store)).toBe(2);
    expect(owed(env.store)).toEqual([]);
    perPage = kept(env.store);
    expect(perPage.items.find((i) => i.itemId === "1.4")?.verdict).toBe("answered");
    await env.engine.close();
    env.store.close();
  });

  it.each([
    ["shadow mode", { mode: "shadow" as const }, "all" as const],
    ["no --reply", {}, "none" as const],
  ])("tracks each series once, at the end of the pass, to what tracking per page ends with (%s)", async (_, mirror, reply) => {
    const env = await setup(inbox(), { batch: 1, mirror });
    await env.engine.pass({ reply });
    expect(env.mails()).toEqual([]);
    expect(env.tracked).toEqual([V2_COVER]);
    expect(kept(env.store)).toEqual(perPage);
    expect(writes(env.store)).toBe(1);
    expect(owed(env.store)).toEqual([]);
    await env.engine.close();
    env.store.close();
  });

  it("stopped halfway, leaves what it owes in the store; the next pass records it", async () => {
    const env = await setup(inbox(), { batch: 1, mirror: { mode: "shadow" } });
    const stopOnceOwed: PassOptions = { reply: "all", shouldStop: () => owed(env.store).length > 0 };
    await env.engine.pass(stopOnceOwed);
    expect(owed(env.store)).toEqual([V2_COVER]);
    expect(kept(env.store).body).toBeUndefined();
    expect(env.tracked).toEqual([]);

    await env.engine.close();
    const again = env.engineOn(env.mirror);
    await again.pass({ reply: "all" });
    expect(env.tracked).toEqual([V2_COVER]);
    expect(kept(env.store)).toEqual(perPage);
    expect(owed(env.store)).toEqual([]);
    await again.close();
    env.store.close();
  });

  it("stopped halfway, what it owes is recorded, not mailed, before a pass that may send goes on", async () => {
    const env = await setup(inbox(), { batch: 1, mirror: { mode: "shadow" } });
    await env.engine.pass({ reply: "all", shouldStop: () => owed(env.store).length > 0 });
    expect(owed(env.store)).toEqual([V2_COVER]);
    await env.engine.close();
    // The list opts in: the tracker owed from the shadow pass is no news, and is not mailed
    // as if it were; the answer read after it changes a verdict, and that goes out.
    const sending = env.engineOn({ ...env.mirror, mode: "send" });
    const before = env.tracked.length;
    await sending.pass({ reply: "all" });
    expect(owed(env.store)).toEqual([]);
    expect(env.tracked.slice(before)).toEqual([V2_COVER, V2_COVER]);
    expect(kept(env.store)).toEqual(perPage);
    const t = env.trackerMails();
    expect(t).toHaveLength(1);
    expect(body(t[0]!)).toContain("  1.4  answered       objection         1/3   Jonas Weber\n");
    await sending.close();
    env.store.close();
  });
});
