import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postMessageId, type Draft, type ReplyOptions } from "../../../src/publish/mail/compose.js";
import { lineageOf, SendingPolicy } from "../../../src/publish/mail/policy.js";
import { MailTarget } from "../../../src/channels/mail-target.js";
import { buildOutgoing, smtpTransport } from "../../../src/publish/mail/transport.js";
import { Store } from "../../../src/state/store.js";
import { startSmtpPeer, type SmtpPeer } from "../../peers/smtp.js";
import { capturedLog, reviewEdited } from "./helpers.js";

/*
 * The sending policy of issue 15, driven with a clock the test moves, the real ledger (SQLite)
 * and a real SMTP server on loopback.
 */

const BOT = { name: "dmabuf-review", email: "bot@dmabuf-review.example" };
const LIST = "dri-devel@lists.freedesktop.org";
const OPTS: ReplyOptions = { policy: "all", threshold: "warning", list: LIST, from: BOT, listKey: "dri-devel", sending: {} };
const PATCH = "model/udmabuf-skip-cpu-sync.patch";

let peer: SmtpPeer;
beforeAll(async () => {
  peer = await startSmtpPeer();
});
afterAll(async () => {
  await peer.close();
});

function manualClock(start: string) {
  let t = new Date(start).getTime();
  return { now: () => new Date(t), advance: (seconds: number) => (t += seconds * 1000) };
}

function setup(clock = manualClock("2026-12-01T10:00:00Z")) {
  const store = Store.open(join(mkdtempSync(join(tmpdir(), "dmabuf-review-policy-")), "state.db"));
  const { log, at } = capturedLog();
  const smtp = smtpTransport({ host: "127.0.0.1", port: peer.port, secure: false, user: undefined, password: undefined });
  const target = new MailTarget(store, smtp, OPTS, log, clock.now);
  const received = () => peer.received.slice(start);
  const start = peer.received.length;
  return { store, target, clock, received, at, close: () => (target.close(), store.close()) };
}

/** The udmabuf patch as revision `v` (its own Message-ID, the same title and author). */
const revision = (v: number, headers: string[] = []) =>
  reviewEdited(PATCH, undefined, [`Message-ID: <udmabuf-v${v}@example.org>`, `To: ${LIST}`, ...headers], (t) =>
    t.replace(/^Subject: \[PATCH\]/m, v === 1 ? "Subject: [PATCH]" : `Subject: [PATCH v${v}]`),
  );

describe("the sending policy", () => {
  it("a finding mailed on v1 is not mailed again on v2 with the same code; one mail per patch per revision", async () => {
    const t = setup();
    const v1 = await revision(1);
    expect((await t.target.publish(v1, { channel: "mail", id: "v1" })).filter((r) => r.ok)).toHaveLength(1);
    // The same patch reviewed again at a lower threshold (more findings): still one mail for it.
    const more = await t.target.prepare(v1.series[0]!, { threshold: "info" });
    expect(more.outgoing).toEqual([]);
    const v2 = await revision(2);
    expect(lineageOf(v2.series[0]!.series)).toBe(lineageOf(v1.series[0]!.series));
    expect((await t.target.prepare(v2.series[0]!)).outgoing).toEqual([]);
    expect(await t.target.publish(v2, { channel: "mail", id: "v2" })).toEqual([]);
    expect(t.received()).toHaveLength(1);
    // Renamed, the same code by the same author is not news to them either.
    const renamed = await reviewEdited(PATCH, undefined, ["Message-ID: <renamed@example.org>"], (x) => x.replace(/^Subject: .*$/m, "Subject: [PATCH v3] udmabuf: map without the sync"));
    expect((await t.target.prepare(renamed.series[0]!)).outgoing).toEqual([]);
    // The same code from someone else is answered.
    const other = await reviewEdited(PATCH, "Other Dev <other@example.org>", ["Message-ID: <other@example.org>"]);
    expect((await t.target.publish(other, { channel: "mail", id: "o" })).filter((r) => r.ok)).toHaveLength(1);
    t.close();
  });

  it("a v2 drafted before v1's reply was recorded (reviews run ahead) is dropped at record time", async () => {
    const t = setup();
    const [v1, v2] = [await revision(1), await revision(2)];
    const p1 = await t.target.prepare(v1.series[0]!);
    const p2 = await t.target.prepare(v2.series[0]!);
    expect(p2.outgoing).toHaveLength(1);
    t.store.transaction(() => t.target.record(p1.outgoing));
    t.store.transaction(() => t.target.record(p2.outgoing));
    expect((await t.target.flush()).filter((r) => r.ok)).toHaveLength(1);
    expect(t.received().map((r) => r.messageId)).toEqual([p1.outgoing[0]!.messageId]);
    t.close();
  });

  it("recipients: the author in To; the list, then the thread's people in Cc, capped; no catch-all list unless configured; no one who opted out", async () => {
    const t = setup();
    const cc = Array.from({ length: 30 }, (_, i) => `p${i}@example.org`);
    const m = {
      from: { name: "Dev", email: "dev@example.org" },
      to: [{ name: "LKML", email: "linux-kernel@vger.kernel.org" }, { name: "", email: "maint@example.org" }],
      cc: [{ name: "", email: "stable@vger.kernel.org" }, ...cc.map((email) => ({ name: "", email }))],
    };
    const replier = { name: "Rev", email: "rev@example.org" };
    const p = new SendingPolicy(t.store.ledger, {}, t.clock.now);
    const optedOut = (e: string) => e === "p0@example.org";
    const r = p.recipients(m, LIST, [replier], BOT.email, optedOut);
    expect(r.to).toEqual([m.from]);
    expect(r.cc.map((x) => x.email)).toEqual([LIST, "rev@example.org", "maint@example.org", ...cc.slice(1, 8)]);
    const wide = new SendingPolicy(t.store.ledger, { ccCatchAll: true, maxCc: 3 }, t.clock.now).recipients(m, LIST, [], BOT.email, optedOut);
    expect(wide.cc.map((x) => x.email)).toEqual([LIST, "linux-kernel@vger.kernel.org", "maint@example.org"]);
    t.close();
  });

  it("trackers: to the author alone once a verdict is definite, or nowhere; a follow-up at most once a day", async () => {
    const t = setup();
    const author = { name: "Dev", email: "dev@example.org" };
    const p = new SendingPolicy(t.store.ledger, {}, t.clock.now);
    expect(p.trackerGoesTo(author, ["unclear", "unclear"])).toBeUndefined();
    expect(p.trackerGoesTo(author, ["unclear", "not addressed"])).toEqual(author);
    expect(new SendingPolicy(t.store.ledger, { trackers: "none" }, t.clock.now).trackerGoesTo(author, ["addressed"])).toBeUndefined();
    expect(p.followUpAllowed("cover@example.org")).toBe(true);
    t.store.ledger.intend({ channel: "mail", thread: "cover@example.org", what: "tracker" }, "smtp", "x", t.clock.now().toISOString());
    t.clock.advance(23 * 3600);
    expect(p.followUpAllowed("cover@example.org")).toBe(false);
    t.clock.advance(3600);
    expect(p.followUpAllowed("cover@example.org")).toBe(true);
    t.close();
  });

  it("a thread older than max-age is not mailed; a thread the maintainers muted is not mailed", async () => {
    const t = setup();
    const p = new SendingPolicy(t.store.ledger, { maxAgeSeconds: 14 * 86400 }, t.clock.now);
    const now = t.clock.now().getTime() / 1000;
    expect(p.tooOld(now - 13 * 86400)).toBe(false);
    expect(p.tooOld(now - 15 * 86400)).toBe(true);
    const v1 = await revision(1, ["References: <root@example.org>"]);
    const muted = await t.target.prepare(v1.series[0]!, { sending: { muteThreads: ["root@example.org"] } });
    expect(muted.outgoing).toEqual([]);
    expect(muted.refused.map((r) => r.reason)).toEqual(["thread muted by the list's maintainers"]);
    t.close();
  });

  it("no mail until the list opts in, when the run asks none, for history, or past max-age; else it may go", () => {
    const t = setup();
    const p = new SendingPolicy(t.store.ledger, { maxAgeSeconds: 14 * 86400 }, t.clock.now);
    const now = t.clock.now().getTime() / 1000;
    const firstRead = now - 86400;
    const send = { mode: "send", history: "record" } as const;
    expect(p.withheld({ history: "reply" }, "all", now, firstRead)).toBe("shadow mode");
    expect(p.withheld({ ...send, mode: "shadow" }, "all", now, firstRead)).toBe("shadow mode");
    expect(p.withheld(send, "none", now, firstRead)).toBe("not asked to reply");
    expect(p.withheld(send, "new", firstRead - 1, firstRead)).toBe("history");
    expect(p.withheld({ ...send, history: "reply" }, "new", firstRead - 1, firstRead)).toBeUndefined();
    expect(p.withheld(send, "all", firstRead - 1, firstRead)).toBeUndefined();
    expect(p.withheld(send, "new", firstRead, firstRead)).toBeUndefined();
    expect(p.withheld(send, "all", now - 15 * 86400, firstRead)).toBe("older than max-age");
    t.clock.advance(15 * 86400);
    expect(p.withheld(send, "new", now, firstRead)).toBe("older than max-age");
    t.close();
  });

  it("the per-list daily cap: the rest waits in order, goes out a day later, none dropped, no burst", async () => {
    const t = setup();
    t.target.policy("dri-devel", { perDay: 2 });
    const drafts: Draft[] = Array.from({ length: 5 }, (_, i) => {
      const key = { channel: "mail", thread: `p${i}@example.org`, what: "reply" };
      const to = [{ name: "Dev", email: "dev@example.org" }];
      return { key, list: "dri-devel", fingerprints: [], messageId: postMessageId(key, BOT), inReplyTo: key.thread, references: [key.thread], to, cc: [], subject: `Re: [PATCH] p${i}`, text: "x\n" };
    });
    const built = await Promise.all(drafts.map((d) => buildOutgoing(d, BOT, t.clock.now())));
    t.store.transaction(() => t.target.record(built));
    expect((await t.target.flush()).filter((r) => r.ok)).toHaveLength(2);
    expect(t.at("info").some((l) => /held back by its cap of 2 a day/.test(String(l["msg"])))).toBe(true);
    t.clock.advance(12 * 3600);
    expect(await t.target.flush()).toEqual([]);
    expect(t.store.ledger.pendingMail()).toMatchObject({ pending: 3, failed: 0 });
    t.clock.advance(12 * 3600);
    expect((await t.target.flush()).filter((r) => r.ok)).toHaveLength(2);
    t.clock.advance(86400);
    expect((await t.target.flush()).filter((r) => r.ok)).toHaveLength(1);
    expect(t.received().map((r) => r.messageId)).toEqual(built.map((o) => o.messageId));
    expect(t.store.ledger.pendingMail()).toMatchObject({ pending: 0, failed: 0 });
    t.close();
  });
});
