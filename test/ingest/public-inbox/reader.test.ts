import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { InputError } from "../../../src/errors.js";
import { EpochReader, listEpochs, type ArchiveEntry } from "../../../src/ingest/public-inbox/reader.js";
import { appendToInbox } from "../../../src/ingest/public-inbox/writer.js";
import { mail, PeerInbox } from "../../peers/public-inbox.js";

const readers: EpochReader[] = [];
afterEach(async () => {
  for (const r of readers.splice(0)) await r.close();
});

function reader(dir: string, index = 0, max?: number): EpochReader {
  const r = new EpochReader({ name: String(index), index, dir }, max);
  readers.push(r);
  return r;
}

async function all(r: EpochReader, after?: string): Promise<ArchiveEntry[]> {
  const list = await r.list(after);
  const out: ArchiveEntry[] = [];
  for (let page = list.next(2); page.length > 0; page = list.next(2)) for await (const e of r.read(page)) out.push(e);
  return out;
}

/** Messages a and b with "buy now" archived and then removed between them. */
function inboxWithRemoval(): PeerInbox {
  const inbox = new PeerInbox();
  const spam = mail({ id: "spam@x", subject: "buy now" }, "spam\n");
  inbox.add(mail({ id: "a@x", subject: "a" }, "a\n"));
  inbox.add(spam);
  inbox.remove(spam);
  inbox.add(mail({ id: "b@x", subject: "b" }, "b\n"));
  return inbox;
}

const subjectOf = (e: ArchiveEntry) => (e.kind === "message" ? /^Subject: (.*)$/m.exec(e.bytes.toString())![1] : e.kind);

describe("public-inbox reader", () => {
  it("lists the epochs of a v2 inbox in numeric order, and a single epoch repository", () => {
    const inbox = new PeerInbox();
    for (const n of [0, 1, 2, 10]) inbox.add(mail({ id: `e${n}@x`, subject: `e${n}` }, "x\n"), { epoch: n });
    expect(listEpochs(inbox.dir).map((e) => e.name)).toEqual(["0", "1", "2", "10"]);
    expect(listEpochs(inbox.epochDir(2))).toEqual([{ name: "2", index: 2, dir: inbox.epochDir(2) }]);
  });

  it("refuses a directory that is no inbox with a reason", () => {
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-notinbox-"));
    expect(() => listEpochs(dir)).toThrow(InputError);
    expect(() => listEpochs(dir)).toThrow(/not a public-inbox v2 inbox/);
    expect(() => listEpochs(join(dir, "missing"))).toThrow(/no such directory/);
  });

  it("reads every message in archive order, then only what came after the cursor", async () => {
    const inbox = new PeerInbox();
    for (let i = 1; i <= 5; i++) inbox.add(mail({ id: `m${i}@x`, subject: `message ${i}` }, `body ${i}\n`));
    const r = reader(inbox.epochDir(0));
    const first = await all(r);
    expect(first.map(subjectOf)).toEqual(["message 1", "message 2", "message 3", "message 4", "message 5"]);
    const cursor = first[first.length - 1]!.commit.commit;
    expect(await all(r, cursor)).toEqual([]);
    inbox.add(mail({ id: "m6@x", subject: "message 6" }, "body 6\n"));
    inbox.add(mail({ id: "m7@x", subject: "message 7" }, "body 7\n"));
    const next = await all(r, cursor);
    expect(next.map(subjectOf)).toEqual(["message 6", "message 7"]);
    // The bytes are the blob's, untouched.
    expect(next[0]!.kind === "message" && next[0]!.bytes.toString()).toBe(mail({ id: "m6@x", subject: "message 6" }, "body 6\n"));
  });

  it("reports a removal commit as deleted and never reads its d blob as a message", async () => {
    const inbox = inboxWithRemoval();
    expect((await all(reader(inbox.epochDir(0)))).map(subjectOf)).toEqual(["a", "buy now", "deleted", "b"]);
  });

  it("reads a message archived twice byte for byte (a commit with the same tree as its parent)", async () => {
    const inbox = new PeerInbox();
    const twice = mail({ id: "twice@x", subject: "twice" }, "same\n");
    inbox.add(twice);
    inbox.add(twice); // the same tree as its parent's
    inbox.add(mail({ id: "c@x", subject: "c" }, "c\n"));
    const got = await all(reader(inbox.epochDir(0)));
    expect(got.map(subjectOf)).toEqual(["twice", "twice", "c"]);
    expect(got[0]!.kind === "message" && got[1]!.kind === "message" && got[0]!.oid === got[1]!.oid).toBe(true);
  });

  it("reads each message by its tree, and by its commit where an older git lists no trees", async () => {
    const inbox = inboxWithRemoval();
    const r = reader(inbox.epochDir(0));
    const listed = (await r.list(undefined)).next(10);
    expect(listed).toHaveLength(4);
    for (const c of listed) expect(c.tree).toMatch(/^[0-9a-f]{40}$/);
    const byTree: ArchiveEntry[] = [];
    for await (const e of r.read(listed)) byTree.push(e);
    // Without trees (git before 2.33 prints only the time): the same answers, `<commit>:m`.
    const byCommit: ArchiveEntry[] = [];
    for await (const e of r.read(listed.map(({ commit, time }) => ({ commit, time })))) byCommit.push(e);
    expect(byTree.map(subjectOf)).toEqual(["a", "buy now", "deleted", "b"]);
    expect(byCommit.map((e) => [subjectOf(e), e.kind === "message" ? e.oid : e.kind])).toEqual(byTree.map((e) => [subjectOf(e), e.kind === "message" ? e.oid : e.kind]));
  });

  it("reads past a message over the limit without holding it, and goes on", async () => {
    const inbox = new PeerInbox();
    inbox.add(mail({ id: "small@x", subject: "small" }, "x\n"));
    inbox.add(mail({ id: "big@x", subject: "big" }, `${"y".repeat(20 * 1024 * 1024)}\n`));
    inbox.add(mail({ id: "after@x", subject: "after" }, "z\n"));
    const got = await all(reader(inbox.epochDir(0), 0, 1024 * 1024));
    expect(got.map(subjectOf)).toEqual(["small", "too-large", "after"]);
    expect(got[1]).toMatchObject({ kind: "too-large" });
    expect(got[1]!.kind === "too-large" && got[1]!.size).toBeGreaterThan(20 * 1024 * 1024);
  });

  it("keeps answers in order when pages are asked for before the previous one is read", async () => {
    const inbox = join(mkdtempSync(join(tmpdir(), "dmabuf-review-pipelined-")), "inbox");
    await appendToInbox(inbox, Array.from({ length: 300 }, (_, i) => ({ bytes: Buffer.from(mail({ id: `p${i}@x`, subject: `p${i}` }, `${"line\n".repeat(i % 50)}`)) })));
    const r = reader(join(inbox, "git", "0.git"));
    const list = await r.list(undefined);
    expect(list.count).toBe(300);
    const pages = [list.next(100), list.next(100), list.next(100)];
    const pending = pages.map((p) => r.read(p)); // all three asked for at once
    const subjects: string[] = [];
    for (const p of pending) for await (const e of p) subjects.push(subjectOf(e)!);
    expect(subjects).toEqual(Array.from({ length: 300 }, (_, i) => `p${i}`));
    // Lookups by object id go through their own process, in between.
    const oid = (await (async () => {
      for await (const e of r.read((await r.list(undefined)).next(1))) return e.kind === "message" ? e.oid : "";
      return "";
    })());
    for await (const b of r.blobs([oid])) expect(b.kind === "blob" && b.bytes.toString()).toContain("Subject: p0");
  });

  it("gives up a page early without confusing the next one", async () => {
    const inbox = new PeerInbox();
    for (let i = 0; i < 6; i++) inbox.add(mail({ id: `q${i}@x`, subject: `q${i}` }, "q\n"));
    const r = reader(inbox.epochDir(0));
    const list = await r.list(undefined);
    const first = list.next(3);
    for await (const e of r.read(first)) {
      expect(subjectOf(e)).toBe("q0");
      break;
    }
    const rest: string[] = [];
    for await (const e of r.read(list.next(3))) rest.push(subjectOf(e)!);
    expect(rest).toEqual(["q3", "q4", "q5"]);
  });

  it("a page asked for and then not wanted does not hold up the reads after it", async () => {
    const inbox = join(mkdtempSync(join(tmpdir(), "dmabuf-review-discard-")), "inbox");
    // 24 MB in the first page: more than the reader holds for a consumer before pausing git.
    await appendToInbox(inbox, [
      ...Array.from({ length: 24 }, (_, i) => ({ bytes: Buffer.from(mail({ id: `big${i}@x`, subject: `big ${i}` }, `${"z".repeat(1024 * 1024)}\n`)) })),
      { bytes: Buffer.from(mail({ id: "last@x", subject: "last" }, "l\n")) },
    ]);
    const r = reader(join(inbox, "git", "0.git"));
    const list = await r.list(undefined);
    const unwanted = r.read(list.next(24));
    unwanted.discard();
    const got: string[] = [];
    for await (const e of r.read(list.next(1))) got.push(subjectOf(e)!);
    expect(got).toEqual(["last"]);
  });

  it("an empty epoch has nothing to list; a broken one fails with git's reason", async () => {
    const inbox = new PeerInbox();
    inbox.add(mail({ id: "x@x", subject: "x" }, "x\n"));
    const empty = join(inbox.dir, "git", "1.git");
    mkdirSync(empty, { recursive: true });
    (await import("node:child_process")).execFileSync("git", ["init", "--quiet", "--bare", empty]);
    expect((await reader(empty, 1).list(undefined)).count).toBe(0);
    // A branch whose commit is gone (a truncated copy, a lost pack).
    const broken = join(inbox.dir, "git", "2.git");
    mkdirSync(join(broken, "objects"), { recursive: true });
    mkdirSync(join(broken, "refs"), { recursive: true });
    writeFileSync(join(broken, "HEAD"), "ref: refs/heads/master\n");
    writeFileSync(join(broken, "packed-refs"), `${"0".repeat(39)}1 refs/heads/master\n`);
    await expect(reader(broken, 2).list(undefined)).rejects.toThrow(/bad object|bad revision|unknown revision/);
    expect(listEpochs(inbox.dir).map((e) => e.name)).toEqual(["0", "1", "2"]);
  });

  it("a cursor that is not in the epoch is recognised", async () => {
    const inbox = new PeerInbox();
    const c = inbox.add(mail({ id: "c@x", subject: "c" }, "c\n"));
    const r = reader(inbox.epochDir(0));
    expect(await r.has(c)).toBe(true);
    expect(await r.has("1".repeat(40))).toBe(false);
  });
});
