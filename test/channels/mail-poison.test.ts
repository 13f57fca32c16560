import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { MailMirror, mailTarget } from "../../src/channels/mail.js";
import { inlineReviews } from "../../src/channels/review-pool.js";
import { splitMbox } from "../../src/ingest/mbox/reader.js";
import { MAX_SERIES_PATCHES } from "../../src/patch/subject.js";
import { Store } from "../../src/state/store.js";
import { assertBuilt, runCli } from "../helpers/cli.js";
import { fixture } from "../helpers/mail.js";
import { MBOX, V1_COVER, V2_COVER } from "../feedback/fixture.js";
import { mail, PeerInbox } from "../peers/public-inbox.js";
import { header, LIST, mailEnv, type Env } from "./mail-setup.js";

/**
 * Poison messages: one message or one thread that fails must not stop the list. Each failure is
 * recorded with its reason and skipped, the batch goes on and the cursor moves; what failed
 * does not come back in every later batch.
 */

const V1_PATCH_1 = "20221020-dma-coherent-v1-1-3f2a9c1b7d4e@example.com";

/** A format-patch fixture as a list message of our own id and subject. */
function patch(rel: string, id: string, subject?: (s: string) => string): string {
  const text = readFileSync(fixture(rel), "latin1").replace(/^From [0-9a-f]{40} .*\n/, "");
  return `Message-ID: <${id}>\nTo: ${LIST}\n${subject ? text.replace(/^Subject: (.*)$/m, (_l, s: string) => `Subject: ${subject(s)}`) : text}`;
}

/** Multipart mail whose second part has an empty Content-Type (mailparser reads it as `false`). */
function emptyTypedPart(h: { id: string; subject: string; inReplyTo?: string; references?: string[] }, text: string, name: string, attached: string): string {
  const body = ["--B", "Content-Type: text/plain", "", text, "--B", "Content-Type:", `Content-Disposition: attachment; filename="${name}"`, "", attached, "--B--", ""].join("\n");
  return mail(h, body, ['Content-Type: multipart/mixed; boundary="B"']);
}

/**
 * The triggers seen on real lists, in one archive: a reply with an empty-typed part in the v1
 * thread of a series whose v2 arrives next (the tracker reads it), a patch attached in an
 * empty-typed part, a patch numbered 1/100000000; then a patch that must still be answered.
 */
function poisonedArchive(): PeerInbox {
  const inbox = new PeerInbox();
  const feedback = splitMbox(readFileSync(MBOX), "fixture").map((r) => r.bytes);
  const v2 = feedback.findIndex((b) => b.includes(`Message-ID: <${V2_COVER}>`));
  for (const m of feedback.slice(0, v2)) inbox.add(m);
  inbox.add(
    emptyTypedPart(
      { id: "poison-reply@example.org", subject: "Re: [PATCH 1/3] dma-buf: add dma_coherent flag", inReplyTo: V1_PATCH_1, references: [V1_COVER, V1_PATCH_1] },
      "The trace is attached.\n",
      "trace.txt",
      "[  1.000] nothing to see\n",
    ),
  );
  for (const m of feedback.slice(v2)) inbox.add(m);
  inbox.add(emptyTypedPart({ id: "attached-patch@example.org", subject: "[PATCH] dma-buf/udmabuf: skip the CPU sync when mapping" }, "Patch attached.\n", "0001-udmabuf.patch", patch("model/udmabuf-skip-cpu-sync.patch", "inner@example.org")));
  inbox.add(patch("model/udmabuf-skip-cpu-sync.patch", "huge-count@example.org", (s) => s.replace("[PATCH]", "[PATCH 1/100000000]")));
  inbox.add(patch("model/system-heap-unmap-sync-dropped.patch", "later@example.org"));
  return inbox;
}

function outbox(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(".eml"))
      .map((f) => readFileSync(join(dir, f), "utf8"));
  } catch {
    return [];
  }
}

describe("poison messages, in a backfill child process", () => {
  beforeAll(() => assertBuilt());

  it("skips each with its reason and answers the rest; a restart has nothing left to do", async () => {
    const inbox = poisonedArchive();
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-poison-"));
    // The mirror enabled (mode send), with no age limit: the fixtures are dated.
    const config = join(dir, "config.yaml");
    writeFileSync(config, `mail:\n  mirrors:\n    - { name: poison, inbox: ${inbox.dir}, mode: send, max-age: 100000d }\n`);
    const args = ["backfill", inbox.dir, "--config", config, "--db", join(dir, "state.db"), "--outbox", join(dir, "outbox"), "--reply", "--format", "json"];
    // Under the heap limit the service runs with: slots allocated from the subject's count would abort it.
    const run = await runCli(args, undefined, ["--max-old-space-size=256"]);
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    const summary = JSON.parse(run.stdout) as { skipped: { id: string; reason: string }[] };
    expect(summary.skipped).toEqual([{ id: "huge-count@example.org", reason: "too-large" }]);

    const mails = outbox(join(dir, "outbox"));
    const answering = (id: string) => mails.filter((m) => header(m, "In-Reply-To") === `<${id}>`);
    expect(answering("later@example.org")).toHaveLength(1);
    expect(answering("attached-patch@example.org")).toHaveLength(1);
    // The v2 tracker read the v1 thread, the empty-typed reply with it.
    const tracker = answering(V2_COVER).filter((m) => header(m, "X-Dmabuf-Review") === "tracker");
    expect(tracker).toHaveLength(1);

    const store = Store.open(join(dir, "state.db"));
    try {
      const row = (id: string) => store.db.prepare("SELECT status, reason FROM messages WHERE message_id = ?").get(id);
      expect(row("huge-count@example.org")).toEqual({ status: "skipped", reason: `too-large: numbered 1/100000000: more than ${MAX_SERIES_PATCHES} patches` });
      expect(row("poison-reply@example.org")).toMatchObject({ status: "seen", reason: null });
      expect(row("attached-patch@example.org")).toMatchObject({ status: "reviewed" });
      expect(store.db.prepare("SELECT COUNT(*) FROM mail_threads WHERE relevant = 1 AND waiting = 1").pluck().get()).toBe(0);
    } finally {
      store.close();
    }

    const again = await runCli(args, undefined, ["--max-old-space-size=256"]);
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ messages: 0, reviewed: 0, replies: 0, skipped: [] });
    expect(outbox(join(dir, "outbox"))).toHaveLength(mails.length);
  }, 60_000);
});

describe("a failing review is confined to its series or thread", () => {
  const envs: Env[] = [];
  afterEach(async () => {
    for (const e of envs.splice(0)) await e.close();
  });

  const POISON = "poison-cover@example.org";
  const cover = (id: string, subject: string, parent?: string) =>
    mail({ id, subject, ...(parent ? { inReplyTo: parent, references: [parent] } : {}) }, "A series.\n");
  /** A two-patch series on the dma-buf surface, each patch in reply to its cover letter. */
  const series = (inbox: PeerInbox, id: string, v: string, parent?: string) => {
    inbox.add(cover(id, `[PATCH${v} 0/2] dma-buf: ${id}`, parent));
    inbox.add(patch("model/udmabuf-skip-cpu-sync.patch", `${id}-1`, (s) => s.replace("[PATCH]", `[PATCH${v} 1/2]`)).replace(/^(To: .*)$/m, `$1\nIn-Reply-To: <${id}>`));
    inbox.add(patch("model/system-heap-unmap-sync-dropped.patch", `${id}-2`, (s) => s.replace("[PATCH]", `[PATCH${v} 2/2]`)).replace(/^(To: .*)$/m, `$1\nIn-Reply-To: <${id}>`));
  };

  it("skips what failed with the reason, answers the rest, tries it once more and never again", async () => {
    const inbox = new PeerInbox();
    series(inbox, POISON, "");
    series(inbox, "good-cover@example.org", "");
    // Batches of two messages: the poisoned thread would rejoin every one of the later batches.
    for (let i = 0; i < 6; i++) inbox.add(mail({ id: `chat-${i}@example.org`, subject: `fences ${i}` }, "?\n"));
    inbox.add(patch("model/udmabuf-skip-cpu-sync.patch", "later@example.org"));
    const e = await mailEnv(inbox.dir, { mail: { batch: 2 } });
    envs.push(e);
    const real = inlineReviews(e.ctx.review);
    const tried: string[] = [];
    // A review that throws for one series, as a parser or the model might on input it cannot take;
    // one whose result the store cannot take, for another (the thread-level backstop).
    e.engine = new MailMirror(e.ctx, e.mirror, mailTarget(e.ctx), {
      review: async (s) => {
        tried.push(s.id);
        if (s.id === POISON) throw new Error("the model met something it cannot hold");
        if (s.id === "later@example.org") {
          const r = await real.review(s);
          return { ...r, series: { ...r.series, title: null as unknown as string } };
        }
        return real.review(s);
      },
      track: real.track,
    });
    const first = await e.engine.pass({ reply: "new" });
    const second = await e.engine.pass({ reply: "new" });
    expect(tried.filter((id) => id === POISON)).toHaveLength(2);
    expect(tried.filter((id) => id === "later@example.org")).toHaveLength(1);
    expect(second).toMatchObject({ messages: 0, reviewed: 0, skipped: [] });
    const reasons = new Map(first.skipped.map((k) => [k.id, `${k.reason}: ${k.detail}`]));
    expect(reasons.get(POISON)).toBe(`review-failed: the review of ${POISON} failed: the model met something it cannot hold`);
    expect(reasons.get(`${POISON}-2`)).toBe(reasons.get(POISON));
    expect(reasons.get("later@example.org")).toMatch(/^review-failed: the review of thread later@example\.org failed: /);
    const row = (id: string) => e.store.db.prepare("SELECT status, reason FROM messages WHERE message_id = ?").get(id) as { status: string; reason: string };
    expect(row(POISON)).toEqual({ status: "skipped", reason: reasons.get(POISON) });
    expect(row("later@example.org").status).toBe("skipped");
    // The good series is answered; the cursor is at the head; nothing waits.
    expect(e.mails().filter((m) => header(m, "In-Reply-To") === "<good-cover@example.org-1>")).toHaveLength(1);
    expect(e.store.db.prepare("SELECT COUNT(*) FROM mail_threads WHERE waiting = 1 AND relevant = 1").pluck().get()).toBe(0);

    // A v2 posted into the poisoned thread is reviewed; v1's messages stay skipped.
    series(inbox, "poison-v2@example.org", " v2", POISON);
    const third = await e.engine.pass({ reply: "new" });
    expect(third.reviewed).toBe(1);
    expect(tried.filter((id) => id === POISON)).toHaveLength(2);
    expect(row("poison-v2@example.org-1").status).toBe("reviewed");
    expect(row(`${POISON}-1`).status).toBe("skipped");
  });

  it("a tracker that fails is recorded and the rest of the batch goes on", async () => {
    const inbox = new PeerInbox();
    for (const m of splitMbox(readFileSync(MBOX), "fixture")) inbox.add(m.bytes);
    inbox.add(patch("model/udmabuf-skip-cpu-sync.patch", "later@example.org"));
    const e = await mailEnv(inbox.dir);
    envs.push(e);
    const real = inlineReviews(e.ctx.review);
    e.engine = new MailMirror(e.ctx, e.mirror, mailTarget(e.ctx), {
      review: real.review,
      track: async () => {
        throw new Error("tracking met something it cannot hold");
      },
    });
    const s = await e.engine.pass({ reply: "new" });
    expect(s.reviewed).toBe(3);
    expect(e.mails().filter((m) => header(m, "In-Reply-To") === "<later@example.org>")).toHaveLength(1);
    expect(e.mails().filter((m) => /^tracker/.test(header(m, "X-Dmabuf-Review") ?? ""))).toEqual([]);
    expect(e.store.db.prepare("SELECT epoch, reason, detail FROM archive_errors").all()).toEqual([
      { epoch: "tracker", reason: "tracker-failed", detail: `${V2_COVER}: tracking met something it cannot hold` },
    ]);
    expect(e.store.cursors.get(inbox.dir, "0")).toBeDefined();
    expect(e.store.db.prepare("SELECT COUNT(*) FROM mail_threads WHERE waiting = 1 AND relevant = 1").pluck().get()).toBe(0);
  });
});
