import { execFileSync } from "node:child_process";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import { MBOX_EPOCH, mboxPages, MirrorArchive, originOf } from "../../../src/ingest/public-inbox/archive.js";
import { listEpochs } from "../../../src/ingest/public-inbox/reader.js";
import { mail, PeerInbox } from "../../peers/public-inbox.js";

const archives: MirrorArchive[] = [];
afterEach(async () => {
  for (const a of archives.splice(0)) await a.close();
});

/** A full collection, as the test runner gives no gc(): what only a WeakRef holds is gone after it. */
async function collectGarbage(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  v8.setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

const blobOf = (inbox: PeerInbox, commit: string) => execFileSync("git", ["--git-dir", inbox.epochDir(0), "rev-parse", `${commit}:m`]).toString().trim();

describe("MirrorArchive: messages read again by where they were archived", () => {
  it("names a message by epoch and blob, an unreadable commit by the commit, an mbox message by its number", () => {
    const commit = { commit: "c0ffee", time: 1 };
    expect(originOf({ name: "3", index: 3, dir: "/x/git/3.git" }, commit, "b10b")).toBe("git:3:b10b");
    expect(originOf({ name: "3", index: 3, dir: "/x/git/3.git" }, commit, undefined)).toBe("git:3:c0ffee");
    expect(originOf({ name: MBOX_EPOCH, index: 0, dir: "/x/list.mbox" }, { commit: "12", time: 1 }, "12")).toBe("mbox:12");
  });

  it("reads git blobs and kept mbox bytes alike; a broken one is unread with its reason, a missing one left out", async () => {
    const inbox = new PeerInbox();
    const good = blobOf(inbox, inbox.add(mail({ id: "good@example.org", subject: "Re: [PATCH] x" }, "Fine.\n")));
    const broken = blobOf(inbox, inbox.add(mail({ id: "broken@example.org", subject: "x" }, "body\n", ["Content-Type: multipart/mixed; boundary=zz"])));
    const kept = new Map([["m1@example.org", Buffer.from(mail({ id: "m1@example.org", subject: "Re: [PATCH] y" }, "Kept.\n"))]]);
    const asked: string[] = [];
    const archive = new MirrorArchive(inbox.dir, (id) => (asked.push(id), kept.get(id)));
    archives.push(archive);
    const refs = [
      { message_id: "good@example.org", origin: `git:0:${good}` },
      { message_id: "broken@example.org", origin: `git:0:${broken}` },
      { message_id: "gone@example.org", origin: `git:0:${"0".repeat(40)}` },
      { message_id: "m1@example.org", origin: "mbox:1" },
      { message_id: "m2@example.org", origin: "mbox:2" },
    ];
    const r = await archive.read(refs);
    expect(r.messages.map((m) => [m.messageId, m.kind])).toEqual([["good@example.org", "reply"], ["m1@example.org", "reply"]]);
    expect(r.refOf.get("m1@example.org")).toBe(refs[3]);
    expect(r.unread).toEqual([{ id: "broken@example.org", reason: "malformed-mime", detail: 'the multipart boundary "zz" never appears in the body' }]);
    expect(asked).toEqual(["m1@example.org", "m2@example.org"]);
    // Read again (a tracker after the review): built once, not asked of the store again.
    const again = await archive.read(refs.slice(3, 4));
    expect(again.messages.map((m) => m.messageId)).toEqual(["m1@example.org"]);
    expect(asked).toHaveLength(2);
  });

  it("builds a message once for reads that ask for it at the same time, and answers in the order asked", async () => {
    const inbox = new PeerInbox();
    const ids = [1, 2, 3].map((i) => `r${i}@example.org`);
    const refs = ids.map((id, i) => ({ message_id: id, origin: `git:0:${blobOf(inbox, inbox.add(mail({ id, subject: `Re: [PATCH] ${i}` }, "Fine.\n")))}` }));
    const archive = new MirrorArchive(inbox.dir, () => undefined);
    archives.push(archive);
    // The second asks while the first is reading from git: the same objects, not a second decode.
    const [a, b] = await Promise.all([archive.read(refs.slice(0, 2)), archive.read([refs[1]!, refs[0]!])]);
    expect(b.messages.map((m) => m.messageId)).toEqual([ids[1], ids[0]]);
    expect(b.messages[0]).toBe(a.messages[1]);
    expect(b.messages[1]).toBe(a.messages[0]);
    // A built message first in the answer only where it was asked for first.
    const c = await archive.read([refs[2]!, refs[1]!]);
    expect(c.messages.map((m) => m.messageId)).toEqual([ids[2], ids[1]]);
    expect(c.messages[1]).toBe(a.messages[1]);
  });

  it("keeps the messages built last by their size: a few large ones push the oldest out, not the newest", async () => {
    const big = (i: number) => Buffer.from(mail({ id: `big${i}@example.org`, subject: `Re: [PATCH] ${i}` }, `${"word ".repeat(300_000)}\n`));
    const kept = new Map([1, 2, 3, 4].map((i) => [`big${i}@example.org`, big(i)]));
    const asked: string[] = [];
    const archive = new MirrorArchive("/nonexistent", (id) => (asked.push(id), kept.get(id)));
    archives.push(archive);
    const ref = (i: number) => ({ message_id: `big${i}@example.org`, origin: `mbox:${i}` });
    await archive.read([1, 2, 3, 4].map(ref));
    asked.length = 0;
    // Four of 1.5 MB do not fit: the first, once collected, is read again; the last is still built.
    await collectGarbage();
    expect((await archive.read([ref(1), ref(4)])).messages.map((m) => m.messageId).sort()).toEqual(["big1@example.org", "big4@example.org"]);
    expect(asked).toEqual(["big1@example.org"]);
  });

  it("finds a message past the bound that is still in memory; one read again is kept as the newest", async () => {
    const big = (i: number) => Buffer.from(mail({ id: `big${i}@example.org`, subject: `Re: [PATCH] ${i}` }, `${"word ".repeat(300_000)}\n`));
    const kept = new Map([1, 2, 3, 4].map((i) => [`big${i}@example.org`, big(i)]));
    const asked: string[] = [];
    const archive = new MirrorArchive("/nonexistent", (id) => (asked.push(id), kept.get(id)));
    archives.push(archive);
    const ref = (i: number) => ({ message_id: `big${i}@example.org`, origin: `mbox:${i}` });
    // Two of 1.5 MB fit. big1 read again before big3 comes: big2 goes, not big1.
    await archive.read([ref(1)]);
    await archive.read([ref(2)]);
    await archive.read([ref(1)]);
    await archive.read([ref(3)]);
    await collectGarbage();
    asked.length = 0;
    await archive.read([ref(1), ref(2)]);
    expect(asked).toEqual(["big2@example.org"]);
    // big4 pushes big1 past the bound, but a tracker still holds it: the same message, not read again.
    const held = (await archive.read([ref(1)])).messages;
    await archive.read([ref(4)]);
    await archive.read([ref(3)]);
    await collectGarbage();
    asked.length = 0;
    expect((await archive.read([ref(1)])).messages[0]).toBe(held[0]);
    expect(asked).toEqual([]);
  });

  it("pages an epoch within the budget, triaged, with the archive clock and the cursor's place; stopping ends it", async () => {
    const inbox = new PeerInbox();
    const commits = [1, 2, 3, 4, 5].map((i) => inbox.add(mail({ id: `m${i}@example.org`, subject: `Re: [PATCH] ${i}` }, "Fine.\n"), { time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) }));
    const archive = new MirrorArchive(inbox.dir, () => undefined);
    archives.push(archive);
    const epoch = listEpochs(inbox.dir)[0]!;
    const t0 = Date.UTC(2026, 0, 1) / 1000;
    const pages = [];
    for await (const p of archive.pages(epoch, await archive.reader(epoch).list(undefined), 2, 4, t0 + 100, () => false)) pages.push(p);
    expect(pages.map((p) => p.entries.map((e) => (e.triage?.ok ? e.triage.value.messageId : "?")))).toEqual([["m1@example.org", "m2@example.org"], ["m3@example.org", "m4@example.org"]]);
    // The clock never goes back: the one carried in from before holds until the archive passes it.
    expect(pages.map((p) => p.clock)).toEqual([t0 + 100, t0 + 100]);
    expect(pages.map((p) => p.to)).toEqual([{ epoch: "0", commit: commits[1] }, { epoch: "0", commit: commits[3] }]);
    let asked = 0;
    const stopped = [];
    for await (const p of archive.pages(epoch, await archive.reader(epoch).list(undefined), 2, 5, 0, () => asked++ > 0)) stopped.push(p);
    expect(stopped).toHaveLength(1);
    expect(stopped[0]!.clock).toBe(t0 + 2);
  });

  it("pages an mbox by count, dated by each message's own Date, or the one before's", () => {
    const raw = (i: number, date?: string) => ({ bytes: Buffer.from(mail({ id: `b${i}@example.org`, subject: "Re: x", ...(date ? { date } : {}) }, "x\n").replace(/^Date: .*\n/m, date ? `Date: ${date}\n` : "")), source: `f#${i}` });
    const raws = [raw(1, "Thu, 01 Jan 2026 00:00:10 +0000"), raw(2), raw(3, "Thu, 01 Jan 2026 00:00:05 +0000")];
    const pages = [...mboxPages("/x/list.mbox", raws, 1, 3, 1)];
    expect(pages.map((p) => p.to)).toEqual([{ epoch: MBOX_EPOCH, commit: "2" }, { epoch: MBOX_EPOCH, commit: "3" }]);
    expect(pages.map((p) => p.entries.map((e) => e.entry.commit))).toEqual([[{ commit: "2", time: 0 }], [{ commit: "3", time: Date.UTC(2026, 0, 1, 0, 0, 5) / 1000 }]]);
    expect(pages[1]!.entries[0]!.raw).toBe(raws[2]!.bytes);
  });
});
