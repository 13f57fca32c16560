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
    // Format-patch files (no Message-ID) are taken too, named from their bytes as parseMime names them.
    expect(taken).toBeGreaterThan(60);
  });

  it("leaves to mailparser what it does not do: multipart, other charsets, attachments, odd parameters, CRLF", () => {
    const msg = (extra: string, body = "hello\n") => ({ bytes: Buffer.from(`From: A <a@example.org>\nSubject: x\nMessage-ID: <x@y>\nDate: Mon, 02 Nov 2026 10:00:00 +0000\n${extra}\n${body}`), source: "t" });
    expect(parsePlainMime(msg(""))).toMatchObject({ body: "hello\n", from: { name: "A", email: "a@example.org" } });
    expect(parsePlainMime(msg('Content-Type: multipart/mixed; boundary="b"\n'))).toBeUndefined();
    expect(parsePlainMime(msg("Content-Type: text/plain; charset=iso-8859-15\n"))).toBeUndefined();
    expect(parsePlainMime(msg("Content-Type: text/plain; charset=windows-1252\n"))).toBeUndefined();
    expect(parsePlainMime(msg("Content-Type: text/plain; charset=utf-8; format=fixed\n"))).toBeUndefined();
    expect(parsePlainMime(msg("Content-Type: text/plain; charset=utf-8; name=x.patch\n"))).toBeUndefined();
    expect(parsePlainMime(msg("Content-Type: text/plain; charset=utf-8; charset=utf-8\n"))).toBeUndefined();
    expect(parsePlainMime(msg("Content-Type: text/plain; charset=utf-8 (comment)\n"))).toBeUndefined();
    expect(parsePlainMime(msg("Content-Disposition: inline; filename=x.patch\n"))).toBeUndefined();
    expect(parsePlainMime(msg("Content-Disposition: attachment; filename=x.patch\n"))).toBeUndefined();
    expect(parsePlainMime(msg("Content-Transfer-Encoding: x-uuencode\n"))).toBeUndefined();
    expect(parsePlainMime({ bytes: Buffer.from("From: A <a@example.org>\r\nSubject: x\r\nMessage-ID: <x@y>\r\n\r\nhi\r\n"), source: "t" })).toBeUndefined();
  });

  it("takes a git format-patch file (no Message-ID) and names it from its bytes, as parseMime does", async () => {
    const raw = { bytes: Buffer.from("From: A <a@example.org>\nDate: Mon, 02 Nov 2026 10:00:00 +0000\nSubject: [PATCH] x\n\nbody\n---\n"), source: "t" };
    const fast = parsePlainMime(raw);
    expect(fast?.messageId).toMatch(/^[0-9a-f]{40}@dmabuf-review\.invalid$/);
    expect(same(fast!)).toBe(same(await parseMime(raw)));
  });

  it("reads addresses as mailparser does: encoded-word names, xn-- domains, quoted and bare ones", async () => {
    const raw = {
      bytes: Buffer.from(
        "From: =?utf-8?q?Christian_K=C3=B6nig?= <ck@example.org>\nTo: \"Dev, Jane\" <jane@example.org>, bob@example.org (Bob)\n" +
          "Cc: a@xn--bcher-kva.example,  Spaced Name   <s@example.org>\nMessage-ID: <x@y>\nSubject: x\n\nhi\n",
      ),
      source: "t",
    };
    const fast = parsePlainMime(raw);
    expect(fast?.from).toEqual({ name: "Christian König", email: "ck@example.org" });
    expect(same(fast!)).toBe(same(await parseMime(raw)));
    const plain = { bytes: Buffer.from(raw.bytes.toString().replace(/^From: .*$/m, "From: Christian Koenig <ck@example.org>").replace(/xn--bcher-kva/, "example")), source: "t" };
    expect(same(parsePlainMime(plain)!)).toBe(same(await parseMime(plain)));
  });

  it("decodes quoted-printable and base64 as mailparser does", async () => {
    const head = (cte: string) => `From: A <a@example.org>\nSubject: x\nMessage-ID: <x@y>\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: ${cte}\n\n`;
    for (const raw of [`${head("quoted-printable")}K=C3=B6nig =3D soft=\nbreak   \ntrailing\t \n=ZZ kept\n`, `${head("base64")}${Buffer.from("König\nzwei Zeilen\n").toString("base64")}\n`]) {
      const r = { bytes: Buffer.from(raw), source: "t" };
      expect(parsePlainMime(r)!.body).toBe((await parseMime(r)).body);
    }
  });

  it("reads flowed text, ISO-8859-1 and a bare inline disposition exactly as mailparser does", async () => {
    const lines = ["Some prose that ", "wraps here. ", "", "> quoted and ", "> wrapped ", ">> deeper ", "plain", "-- ", "sig ", "K\u00f6nig ", "x", " ", "diff --git a/x b/x", "+added line ", "+next"];
    const bodies = [lines.join("\n") + "\n", lines.join("\n"), "", " \n", "only line \n", "trailing soft \n\n", lines.slice(3, 9).join("\n") + "\n"];
    const types = [
      "text/plain; charset=utf-8; format=flowed",
      'text/plain; charset="utf-8"; Format="flowed"',
      "text/plain; charset=utf-8; format=flowed; delsp=yes",
      "text/plain; format=flowed; delsp=no",
      "text/plain; charset=iso-8859-1",
      'text/plain; charset="iso-8859-1"; format="flowed"',
      "text/plain; charset=ISO-8859-1; format=flowed; delsp=yes",
      "text/plain; charset=us-ascii; format=flowed",
    ];
    let checked = 0;
    const differ: string[] = [];
    for (const type of types) {
      const latin1 = /8859/.test(type);
      for (const body of bodies) {
        const bytes = Buffer.from(body, latin1 ? "latin1" : "utf8");
        for (const cte of ["8bit", "quoted-printable", "base64"]) {
          const encoded = cte === "base64" ? bytes.toString("base64").replace(/.{76}/g, "$&\n") : cte === "quoted-printable" ? qp(bytes) : bytes.toString("latin1");
          for (const disposition of ["", "Content-Disposition: inline\n", "Content-Disposition: INLINE\n"]) {
            const head = `From: A <a@example.org>\nSubject: x\nMessage-ID: <x@y>\nContent-Type: ${type}\nContent-Transfer-Encoding: ${cte}\n${disposition}\n`;
            const raw = { bytes: Buffer.concat([Buffer.from(head), Buffer.from(encoded, "latin1")]), source: "t" };
            const fast = parsePlainMime(raw);
            if (!fast) {
              differ.push(`not taken: ${type} ${cte} ${disposition}`);
              continue;
            }
            checked++;
            if (same(fast) !== same(await parseMime(raw))) differ.push(`${type} ${cte} ${disposition}: ${JSON.stringify(body)}`);
          }
        }
      }
    }
    expect(differ).toEqual([]);
    expect(checked).toBe(types.length * bodies.length * 9);
  });
});

/** Quoted-printable as a mailer writes it: =XX for what is not plain, soft breaks in long lines. */
function qp(bytes: Buffer): string {
  let out = "";
  let line = 0;
  for (const b of bytes) {
    const c = b === 10 ? "\n" : b === 61 || b > 126 || (b < 32 && b !== 9) ? `=${b.toString(16).toUpperCase().padStart(2, "0")}` : String.fromCharCode(b);
    if (c !== "\n" && line + c.length > 75) {
      out += "=\n";
      line = 0;
    }
    out += c;
    line = c === "\n" ? 0 : line + c.length;
  }
  return out;
}
