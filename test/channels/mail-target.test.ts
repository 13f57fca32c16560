import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postMessageId, type Draft, type ReplyOptions } from "../../src/publish/mail/compose.js";
import { MAX_MAILS_PER_HOUR, MAX_MAILS_PER_PASS, MAX_RECIPIENTS } from "../../src/publish/mail/limits.js";
import { MailTarget } from "../../src/channels/mail-target.js";
import { buildOutgoing, outboxTransport, smtpTransport } from "../../src/publish/mail/transport.js";
import type { Review } from "../../src/review/review.js";
import { MailState } from "../../src/state/mail.js";
import { Store } from "../../src/state/store.js";
import { startSmtpPeer, type SmtpPeer } from "../peers/smtp.js";
import { capturedLog, header, reviewEdited, reviewFixture } from "../publish/mail/helpers.js";

const BOT = { name: "dmabuf-review", email: "bot@dmabuf-review.example" };
const OPTS: ReplyOptions = { policy: "all", threshold: "warning", list: "dri-devel@lists.freedesktop.org", from: BOT };

let review: Review;
let peer: SmtpPeer;

beforeAll(async () => {
  review = await reviewFixture("series/dma-coherent-v1.mbox");
  peer = await startSmtpPeer();
});
afterAll(async () => {
  await peer.close();
});

function tmp(): { db: string; outbox: string } {
  const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-target-"));
  return { db: join(dir, "state.db"), outbox: join(dir, "outbox") };
}

const smtp = (port: number, login?: { user: string; password: string }) =>
  smtpTransport({ host: "127.0.0.1", port, secure: false, user: login?.user, password: login?.password });

/** The replies the review earns, prepared and recorded as the channel records them. */
async function recordReplies(store: Store, target: MailTarget) {
  const prepared = await target.prepare(review.series[0]!);
  store.transaction(() => target.record(prepared.outgoing));
  return prepared;
}

/** `fn`, while the peer refuses every recipient with `code`. */
async function whileRefusing<T>(code: number, fn: () => Promise<T>): Promise<T> {
  peer.refuse = code;
  try {
    return await fn();
  } finally {
    peer.refuse = undefined;
  }
}

/** A clock a test moves by hand: backoffs pass without waiting. */
function manualClock(start: string) {
  let t = new Date(start).getTime();
  return { now: () => new Date(t), advance: (seconds: number) => (t += seconds * 1000), iso: (plus = 0) => new Date(t + plus * 1000).toISOString() };
}

describe("the mail target: posted once", () => {
  it("publishes each reply once; publishing the same review again sends nothing", async () => {
    const t = tmp();
    const store = Store.open(t.db);
    const target = new MailTarget(store, outboxTransport(t.outbox), OPTS);
    const first = await target.publish(review, { channel: "mail", id: review.series[0]!.series.id });
    expect(first.filter((r) => r.ok)).toHaveLength(3);
    expect(readdirSync(t.outbox)).toHaveLength(3);
    expect(await target.publish(review, { channel: "mail", id: "again" })).toEqual([]);
    expect(readdirSync(t.outbox)).toHaveLength(3);
    // Every finding carried is in the ledger, posted, with the Message-ID of its mail.
    const posts = store.ledger.forThread("mail", review.series[0]!.patches[0]!.message.messageId);
    expect(posts.length).toBeGreaterThan(1);
    expect(posts.every((p) => p.state === "posted")).toBe(true);
    store.close();
  });

  it("a crash between recording and sending: the restarted bot sends the same message, once", async () => {
    const t = tmp();
    let store = Store.open(t.db);
    const before = new MailTarget(store, smtp(peer.port), OPTS);
    const prepared = await before.prepare(review.series[0]!);
    store.transaction(() => before.record(prepared.outgoing));
    before.close();
    store.close(); // the process dies here
    const start = peer.received.length;
    store = Store.open(t.db);
    const after = new MailTarget(store, smtp(peer.port), OPTS);
    const receipts = await after.flush();
    expect(receipts.filter((r) => r.ok)).toHaveLength(prepared.outgoing.length);
    expect(await after.flush()).toEqual([]);
    const got = peer.received.slice(start);
    expect(got.map((r) => r.messageId)).toEqual(prepared.outgoing.map((o) => o.messageId));
    expect(got[0]!.raw.replace(/\r\n/g, "\n")).toBe(prepared.outgoing[0]!.raw.toString("utf8"));
    // Drafting again finds everything posted.
    expect((await after.prepare(review.series[0]!)).outgoing).toEqual([]);
    after.close();
    store.close();
  });

  it("a pending reply the list archive already holds went out: it is not sent again", async () => {
    const t = tmp();
    const store = Store.open(t.db);
    const target = new MailTarget(store, smtp(peer.port), OPTS);
    const prepared = await target.prepare(review.series[0]!);
    const mine = prepared.outgoing[0]!;
    store.transaction(() => {
      target.record([mine]);
      new MailState(store.db).insert({
        messageId: mine.messageId, source: "x", origin: "git:0:abc", kind: "reply", subject: "Re: x", author: BOT.email, date: null, inReplyTo: null,
        status: "seen", reason: null, thread: "t", revision: null, patchIndex: null, patchTotal: null, arrivedAt: 0,
      });
    });
    const start = peer.received.length;
    expect(await target.flush()).toEqual([{ target: "smtp", ok: true, what: mine.key.what, location: "already in the list archive" }]);
    expect(peer.received.length).toBe(start);
    target.close();
    store.close();
  });

  it("a server that is down keeps the reply pending; it goes out when the server is back", async () => {
    const t = tmp();
    const store = Store.open(t.db);
    const down = await startSmtpPeer();
    const port = down.port;
    await down.close();
    const target = new MailTarget(store, smtp(port), OPTS);
    const receipts = await target.publish(review, { channel: "mail", id: "x" });
    expect(receipts.some((r) => !r.ok)).toBe(true);
    expect(store.ledger.pending("mail").length).toBeGreaterThan(0);
    target.close();
    const later = new MailTarget(store, smtp(peer.port), OPTS);
    const start = peer.received.length;
    expect((await later.flush()).filter((r) => r.ok)).toHaveLength(3);
    expect(peer.received.length - start).toBe(3);
    expect(store.ledger.pending("mail")).toEqual([]);
    later.close();
    store.close();
  });

  it("a permanent refusal is recorded as failed, with the server's reason", async () => {
    const t = tmp();
    const store = Store.open(t.db);
    const target = new MailTarget(store, smtp(peer.port), OPTS);
    const receipts = await whileRefusing(550, () => target.publish(review, { channel: "mail", id: "x" }));
    expect(receipts.filter((r) => !r.ok)).toHaveLength(3);
    const p1 = review.series[0]!.patches[0]!.message.messageId;
    const failed = store.ledger.forThread("mail", p1);
    expect(failed.every((p) => p.state === "failed" && /refused/.test(p.detail ?? ""))).toBe(true);
    target.close();
    store.close();
  });

  it("a 550 is final for that mail only: recorded with its reason, never tried again", async () => {
    const t = tmp();
    const store = Store.open(t.db);
    const target = new MailTarget(store, smtp(peer.port), OPTS);
    const prepared = await recordReplies(store, target);
    // Refused recipients are about this message: the next mail is still tried.
    expect((await whileRefusing(550, () => target.flush())).map((r) => r.ok)).toEqual([false, false, false]);
    const start = peer.received.length;
    expect(await target.flush()).toEqual([]);
    expect(peer.received.length).toBe(start);
    const key = prepared.outgoing[0]!.key;
    const last_error = expect.stringMatching(/550 refused/);
    expect(store.ledger.get(key)).toMatchObject({ state: "failed", attempts: 1, error_kind: "final", next_try_at: null, last_error });
    expect(store.ledger.pendingMail()).toMatchObject({ pending: 0, failed: 3, lastError: { kind: "final", reason: expect.stringMatching(/550/) } });
    target.close();
    store.close();
  });
});

describe("the mail target: delivery that fails for a while", () => {
  it("a refused login (535) keeps every reply pending, says so once at error level, and each goes once the login is fixed", async () => {
    const authed = await startSmtpPeer({ user: "bot", pass: "right" });
    const store = Store.open(tmp().db);
    const clock = manualClock("2026-12-01T10:00:00Z");
    const { log, at } = capturedLog();
    try {
      const bad = new MailTarget(store, smtp(authed.port, { user: "bot", password: "wrong" }), OPTS, log, clock.now);
      const prepared = await recordReplies(store, bad);
      // The first refusal stops the round: every mail would be refused alike.
      const first = await bad.flush();
      expect(first).toEqual([{ target: "smtp", ok: false, what: prepared.outgoing[0]!.key.what, reason: expect.stringMatching(/535/) }]);
      const key = prepared.outgoing[0]!.key;
      expect(store.ledger.get(key)).toMatchObject({ state: "pending", attempts: 1, error_kind: "configuration", next_try_at: clock.iso(60) });
      expect(store.ledger.pendingMail()).toEqual({
        pending: 3,
        queued: 2,
        temporary: 0,
        configuration: 1,
        failed: 0,
        oldestPendingSince: clock.iso(),
        nextTryAt: clock.iso(60),
        lastError: { kind: "configuration", scope: "server", reason: expect.stringMatching(/535/), at: clock.iso(), thread: key.thread },
      });
      // Within the backoff nothing is tried; after it, the login is tried again and the wait doubles.
      clock.advance(30);
      expect(await bad.flush()).toEqual([]);
      clock.advance(31);
      expect(await bad.flush()).toHaveLength(1);
      expect(store.ledger.get(key)).toMatchObject({ state: "pending", attempts: 2, next_try_at: clock.iso(120) });
      expect(at("error").map((l) => l["msg"])).toEqual([expect.stringMatching(/check the SMTP settings/)]);
      expect(at("info").some((l) => l["msg"] === "replies waiting to go out" && l["configuration"] === 1 && l["pending"] === 3)).toBe(true);
      expect(authed.received).toEqual([]);
      bad.close();
      // The operator fixes the password and restarts: no waiting for the backoff, everything goes, once.
      const good = new MailTarget(store, smtp(authed.port, { user: "bot", password: "right" }), OPTS, log, clock.now);
      expect((await good.flush()).map((r) => r.ok)).toEqual([true, true, true]);
      expect(await good.flush()).toEqual([]);
      expect(authed.received.map((r) => r.messageId)).toEqual(prepared.outgoing.map((o) => o.messageId));
      expect(store.ledger.get(key)).toMatchObject({ state: "posted", attempts: 3 });
      expect(store.ledger.pendingMail()).toMatchObject({ pending: 0, failed: 0, lastError: null });
      good.close();
    } finally {
      await authed.close();
      store.close();
    }
  });

  it("a 451 holds a mail for its backoff, kept across a restart; then it goes out once", async () => {
    const t = tmp();
    let store = Store.open(t.db);
    const clock = manualClock("2026-12-01T10:00:00Z");
    const target = new MailTarget(store, smtp(peer.port), OPTS, undefined, clock.now);
    const prepared = await recordReplies(store, target);
    // A 4xx to the recipients is about this mail: the next ones are tried, and held alike.
    expect((await whileRefusing(451, () => target.flush())).map((r) => r.ok)).toEqual([false, false, false]);
    expect(store.ledger.pendingMail()).toMatchObject({ pending: 3, temporary: 3, nextTryAt: clock.iso(60) });
    target.close();
    store.close();
    const start = peer.received.length;
    store = Store.open(t.db);
    const again = new MailTarget(store, smtp(peer.port), OPTS, undefined, clock.now);
    clock.advance(59);
    expect(await again.flush()).toEqual([]);
    expect(peer.received.length).toBe(start);
    clock.advance(1);
    expect((await again.flush()).map((r) => r.ok)).toEqual([true, true, true]);
    expect(await again.flush()).toEqual([]);
    expect(peer.received.slice(start).map((r) => r.messageId)).toEqual(prepared.outgoing.map((o) => o.messageId));
    again.close();
    store.close();
  });

  it("a 554 for the message's content is final; the mails after it still go", async () => {
    const store = Store.open(tmp().db);
    const target = new MailTarget(store, smtp(peer.port), OPTS);
    const prepared = await recordReplies(store, target);
    const refused = prepared.outgoing[1]!.messageId;
    peer.refuseData = 554;
    peer.hold = (r) => {
      if (r.messageId !== refused) peer.refuseData = undefined;
      else peer.refuseData = 554;
      return false;
    };
    try {
      expect((await target.flush()).map((r) => r.ok)).toEqual([true, false, true]);
    } finally {
      peer.refuseData = undefined;
      peer.hold = undefined;
    }
    const last_error = expect.stringMatching(/554/);
    expect(store.ledger.get(prepared.outgoing[1]!.key)).toMatchObject({ state: "failed", error_kind: "final", last_error });
    expect(await target.flush()).toEqual([]);
    target.close();
    store.close();
  });
});

/** `n` small replies to `n` different patches, as drafted, without a review behind them. */
function drafts(n: number): Draft[] {
  return Array.from({ length: n }, (_, i) => {
    const key = { channel: "mail", thread: `burst-${i}@example.org`, what: "reply:0000000000000000" };
    const to = [{ name: "Dev", email: `dev${i}@example.org` }];
    const subject = `Re: [PATCH] burst ${i}`;
    return { key, fingerprints: [], messageId: postMessageId(key, BOT), inReplyTo: key.thread, references: [key.thread], to, cc: [], subject, text: "x\n" };
  });
}

describe("the mail target: hard limits no configuration lifts", () => {
  it("a patch Cc'd to 500 addresses gets a reply to the author and 10 in Cc (the policy's cap): the list, the patch's To, then its Cc in order", async () => {
    const cc = Array.from({ length: 500 }, (_, i) => `p${i}@example.org`);
    const r = await reviewEdited("model/udmabuf-skip-cpu-sync.patch", undefined, [
      "Message-ID: <cc500@example.org>",
      `To: maint@example.org, ${OPTS.list}, ${BOT.email}`,
      `Cc: ${cc.join(",\n ")}`,
    ]);
    const store = Store.open(tmp().db);
    const target = new MailTarget(store, smtp(peer.port), OPTS);
    const start = peer.received.length;
    expect((await target.publish(r, { channel: "mail", id: "x" })).filter((x) => x.ok)).toHaveLength(1);
    const got = peer.received.slice(start);
    expect(got).toHaveLength(1);
    expect(got[0]!.to).toEqual(["dev@example.org", OPTS.list, "maint@example.org", ...cc.slice(0, 8)]);
    expect(header(got[0]!.raw.replace(/\r\n/g, "\n"), "Cc")!.split(",")).toHaveLength(10);
    target.close();
    store.close();
  });

  it("whatever a draft asks for, a mail goes to at most 25 addresses (the hard cap), and the log says how many were left out", async () => {
    const key = { channel: "mail", thread: "cc500@example.org", what: "reply" };
    const cc = Array.from({ length: 500 }, (_, i) => ({ name: `p${i}`, email: `p${i}@example.org` }));
    const to = [{ name: "Dev", email: "dev@example.org" }];
    const draft: Draft = { key, fingerprints: [], messageId: postMessageId(key, BOT), inReplyTo: key.thread, references: [key.thread], to, cc, subject: "Re: [PATCH] x", text: "x\n" };
    const store = Store.open(tmp().db);
    const { log, at } = capturedLog();
    const target = new MailTarget(store, smtp(peer.port), OPTS, log);
    const o = await buildOutgoing(draft, BOT);
    store.transaction(() => target.record([o]));
    const start = peer.received.length;
    expect((await target.flush()).filter((x) => x.ok)).toHaveLength(1);
    const got = peer.received.slice(start);
    expect(got[0]!.to).toEqual(["dev@example.org", ...cc.slice(0, MAX_RECIPIENTS - 1).map((p) => p.email)]);
    const msg = expect.stringMatching(/first 25 recipients only \(hard cap\)/);
    expect(at("warn")).toEqual([expect.objectContaining({ leftOut: 500 + 1 - MAX_RECIPIENTS, msg })]);
    target.close();
    store.close();
  });

  it("a burst goes out at most 50 a pass and 100 an hour; the rest waits in the ledger and goes later, each once", async () => {
    const store = Store.open(tmp().db);
    const clock = manualClock("2026-12-01T10:00:00Z");
    const { log, at } = capturedLog();
    const target = new MailTarget(store, smtp(peer.port), OPTS, log, clock.now);
    const burst = 2 * MAX_MAILS_PER_PASS + 10;
    const all = await Promise.all(drafts(burst).map((d) => buildOutgoing(d, BOT, clock.now())));
    store.transaction(() => target.record(all));
    const start = peer.received.length;
    const sent = () => peer.received.length - start;
    expect(await target.flush()).toHaveLength(MAX_MAILS_PER_PASS);
    expect(await target.flush()).toEqual([]); // the same pass: nothing more
    expect(at("warn").at(-1)).toMatchObject({ held: burst - MAX_MAILS_PER_PASS, cap: "50 mails per pass" });
    expect(store.ledger.pendingMail()).toMatchObject({ pending: burst - MAX_MAILS_PER_PASS, queued: burst - MAX_MAILS_PER_PASS });
    clock.advance(300);
    target.startPass();
    expect(await target.flush()).toHaveLength(MAX_MAILS_PER_HOUR - MAX_MAILS_PER_PASS);
    clock.advance(300);
    target.startPass();
    expect(await target.flush()).toEqual([]); // a new pass, but the hour is full
    expect(at("warn").at(-1)).toMatchObject({ held: burst - MAX_MAILS_PER_HOUR, cap: "100 mails per hour" });
    expect(sent()).toBe(MAX_MAILS_PER_HOUR);
    // An hour after the first went out, the rest goes.
    clock.advance(3600 - 600 + 1);
    target.startPass();
    expect(await target.flush()).toHaveLength(burst - MAX_MAILS_PER_HOUR);
    expect(peer.received.slice(start).map((m) => m.messageId)).toEqual(all.map((o) => o.messageId));
    expect(store.ledger.pendingMail()).toMatchObject({ pending: 0 });
    target.close();
    store.close();
  });
});
