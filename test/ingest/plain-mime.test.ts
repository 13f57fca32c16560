import { describe, expect, it } from "vitest";
import { parseMime } from "../../src/ingest/mime.js";
import { parsePlainMime } from "../../src/ingest/plain-mime.js";
import { fixtureCorpus } from "../helpers/mail.js";

const corpus = fixtureCorpus;

const same = (x: object) => JSON.stringify(x, (k, v: unknown) => (k === "date" && typeof v === "string" ? new Date(v).getTime() : v));

describe("plain text/plain mail without mailparser", () => {
  it("gives exactly parseMime's fields for every fixture it takes, and takes most list mail", async () => {
    let taken = 0;
    const differ: string[] = [];
    const all = corpus();
    for (const m of all) {
      const raw = { bytes: m.bytes, source: m.source };
      const fast = parsePlainMime(raw);
      if (!fast) continue;
      taken++;
      const slow = await parseMime(raw).catch((e: Error) => e);
      if (slow instanceof Error) differ.push(`${m.source}: mailparser refuses it (${slow.message})`);
      else if (same(fast) !== same(slow)) differ.push(`${m.source}: ${same(fast).slice(0, 200)} != ${same(slow).slice(0, 200)}`);
    }
    expect(differ).toEqual([]);
    // Format-patch files carry no Message-ID: mailparser names those. The rest is mostly taken.
    expect(taken).toBeGreaterThan(60);
  });

  it("leaves to mailparser what it does not do: multipart, other charsets, flowed text, attachments, CRLF", () => {
    const msg = (extra: string, body = "hello\n") => ({ bytes: Buffer.from(`From: A <a@example.org>\nSubject: x\nMessage-ID: <x@y>\nDate: Mon, 02 Nov 2026 10:00:00 +0000\n${extra}\n${body}`), source: "t" });
    expect(parsePlainMime(msg(""))).toMatchObject({ body: "hello\n", from: { name: "A", email: "a@example.org" } });
    expect(parsePlainMime(msg('Content-Type: multipart/mixed; boundary="b"\n'))).toBeUndefined();
    expect(parsePlainMime(msg("Content-Type: text/plain; charset=iso-8859-1\n"))).toBeUndefined();
    expect(parsePlainMime(msg("Content-Type: text/plain; charset=utf-8; format=flowed\n"))).toBeUndefined();
    expect(parsePlainMime(msg("Content-Disposition: attachment; filename=x.patch\n"))).toBeUndefined();
    expect(parsePlainMime(msg("Content-Transfer-Encoding: x-uuencode\n"))).toBeUndefined();
    expect(parsePlainMime({ bytes: Buffer.from("From: A <a@example.org>\r\nSubject: x\r\nMessage-ID: <x@y>\r\n\r\nhi\r\n"), source: "t" })).toBeUndefined();
  });

  it("decodes quoted-printable and base64 as mailparser does", async () => {
    const head = (cte: string) => `From: A <a@example.org>\nSubject: x\nMessage-ID: <x@y>\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: ${cte}\n\n`;
    for (const raw of [`${head("quoted-printable")}K=C3=B6nig =3D soft=\nbreak   \ntrailing\t \n=ZZ kept\n`, `${head("base64")}${Buffer.from("König\nzwei Zeilen\n").toString("base64")}\n`]) {
      const r = { bytes: Buffer.from(raw), source: "t" };
      expect(parsePlainMime(r)!.body).toBe((await parseMime(r)).body);
    }
  });
});
