import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReplyOptions } from "../../../src/publish/mail/compose.js";
import { MailTarget } from "../../../src/publish/mail/target.js";
import { outboxTransport, smtpTransport } from "../../../src/publish/mail/transport.js";
import type { Review } from "../../../src/review/review.js";
import { MailState } from "../../../src/state/mail.js";
import { Store } from "../../../src/state/store.js";
import { startSmtpPeer, type SmtpPeer } from "../../peers/smtp.js";
import { reviewFixture } from "./helpers.js";

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

const smtp = (port: number) => smtpTransport({ host: "127.0.0.1", port, secure: false, user: undefined, password: undefined });

describe("the mail target: posted once", () => {
  it("publishes each reply once; publishing the same review again sends nothing", async () => {
    const t = tmp();
    const store = Store.open(t.db);
    const target = new MailTarget(store, outboxTransport(t.outbox), OPTS);
    const first = await target.publish(review, { channel: "mail", id: review.series[0]!.series.id });
    expect(first.filter((r) => r.ok)).toHaveLength(4);
    expect(readdirSync(t.outbox)).toHaveLength(4);
    expect(await target.publish(review, { channel: "mail", id: "again" })).toEqual([]);
    expect(readdirSync(t.outbox)).toHaveLength(4);
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
    expect((await later.flush()).filter((r) => r.ok)).toHaveLength(4);
    expect(peer.received.length - start).toBe(4);
    expect(store.ledger.pending("mail")).toEqual([]);
    later.close();
    store.close();
  });

  it("a permanent refusal is recorded as failed, with the server's reason", async () => {
    const t = tmp();
    const store = Store.open(t.db);
    const target = new MailTarget(store, smtp(peer.port), OPTS);
    peer.refuse = 550;
    try {
      const receipts = await target.publish(review, { channel: "mail", id: "x" });
      expect(receipts.filter((r) => !r.ok)).toHaveLength(4);
    } finally {
      peer.refuse = undefined;
    }
    const p1 = review.series[0]!.patches[0]!.message.messageId;
    const failed = store.ledger.forThread("mail", p1);
    expect(failed.every((p) => p.state === "failed" && /refused/.test(p.detail ?? ""))).toBe(true);
    target.close();
    store.close();
  });
});
