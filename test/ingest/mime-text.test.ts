import { describe, expect, it } from "vitest";
import { brokenMultipart, decodeQuotedPrintable, decodeWords } from "../../src/ingest/mime-text.js";

describe("mime-text: what every mail reader shares", () => {
  it("a multipart body is broken without a boundary, or when no line opens with it", () => {
    const body = (s: string) => Buffer.from(s, "latin1");
    expect(brokenMultipart("text/plain", undefined, body("x"))).toBeUndefined();
    expect(brokenMultipart("multipart/mixed", undefined, body("x"))).toBe("multipart/mixed without a boundary parameter");
    expect(brokenMultipart("multipart/mixed", "b1", body("head\n\n--b1\nContent-Type: text/plain\n\nhi\n--b1--\n"))).toBeUndefined();
    expect(brokenMultipart("multipart/mixed", "b1", body("head\r\n\r\n--b1\r\n\r\nhi\r\n"))).toBeUndefined();
    expect(brokenMultipart("multipart/mixed", "b1", body("head\n\ntext --b1\nno delimiter at a line start"))).toBe('the multipart boundary "b1" never appears in the body');
  });

  it("a quoted-printable body loses its trailing blanks and soft breaks, as libqp reads it", () => {
    expect(decodeQuotedPrintable("line  \nsoft=\nbreak=3D\t\n=ZZ").toString("latin1")).toBe("line\nsoftbreak=\n=ZZ");
  });

  it("an encoded word keeps the blanks its underscores stand for", () => {
    expect(decodeWords("=?UTF-8?Q?[PATCH]_dma-buf:_?= =?UTF-8?Q?add_flag?=")).toBe("[PATCH] dma-buf: add flag");
    expect(decodeWords("=?ISO-8859-1?Q?K=F6nig_?=x")).toBe("König x");
  });
});
