import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { classifyFile } from "../../../src/analysis/touch.js";
import { InputError } from "../../../src/errors.js";
import { parseMime } from "../../../src/ingest/mime.js";
import { decodeQuotedPrintable, decodeWords } from "../../../src/ingest/mime-text.js";
import { isRelevantDiff, triage, type Triaged } from "../../../src/ingest/public-inbox/triage.js";
import { CParser } from "../../../src/patch/c-source.js";
import { buildMessage } from "../../../src/patch/message.js";
import { fixture, fixtureCorpus } from "../../helpers/mail.js";

const corpus = fixtureCorpus;

describe("triage: decoded, without mailparser", () => {
  const all = corpus();

  it("covers a real corpus", () => {
    expect(all.length).toBeGreaterThan(100);
  });

  it("reads Message-ID, threading headers, subject, sender and kind exactly as the review will", async () => {
    const differ: string[] = [];
    let compared = 0;
    for (const m of all) {
      const t = triage(m.bytes);
      let built;
      try {
        built = buildMessage(await parseMime({ bytes: m.bytes, source: m.source }));
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        // What mailparser refuses before building, triage refuses for the same reason.
        if (["too-large", "malformed-mime"].includes(err.reason) || (err.reason === "not-a-patch" && !/diff|patch/i.test(err.detail))) {
          if (t.ok) differ.push(`${m.source}: mailparser says ${err.reason}, triage ok`);
        }
        continue;
      }
      if (!t.ok) {
        differ.push(`${m.source}: triage says ${t.reason}: ${t.detail}`);
        continue;
      }
      compared++;
      const v: Triaged = t.value;
      const want = { messageId: built.messageId, inReplyTo: built.inReplyTo, references: built.references, subject: built.subject, from: built.from.email.toLowerCase(), kind: built.kind };
      const got = { messageId: v.messageId, inReplyTo: v.inReplyTo, references: v.references, subject: v.subject, from: v.from, kind: v.kind };
      if (JSON.stringify(got) !== JSON.stringify(want)) differ.push(`${m.source}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
    }
    expect(differ).toEqual([]);
    expect(compared).toBeGreaterThan(80);
  });

  it("never calls a patch irrelevant that the review puts in scope", async () => {
    const parser = await CParser.load();
    const missed: string[] = [];
    let inScope = 0;
    for (const m of all) {
      const t = triage(m.bytes);
      let built;
      try {
        built = buildMessage(await parseMime({ bytes: m.bytes, source: m.source }));
      } catch {
        continue;
      }
      if (built.kind !== "patch" || !built.files.some((f) => classifyFile(f, parser).inScope)) continue;
      inScope++;
      if (!t.ok || !t.value.relevant) missed.push(m.source);
    }
    expect(missed).toEqual([]);
    expect(inScope).toBeGreaterThan(50);
  });

  it("decides on decoded text: a base64 or quoted-printable patch is seen for what it is", () => {
    const diff = "diff --git a/drivers/dma-buf/dma-buf.c b/drivers/dma-buf/dma-buf.c\n--- a/drivers/dma-buf/dma-buf.c\n+++ b/drivers/dma-buf/dma-buf.c\n@@ -1,3 +1,4 @@\n a\n+b\n c\n";
    const head = (cte: string) => `From: A <a@example.org>\nSubject: [PATCH] dma-buf: x\nMessage-ID: <${cte}@x>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: ${cte}\n\n`;
    const b64 = triage(Buffer.from(head("base64") + Buffer.from(`Explain.\n---\n${diff}`).toString("base64").replace(/(.{76})/g, "$1\n")));
    const qp = triage(Buffer.from(`${head("quoted-printable")}Explain =3D why.\n---\n${diff.replace(/=/g, "=3D")}`));
    for (const t of [b64, qp]) expect(t).toMatchObject({ ok: true, value: { kind: "patch", relevant: true } });
    // The raw body of the base64 one names no dma-buf file nor any diff at all.
    expect(/dma-buf|diff --git/.test(Buffer.from(`Explain.\n---\n${diff}`).toString("base64"))).toBe(false);
  });

  it("finds the patch in a multipart message's text attachment", () => {
    const raw = readFileSync(fixture("messages/attachment.eml"));
    expect(triage(raw)).toMatchObject({ ok: true, value: { kind: "patch" } });
  });

  it("refuses what mailparser would refuse, with the same reasons", () => {
    expect(triage(Buffer.alloc(9 * 1024 * 1024, 97))).toMatchObject({ ok: false, reason: "too-large" });
    expect(triage(Buffer.from([0, 1, 2, 3]))).toMatchObject({ ok: false, reason: "not-a-patch" });
    expect(triage(Buffer.from("just some words\n"))).toMatchObject({ ok: false, reason: "not-a-patch" });
    expect(triage(readFileSync(fixture("broken/broken-boundary.eml")))).toMatchObject({ ok: false, reason: "malformed-mime" });
  });

  it("relevance is per file: a device tree that says dma-coherent is not dma-buf, an exporter driver is", () => {
    const file = (path: string, lines: string) => `diff --git a/${path} b/${path}\n--- a/${path}\n+++ b/${path}\n@@ -1,2 +1,3 @@\n ctx\n${lines}\n`;
    expect(isRelevantDiff(file("arch/arm64/boot/dts/foo.dts", "+\tdma-coherent;"))).toBe(false);
    expect(isRelevantDiff(file("drivers/net/acme.c", "+\tdma_sync_single_for_cpu(dev, a, l, DMA_FROM_DEVICE);"))).toBe(false);
    expect(isRelevantDiff(file("drivers/gpu/drm/foo/foo.c", "+\tret = dma_buf_vmap_unlocked(buf, &map);"))).toBe(true);
    expect(isRelevantDiff(file("drivers/dma-buf/heaps/system_heap.c", "+\t/* nothing */"))).toBe(true);
    expect(isRelevantDiff(file("tools/gst/alloc.c", "+\tioctl(fd, DMA_BUF_IOCTL_SYNC, &s);"))).toBe(true);
    expect(isRelevantDiff(file("Documentation/gpu/foo.rst", "+dma_buf is mentioned"))).toBe(false);
    expect(isRelevantDiff(file("Documentation/driver-api/dma-buf.rst", "+text"))).toBe(true);
  });

  it("sees an opt-out line of its own, not one quoted", () => {
    const reply = (body: string) => triage(Buffer.from(`From: Jane <jane@example.org>\nSubject: Re: [PATCH] x\nMessage-ID: <o@x>\nIn-Reply-To: <p@x>\n\n${body}`));
    expect(reply("Thanks.\n\ndmabuf-review: opt-out\n")).toMatchObject({ ok: true, value: { optOut: true, from: "jane@example.org" } });
    expect(reply('> answer with a line "dmabuf-review: opt-out" on its own.\n')).toMatchObject({ ok: true, value: { optOut: false } });
  });

  it("gives an empty `Message-ID: <>` the id parseMime gives, and drops empty references", async () => {
    const text = "From: Sam <sam@example.com>\nSubject: Re: x\nMessage-ID: <>\nIn-Reply-To: <>\nReferences: <> <p@x>\n\nOK\n";
    const t = triage(Buffer.from(text));
    const f = await parseMime({ bytes: Buffer.from(text), source: "t" });
    expect(t.ok && t.value.messageId).toMatch(/^[0-9a-f]{40}@dmabuf-review\.invalid$/);
    expect(t).toMatchObject({ ok: true, value: { messageId: f.messageId, inReplyTo: undefined, references: ["p@x"] } });
  });

  it("reads an encoded word in an unknown charset as UTF-8, as mailparser does", async () => {
    for (const word of ["=?x-unknown?B?w6k=?=", "=?x-unknown?Q?=C3=A9?=", "=?utf-7?Q?=E9?="]) {
      const text = `Subject: ${word}\nMessage-ID: <a@b>\n\nx\n`;
      const f = await parseMime({ bytes: Buffer.from(text), source: "t" });
      expect(decodeWords(word), word).toBe(f.subject);
      expect(triage(Buffer.from(text)), word).toMatchObject({ ok: true, value: { subject: f.subject } });
    }
    expect(decodeWords("=?x-unknown?B?w6k=?=")).toBe("é");
  });

  it("decodes encoded words and quoted-printable", () => {
    expect(decodeWords("=?UTF-8?Q?Christian_K=C3=B6nig?= <c@amd.com>")).toBe("Christian König <c@amd.com>");
    expect(decodeWords("=?utf-8?B?W1BBVENIXQ==?= =?utf-8?B?IGRtYS1idWY=?=")).toBe("[PATCH] dma-buf");
    expect(decodeQuotedPrintable("a=3Db=\nc=C3=A4").toString("utf8")).toBe("a=bcä");
  });
});
