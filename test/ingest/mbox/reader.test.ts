import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../../../src/errors.js";
import { byNaturalName, gunzipLimited, isMbox, readMessages, splitMbox } from "../../../src/ingest/mbox/reader.js";
import { fixture } from "../../helpers/mail.js";

const SEP = "From mboxrd@z Thu Jan  1 00:00:00 1970";

function mail(id: string, body: string): string {
  return `From: Jane Dev <jane.dev@example.org>\nSubject: [PATCH] ${id}\nMessage-ID: <${id}@example.org>\n\n${body}`;
}

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof InputError) return err.reason;
    throw err;
  }
  return "no error";
}

describe("isMbox", () => {
  it("tells an mbox from a lone message by its first line", () => {
    expect(isMbox(Buffer.from(`${SEP}\n${mail("a", "x\n")}`))).toBe(true);
    expect(isMbox(Buffer.from("From 6e3af7fc7af2b39c4e5f2369271e33799b102155 Mon Sep 17 00:00:00 2001\nFrom: x\n"))).toBe(true);
    expect(isMbox(Buffer.from(mail("a", "x\n")))).toBe(false);
  });
});

describe("splitMbox", () => {
  it("splits at From lines after a blank line and names each message by its position", () => {
    const box = `${SEP}\n${mail("a", "one\n")}\n${SEP}\n${mail("b", "two\n")}\n${SEP}\n${mail("c", "three\n")}\n`;
    const raws = splitMbox(Buffer.from(box), "box.mbox");
    expect(raws.map((r) => r.source)).toEqual(["box.mbox#1", "box.mbox#2", "box.mbox#3"]);
    expect(raws[0]!.bytes.toString()).toBe(`${mail("a", "one\n")}\n`);
    expect(raws[2]!.bytes.toString()).toBe(`${mail("c", "three\n")}\n`);
  });

  it("undoes mboxrd quoting: one '>' less on every >+From line", () => {
    const body = ">From the datasheet, the cache is write-back.\n>>From a quoted mail: also write-back.\n> From is not quoted by mboxrd.\n";
    const raws = splitMbox(Buffer.from(`${SEP}\n${mail("a", body)}\n${SEP}\n${mail("b", "x\n")}`), "box");
    expect(raws).toHaveLength(2);
    expect(raws[0]!.bytes.toString()).toContain(
      "\nFrom the datasheet, the cache is write-back.\n>From a quoted mail: also write-back.\n> From is not quoted by mboxrd.\n",
    );
  });

  it("does not split at an unescaped 'From ' paragraph of an mboxo body", () => {
    const body = "The heaps are fine.\n\nFrom the datasheet, the cache is write-back.\n";
    const raws = splitMbox(Buffer.from(`${SEP}\n${mail("a", body)}\n${SEP}\n${mail("b", "x\n")}`), "box");
    expect(raws.map((r) => r.bytes.toString().includes("From the datasheet"))).toEqual([true, false]);
  });

  it("splits an mbox written with CRLF line ends", () => {
    const box = `${SEP}\n${mail("a", "one\n")}\n${SEP}\n${mail("b", "two\n")}`.replace(/\n/g, "\r\n");
    const raws = splitMbox(Buffer.from(box), "box");
    expect(raws).toHaveLength(2);
    expect(raws[1]!.bytes.toString()).toMatch(/^From: Jane Dev/);
  });

  it("leaves every byte of a message as it was, whatever its charset", () => {
    const latin1 = Buffer.concat([Buffer.from(`${SEP}\nSubject: x\n\nJos`), Buffer.from([0xe9]), Buffer.from(" \xff\n", "latin1")]);
    const [raw] = splitMbox(latin1, "box");
    expect([...raw!.bytes.subarray(-4)]).toEqual([0xe9, 0x20, 0xff, 0x0a]);
  });
});

describe("readMessages", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "dmabuf-review-reader-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a lone message as one raw message named by its path", async () => {
    const path = fixture("messages/changelog-diffstat.eml");
    const raws = await readMessages(path);
    expect(raws).toHaveLength(1);
    expect(raws[0]!.source).toBe(path);
    expect(raws[0]!.bytes.toString("latin1")).toMatch(/^Message-ID: </);
  });

  it("reads a git format-patch file as one message, without its From line or a #1", async () => {
    const path = fixture("messages/rename-create-delete.patch");
    const raws = await readMessages(path);
    expect(raws.map((r) => r.source)).toEqual([path]);
    expect(raws[0]!.bytes.toString()).toMatch(/^From: Jane Dev/);
  });

  it("reads every message of an mbox", async () => {
    const raws = await readMessages(fixture("messages/series-shallow.mbox"));
    expect(raws).toHaveLength(6);
    expect(raws.at(-1)!.source).toMatch(/series-shallow\.mbox#6$/);
  });

  it("reads a directory's files in name order, skipping dot files and empty files", async () => {
    const d = join(dir, "series");
    await mkdir(d);
    await writeFile(join(d, "0002-two.patch"), mail("two", "x\n"));
    await writeFile(join(d, "0001-one.patch"), mail("one", "x\n"));
    await writeFile(join(d, ".0000-notes.swp"), "swap file");
    await writeFile(join(d, "0003-empty.patch"), "  \n");
    await mkdir(join(d, "sub"));
    const raws = await readMessages(d);
    expect(raws.map((r) => r.source)).toEqual([join(d, "0001-one.patch"), join(d, "0002-two.patch")]);
  });

  it("says empty-input for an empty file, a blank file and a directory with nothing in it", async () => {
    expect(await reason(readMessages(fixture("broken/empty.eml")))).toBe("empty-input");
    await writeFile(join(dir, "blank.eml"), "\n \n\t\n");
    expect(await reason(readMessages(join(dir, "blank.eml")))).toBe("empty-input");
    await mkdir(join(dir, "nothing"));
    expect(await reason(readMessages(join(dir, "nothing")))).toBe("empty-input");
  });

  it("says unreadable for a path that does not exist, naming the path", async () => {
    const path = join(dir, "no-such.mbox");
    try {
      await readMessages(path);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).reason).toBe("unreadable");
      expect((err as InputError).source).toBe(path);
      expect((err as InputError).detail).toBe("no such file");
    }
  });

  it("reads stdin for '-': a message, or an mbox split into stdin#n", async () => {
    const one = await readMessages("-", Readable.from([Buffer.from(mail("a", "x\n"))]));
    expect(one.map((r) => r.source)).toEqual(["stdin"]);
    const box = `${SEP}\n${mail("a", "x\n")}\n${SEP}\n${mail("b", "y\n")}`;
    // Arrives in pieces, as a pipe delivers it.
    const chunks = [box.slice(0, 17), box.slice(17, 90), box.slice(90)].map((s) => Buffer.from(s));
    const two = await readMessages("-", Readable.from(chunks));
    expect(two.map((r) => r.source)).toEqual(["stdin#1", "stdin#2"]);
  });

  it("says empty-input for empty stdin", async () => {
    expect(await reason(readMessages("-", Readable.from([])))).toBe("empty-input");
    expect(await reason(readMessages("-", Readable.from([Buffer.from("\n\n")])))).toBe("empty-input");
  });

  it("reads a gzipped mbox (lore's t.mbox.gz) from a file, from stdin, and inside a directory", async () => {
    const box = `${SEP}\n${mail("a", "x\n")}\n${SEP}\n${mail("b", "y\n")}`;
    const gz = gzipSync(Buffer.from(box));
    const path = join(dir, "t.mbox.gz");
    await writeFile(path, gz);
    const raws = await readMessages(path);
    expect(raws.map((r) => r.source)).toEqual([`${path}#1`, `${path}#2`]);
    expect(raws[1]!.bytes.toString()).toBe(mail("b", "y\n"));
    expect((await readMessages("-", Readable.from([gz]))).map((r) => r.source)).toEqual(["stdin#1", "stdin#2"]);
    const d = join(dir, "with-gz");
    await mkdir(d);
    await writeFile(join(d, "0001-one.patch"), mail("one", "x\n"));
    await writeFile(join(d, "thread.mbox.gz"), gz);
    expect((await readMessages(d)).map((r) => r.source.slice(d.length + 1))).toEqual(["0001-one.patch", "thread.mbox.gz#1", "thread.mbox.gz#2"]);
  });

  it("refuses a gzip file that inflates past the limit as too-large, and a broken one as unreadable", async () => {
    const bomb = gzipSync(Buffer.alloc(1024 * 1024, 0x41));
    expect(bomb.length).toBeLessThan(8 * 1024);
    try {
      gunzipLimited(bomb, "bomb.mbox.gz", 64 * 1024);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ reason: "too-large", source: "bomb.mbox.gz", detail: "more than 65536 bytes once uncompressed" });
    }
    const cut = join(dir, "cut.mbox.gz");
    const whole = gzipSync(Buffer.from(`${SEP}\n${mail("a", "x\n".repeat(500))}`));
    await writeFile(cut, whole.subarray(0, whole.length / 2));
    expect(await reason(readMessages(cut))).toBe("unreadable");
    await writeFile(join(dir, "blank.mbox.gz"), gzipSync(Buffer.from("\n\n")));
    expect(await reason(readMessages(join(dir, "blank.mbox.gz")))).toBe("empty-input");
  });

  it("orders a directory as a person numbers it: 2 before 10, each revision's files together", async () => {
    const names = ["v2-0010-ten.patch", "patch-10.eml", "v2-0002-two.patch", "0001-one.patch", "patch-2.eml", "v2-0000-cover-letter.patch", "0000-cover-letter.patch", "v10-0001-x.patch"];
    expect([...names].sort(byNaturalName)).toEqual([
      "0000-cover-letter.patch",
      "0001-one.patch",
      "patch-2.eml",
      "patch-10.eml",
      "v2-0000-cover-letter.patch",
      "v2-0002-two.patch",
      "v2-0010-ten.patch",
      "v10-0001-x.patch",
    ]);
    const d = join(dir, "numbered");
    await mkdir(d);
    for (const n of ["msg-10.eml", "msg-9.eml", "msg-1.eml"]) await writeFile(join(d, n), mail(n, "x\n"));
    expect((await readMessages(d)).map((r) => r.source.slice(d.length + 1))).toEqual(["msg-1.eml", "msg-9.eml", "msg-10.eml"]);
  });
});
