import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Progress } from "../../src/channels/mail.js";
import { MailState } from "../../src/state/mail.js";
import { fixture } from "../helpers/mail.js";
import { mail, PeerInbox } from "../peers/public-inbox.js";
import { fixtureMessages, header, idOf, LIST, mailEnv, type Env } from "./mail-setup.js";

const envs: Env[] = [];
afterEach(async () => {
  for (const e of envs.splice(0)) await e.close();
});
async function env(inbox: string, over: Parameters<typeof mailEnv>[1] = {}): Promise<Env> {
  const e = await mailEnv(inbox, over);
  envs.push(e);
  return e;
}

const SERIES = () => fixtureMessages("series/dma-coherent-v1.mbox");
const UDMABUF = () => fixtureMessages("model/udmabuf-skip-cpu-sync.patch").map((b) => Buffer.from(`Message-ID: <udmabuf-1@example.org>\nTo: ${LIST}\n${b.toString("latin1")}`, "latin1"));
// No reply to the cover letter: the model's findings in the patch replies say all its summary would.
const SUBJECTS_V1 = [
  "Re: [PATCH 1/3] dma-buf: add dma_coherent flag",
  "Re: [PATCH 2/3] drm/prime: set the dma_coherent flag for export",
  "Re: [PATCH 3/3] media: videobuf2: set dma_coherent flag for DMA-buf",
];
const subjects = (e: Env) => e.mails().map((m) => header(m, "Subject")).sort();
const now = () => new Date();

describe("mail channel: receive, review, reply once", () => {
  it("answers a complete series once; a second pass, and a restart, send nothing more", async () => {
    const inbox = new PeerInbox();
    for (const m of SERIES()) inbox.add(m);
    let e = await env(inbox.dir);
    const s = await e.engine.pass({ reply: "new" });
    expect(s).toMatchObject({ messages: 5, patches: 3, reviewed: 1, replies: 3, skipped: [] });
    expect(subjects(e)).toEqual(SUBJECTS_V1);
    const reply = e.mails().find((m) => header(m, "Subject") === SUBJECTS_V1[0])!;
    expect(header(reply, "In-Reply-To")).toBe("<20221020121316.3946-2-christian.koenig@amd.com>");
    expect(header(reply, "To")).toBe("=?UTF-8?Q?Christian_K=C3=B6nig?= <christian.koenig@amd.com>");
    // The list, then who replied to the patch (the store knows an address, not a name), then its To and Cc.
    expect(header(reply, "Cc")).toBe(`${LIST}, l.stach@pengutronix.de, linaro-mm-sig@lists.linaro.org, linux-media@vger.kernel.org, sumit.semwal@linaro.org`);
    expect(await e.engine.pass({ reply: "new" })).toMatchObject({ messages: 0, reviewed: 0, replies: 0 });
    e = await e.restart();
    envs.splice(0, envs.length, e);
    expect(await e.engine.pass({ reply: "new" })).toMatchObject({ messages: 0, reviewed: 0, replies: 0 });
    // A reply arriving later is kept under its thread, and earns no mail.
    inbox.add(mail({ id: "late-reply@example.org", subject: "Re: [PATCH 1/3] dma-buf: add dma_coherent flag", inReplyTo: "20221020121316.3946-2-christian.koenig@amd.com", references: ["20221020121316.3946-1-christian.koenig@amd.com", "20221020121316.3946-2-christian.koenig@amd.com"] }, "Looks fine to me.\n"));
    expect(await e.engine.pass({ reply: "new" })).toMatchObject({ messages: 1, reviewed: 0, replies: 0 });
    expect(new MailState(e.store.db).threadOf("late-reply@example.org")).toBe("20221020121316.3946-1-christian.koenig@amd.com");
    expect(e.mails()).toHaveLength(3);
    // Where each went is in the ledger; the cursor is at the epoch's head.
    expect(e.store.ledger.pending("mail")).toEqual([]);
    expect(e.store.cursors.get(inbox.dir, "0")).toBe(execFileSync("git", ["--git-dir", inbox.epochDir(0), "rev-parse", "HEAD"]).toString().trim());
  });

  it("reports the reviews' progress beside the reading's: threads reviewed of those found due", async () => {
    const inbox = new PeerInbox();
    for (const m of [...SERIES(), ...UDMABUF()]) inbox.add(m);
    const e = await env(inbox.dir, { mail: { batch: 2 } });
    const seen: Progress[] = [];
    await e.engine.pass({ reply: "new", onProgress: (p) => seen.push(p) });
    const reviews = seen.filter((p) => p.phase === "review");
    expect(reviews.map((p) => `${p.done}/${p.total}`)).toEqual(["0/1", "1/1", "1/2", "2/2"]);
    expect(seen.filter((p) => p.phase === "read").map((p) => p.done)).toEqual([2, 4, 6]);
  });

  it("waits for a series' missing patch, then reviews it when it arrives", async () => {
    const inbox = new PeerInbox();
    const [cover, p1, p2, p3, answer] = SERIES() as [Buffer, Buffer, Buffer, Buffer, Buffer];
    for (const m of [cover, p1, p3]) inbox.add(m, { time: now() });
    const e = await env(inbox.dir, { mail: { seriesWaitSeconds: 3600 } });
    expect(await e.engine.pass({ reply: "new" })).toMatchObject({ messages: 3, reviewed: 0, replies: 0 });
    expect(e.mails()).toEqual([]);
    inbox.add(p2, { time: now() });
    inbox.add(answer, { time: now() });
    expect(await e.engine.pass({ reply: "new" })).toMatchObject({ messages: 2, reviewed: 1, replies: 3 });
    expect(subjects(e)).toEqual(SUBJECTS_V1);
  });

  it("reviews an incomplete series once it has waited series-wait, and says what is missing", async () => {
    const inbox = new PeerInbox();
    const [cover, p1, , p3] = SERIES() as [Buffer, Buffer, Buffer, Buffer];
    const old = new Date(Date.now() - 2 * 3600 * 1000);
    for (const m of [cover, p1, p3]) inbox.add(m, { time: old });
    const e = await env(inbox.dir, { mail: { seriesWaitSeconds: 3600 } });
    expect(await e.engine.pass({ reply: "new" })).toMatchObject({ reviewed: 1 });
    // A missing patch is what no patch reply can say: the cover letter gets a reply for it.
    const COVER = "Re: [PATCH 0/3] Try to address the DMA-buf coherency problem";
    const summary = e.mails().find((m) => header(m, "Subject") === COVER)!;
    expect(summary).toContain("  2/3 did not reach the list archive; not reviewed");
    expect(subjects(e)).toEqual([COVER, SUBJECTS_V1[0], SUBJECTS_V1[2]]);
  });

  it("history (what the archive held at the first read) is recorded and reviewed, not answered; what comes after is", async () => {
    const inbox = new PeerInbox();
    for (const m of SERIES()) inbox.add(m, { time: new Date("2022-10-20T12:00:00Z") });
    const e = await env(inbox.dir, { mirror: { history: "record" } });
    expect(await e.engine.pass({ reply: "new" })).toMatchObject({ messages: 5, reviewed: 1, replies: 0, withheld: 3 });
    expect(e.mails()).toEqual([]);
    expect(e.store.db.prepare("SELECT COUNT(*) FROM findings").pluck().get()).toBeGreaterThan(0);
    inbox.add(UDMABUF()[0]!, { time: new Date(Date.now() + 5000) });
    expect(await e.engine.pass({ reply: "new" })).toMatchObject({ messages: 1, reviewed: 1, replies: 1 });
    expect(subjects(e)).toEqual(["Re: [PATCH] dma-buf/udmabuf: skip the CPU sync when mapping for importers"]);
  });

  it("policy none records and reviews but sends nothing; policy author writes to the author alone", async () => {
    const inbox = new PeerInbox();
    for (const m of SERIES()) inbox.add(m);
    const none = await env(inbox.dir, { mirror: { policy: "none" } });
    expect(await none.engine.pass({ reply: "new" })).toMatchObject({ reviewed: 1, replies: 0, withheld: 1 });
    expect(none.mails()).toEqual([]);
    const author = await env(inbox.dir, { mirror: { policy: "author" } });
    await author.engine.pass({ reply: "new" });
    expect(author.mails()).toHaveLength(3);
    for (const m of author.mails()) {
      expect(header(m, "To")).toMatch(/christian\.koenig@amd\.com/);
      expect(header(m, "Cc")).toBeUndefined();
    }
  });

  it("an author who answers 'dmabuf-review: opt-out' gets no more replies; neither does one in the configuration", async () => {
    const inbox = new PeerInbox();
    inbox.add(mail({ id: "optout@example.org", from: "Christian König <christian.koenig@amd.com>", subject: "Re: [PATCH] something", inReplyTo: "earlier@example.org" }, "Please stop.\n\ndmabuf-review: opt-out\n"));
    for (const m of SERIES()) inbox.add(m);
    inbox.add(UDMABUF()[0]!);
    const e = await env(inbox.dir, { mail: { optOut: ["dev@example.org"] } });
    const s = await e.engine.pass({ reply: "new" });
    expect(s).toMatchObject({ reviewed: 2, replies: 0 });
    expect(e.mails()).toEqual([]);
    expect(e.store.db.prepare("SELECT email, origin FROM opt_out ORDER BY email").all()).toEqual([
      { email: "christian.koenig@amd.com", origin: "optout@example.org" },
      { email: "dev@example.org", origin: "config" },
    ]);
  });

  it("numbered patches sent without threading are reviewed together", async () => {
    const inbox = new PeerInbox();
    const dir = fixture("messages/series-unthreaded");
    for (const f of ["0001-dma-buf-warn-about-one-sided-CPU-access-callbacks.patch", "0002-dma-buf-note-that-the-CPU-access-callbacks-come-in-p.patch"]) {
      const raw = readFileSync(join(dir, f)).toString("latin1");
      inbox.add(Buffer.from(`Message-ID: <${f}@example.org>\n${raw.replace(/^From [0-9a-f]{40} .*\n/, "")}`, "latin1"));
    }
    const e = await env(inbox.dir);
    await e.engine.pass({ reply: "new" });
    const threads = e.store.db.prepare("SELECT DISTINCT thread FROM messages WHERE kind = 'patch'").pluck().all() as string[];
    expect(threads).toHaveLength(1);
    expect(threads[0]).toMatch(/^loose:/);
    expect(e.store.db.prepare("SELECT total FROM series").pluck().all()).toEqual([2]);
  });

  it("follows a remote: fetched every pass, a new epoch picked up and read", async () => {
    const remote = new PeerInbox();
    const [cover, p1, p2, p3] = SERIES() as [Buffer, Buffer, Buffer, Buffer];
    for (const m of [cover, p1]) remote.add(m, { time: now() });
    const local = join(mkdtempSync(join(tmpdir(), "dmabuf-review-mirror-")), "inbox");
    const e = await env(local, { mirror: { remote: remote.dir } });
    expect(await e.engine.pass({ reply: "new" })).toMatchObject({ messages: 2, replies: 0 });
    remote.add(p2, { time: now() });
    remote.add(p3, { epoch: 1, time: now() });
    expect(await e.engine.pass({ reply: "new" })).toMatchObject({ messages: 2, reviewed: 1, replies: 3 });
    expect(e.store.cursors.all(local).map((c) => c.epoch)).toEqual(["0", "1"]);
  });

  it("skips bad input with its reason recorded, and goes on: junk, broken MIME, a 20 MB message, a cut diff, a broken epoch", async () => {
    const inbox = new PeerInbox();
    inbox.add(Buffer.from([0, 1, 2, 0xff, 0xfe, 0x00, 0x41]));
    inbox.add(mail({ id: "mime@example.org", subject: "[PATCH] drm: broken mime" }, "body\n", ['Content-Type: multipart/mixed; boundary="never-there"']));
    inbox.add(mail({ id: "huge@example.org", subject: "full dmesg" }, `${"x".repeat(20 * 1024 * 1024)}\n`));
    inbox.add(readFileSync(fixture("broken/truncated-base64.eml")));
    inbox.add(mail({ id: "chat@example.org", subject: "Question about fences" }, "How do fences work?\n"));
    // Epoch 1 is broken: its branch points at a commit that is not there.
    const broken = inbox.epochDir(1);
    mkdirSync(join(broken, "objects"), { recursive: true });
    mkdirSync(join(broken, "refs"), { recursive: true });
    writeFileSync(join(broken, "HEAD"), "ref: refs/heads/master\n");
    writeFileSync(join(broken, "packed-refs"), `${"ab".repeat(20)} refs/heads/master\n`);
    for (const m of SERIES()) inbox.add(m, { epoch: 2 });
    const e = await env(inbox.dir);
    const s = await e.engine.pass({ reply: "new" });
    expect(s.skipped.map((k) => k.reason).sort()).toEqual(["malformed-mime", "not-a-patch", "too-large", "truncated-diff"]);
    expect(s).toMatchObject({ reviewed: 1, replies: 3 });
    const rows = e.store.db.prepare("SELECT reason FROM messages WHERE status = 'skipped' ORDER BY reason").pluck().all() as string[];
    expect(rows.map((r) => r.split(":")[0])).toEqual(["malformed-mime", "not-a-patch", "too-large", "truncated-diff"]);
    expect(rows.join("\n")).toMatch(/too-large: \d+ bytes/);
    expect(e.store.db.prepare("SELECT epoch, reason FROM archive_errors").all()).toEqual([{ epoch: "1", reason: "unreadable" }]);
    expect(e.store.db.prepare("SELECT status FROM messages WHERE message_id = 'chat@example.org'").pluck().get()).toBe("seen");
    // The next pass goes on past all of it, and reports the broken epoch only once.
    expect(await e.engine.pass({ reply: "new" })).toMatchObject({ messages: 0, skipped: [], replies: 0 });
    expect(e.store.db.prepare("SELECT COUNT(*) FROM archive_errors").pluck().get()).toBe(1);
  });

  it("follows a plain mbox file: what is appended is read on the next pass, a rotated file from its start", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-mboxmirror-"));
    const path = join(dir, "dri-devel.mbox");
    const asMbox = (msgs: Buffer[]) => msgs.map((m) => `From mboxrd@z Thu Jan  1 00:00:00 1970\n${m.toString("latin1").replace(/^(>*From )/gm, ">$1")}\n`).join("");
    writeFileSync(path, asMbox(SERIES()), "latin1");
    const e = await env(path);
    expect(await e.engine.pass({ reply: "new" })).toMatchObject({ messages: 5, reviewed: 1, replies: 3 });
    expect(await e.engine.pass({ reply: "new" })).toMatchObject({ messages: 0, replies: 0 });
    writeFileSync(path, asMbox([...SERIES(), ...UDMABUF()]), "latin1");
    expect(await e.engine.pass({ reply: "new" })).toMatchObject({ messages: 1, reviewed: 1, replies: 1 });
    // Rotated: the file now starts over; what is known is recognised, nothing is sent again.
    writeFileSync(path, asMbox(UDMABUF()), "latin1");
    expect(await e.engine.pass({ reply: "new" })).toMatchObject({ messages: 1, duplicates: 1, replies: 0 });
    expect(e.mails()).toHaveLength(4);
    expect(e.store.db.prepare("SELECT COUNT(*) FROM messages WHERE raw IS NOT NULL").pluck().get()).toBe(6);
  });

  it("a message archived twice (cross-posted, resent) is one message", async () => {
    const inbox = new PeerInbox();
    const series = SERIES();
    for (const m of series) inbox.add(m);
    inbox.add(series[1]!);
    const e = await env(inbox.dir);
    expect(await e.engine.pass({ reply: "new" })).toMatchObject({ messages: 6, duplicates: 1, replies: 3 });
    expect(e.store.db.prepare("SELECT COUNT(*) FROM messages WHERE message_id = ?").pluck().get(idOf(series[1]!))).toBe(1);
  });
});
