import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InputError, MAX_MESSAGE_BYTES } from "../../src/errors.js";
import { parseMime } from "../../src/ingest/mime.js";
import { buildMessage, type MessageFields } from "../../src/patch/message.js";
import { fixture, fixtureBody } from "../helpers/mail.js";

function parseFixture(rel: string): Promise<MessageFields> {
  return parseMime({ bytes: readFileSync(fixture(rel)), source: rel });
}

function parseText(text: string, source = "test.eml"): Promise<MessageFields> {
  return parseMime({ bytes: Buffer.from(text, "latin1"), source });
}

async function rejection(p: Promise<unknown>): Promise<InputError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error("expected an InputError");
}

// The 8bit body of the plain fixture; every encoded variant must decode to exactly this.
const BASIC_BODY = fixtureBody("messages/encoded-word-b.eml");

describe("parseMime", () => {
  it("reads the header fields a review needs", async () => {
    const f = await parseFixture("messages/changelog-diffstat.eml");
    expect(f).toMatchObject({
      messageId: "20261102101500.4411-1-jane.dev@example.org",
      from: { name: "Jane Dev", email: "jane.dev@example.org" },
      to: [{ name: "dri-devel@lists.freedesktop.org", email: "dri-devel@lists.freedesktop.org" }],
      cc: [
        { name: "linaro-mm-sig@lists.linaro.org", email: "linaro-mm-sig@lists.linaro.org" },
        { name: "Sam Reviewer", email: "sam.reviewer@example.com" },
      ],
      subject: "[PATCH v2] dma-buf: return an error from end_cpu_access on a NULL buffer",
      inReplyTo: undefined,
      references: [],
      source: "messages/changelog-diffstat.eml",
      charset: "UTF-8",
    });
    expect(f.date?.toISOString()).toBe("2026-11-02T09:15:00.000Z");
  });

  it("decodes a =?UTF-8?B?...?= subject and sender name", async () => {
    const f = await parseFixture("messages/encoded-word-b.eml");
    expect(f.subject).toBe("[PATCH] dma-buf: return an error from end_cpu_access on a NULL buffer (König’s report)");
    expect(f.from).toEqual({ name: "Jörg Entwickler", email: "joerg@example.org" });
  });

  it("decodes a =?UTF-8?Q?...?= subject folded over two encoded words", async () => {
    const f = await parseFixture("messages/encoded-word-q.eml");
    expect(f.subject).toBe("[PATCH] dma-buf: return an error from end_cpu_access on a NULL buffer (König’s report)");
  });

  it("decodes quoted-printable: soft line breaks rejoined, =3D back to =", async () => {
    const raw = readFileSync(fixture("messages/quoted-printable.eml"), "utf8");
    expect(raw).toContain("dma_buf_expor=\nt_info");
    expect(raw).toContain("exp_name =3D exp_info");
    const f = await parseFixture("messages/quoted-printable.eml");
    expect(f.body).toContain("@@ -36,6 +36,7 @@ struct dma_buf *dma_buf_export(const struct dma_buf_export_info *exp_info)\n");
    expect(f.body).toContain("+\tdmabuf->exp_name = exp_info->exp_name;\n");
    expect(f.body).toBe(BASIC_BODY);
  });

  it("decodes a base64 body", async () => {
    const f = await parseFixture("messages/base64.eml");
    expect(f.body).toBe(BASIC_BODY);
  });

  it("turns CRLF line ends into LF", async () => {
    const raw = readFileSync(fixture("messages/crlf.eml"), "latin1");
    expect(raw).toContain("\r\n");
    const f = await parseFixture("messages/crlf.eml");
    expect(f.body).not.toContain("\r");
    expect(f.body).toBe(BASIC_BODY);
    expect(f.subject).toBe("[PATCH] dma-buf: return an error from end_cpu_access on a NULL buffer");
  });

  it("appends a text/x-patch attachment to the note before it (multipart/mixed)", async () => {
    const f = await parseFixture("messages/attachment.eml");
    expect(f.body.startsWith("Hi,\n\nmy mailer mangles inline patches, so the patch is attached.\n\nJane\n\n")).toBe(true);
    expect(f.body.endsWith(BASIC_BODY)).toBe(true);
    expect(f.charset).toBe("UTF-8");
  });

  it("drops the mbox line and headers of an attached git format-patch file", async () => {
    const f = await parseFixture("messages/attachment-format-patch.eml");
    expect(f.body).not.toMatch(/^From [0-9a-f]{40}/m);
    expect(f.body).not.toContain("Subject: [PATCH]");
    expect(f.body).toContain("Resending as an attachment");
    expect(f.body).toContain("\nSigned-off-by: Jane Dev <jane.dev@example.org>\n---\n drivers/dma-buf/dma-buf.c | 3 +++\n");
  });

  it("appends every patch attachment, each without its format-patch headers", async () => {
    const f = await parseFixture("messages/two-attachments.eml");
    expect(f.body.startsWith("Both changes attached; git am applies them as one commit.\n\nAn exporter that implements")).toBe(true);
    expect(f.body.match(/^diff --git /gm)).toHaveLength(2);
    expect(f.body).not.toMatch(/^Subject: /m);
    expect(buildMessage(f).files.map((x) => x.path)).toEqual(["drivers/dma-buf/dma-buf.c", "include/linux/dma-buf.h"]);
  });

  it("decodes a Latin-1 body, prose and diff alike", async () => {
    const f = await parseFixture("messages/latin1.eml");
    expect(f.charset).toBe("ISO-8859-1");
    expect(f.body).toContain("Reported-by: José Müller <jose.mueller@example.org>");
    expect(f.body).toContain("+ * both calls (José's rule) to keep non-coherent devices");
    expect(f.body).not.toContain("\uFFFD");
  });

  it("decodes a Latin-1 attachment in its own charset", async () => {
    const text = [
      "From: Jane Dev <jane.dev@example.org>",
      "Subject: [PATCH] x",
      'Content-Type: multipart/mixed; boundary="b"',
      "",
      "--b",
      "Content-Type: text/plain",
      "",
      "Attached.",
      "--b",
      "Content-Type: text/x-patch; charset=iso-8859-1",
      'Content-Disposition: attachment; filename="x.patch"',
      "",
      "Reported-by: Jos\xe9 <jose@example.org>",
      "--b--",
      "",
    ].join("\n");
    const f = await parseText(text);
    expect(f.body).toContain("Reported-by: José <jose@example.org>");
    expect(f.charset).toBe("iso-8859-1");
  });

  it("leaves U+FFFD for Latin-1 bytes declared UTF-8: the decision is buildMessage's", async () => {
    const f = await parseFixture("broken/wrong-encoding.eml");
    expect(f.charset).toBe("UTF-8");
    expect(f.body).toContain("Jos\uFFFD M\uFFFDller");
    expect(f.body).toContain("+ * both calls (Jos\uFFFD's rule)");
  });

  it("reads In-Reply-To and folded References as bare ids", async () => {
    const f = await parseText(
      "From: Sam <sam@example.com>\nSubject: Re: [PATCH] x\nMessage-ID: <r@example.com>\nIn-Reply-To: <p@example.org>\nReferences: <c@example.org>\n <p@example.org>\n\nOK\n",
    );
    expect(f).toMatchObject({ messageId: "r@example.com", inReplyTo: "p@example.org", references: ["c@example.org", "p@example.org"] });
  });

  it("reads a part with an empty Content-Type as text/plain (mailparser gives false for it)", async () => {
    const diff = "diff --git a/drivers/dma-buf/dma-buf.c b/drivers/dma-buf/dma-buf.c\n--- a/drivers/dma-buf/dma-buf.c\n+++ b/drivers/dma-buf/dma-buf.c\n@@ -1,1 +1,2 @@\n a\n+b\n";
    const part = (headers: string, body: string) => `--B\n${headers}\n\n${body}`;
    const text = (parts: string[]) =>
      ["From: a <a@example.org>", "Subject: [PATCH] dma-buf: x", "Message-ID: <x@example.org>", "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="B"', "", ...parts, "--B--", ""].join("\n");
    const attached = await parseText(text([part("Content-Type: text/plain", "Attached.\n"), part('Content-Type:\nContent-Disposition: attachment; filename="fix.patch"', diff)]));
    expect(attached.body).toBe(`Attached.\n\n${diff}`);
    // Neither text/plain nor named as a patch: left out, and still no throw.
    const other = await parseText(text([part("Content-Type: text/plain", "Note.\n"), part("Content-Type:\nContent-Disposition: attachment", "data\n")]));
    expect(other.body).toBe("Note.\n");
  });

  it("gives a message without Message-ID a stable id from its bytes", async () => {
    const text = "From: Jane Dev <jane.dev@example.org>\nSubject: [PATCH] x\n\nbody\n";
    const a = await parseText(text);
    const b = await parseText(text);
    expect(a.messageId).toMatch(/^[0-9a-f]{40}@dmabuf-review\.invalid$/);
    expect(b.messageId).toBe(a.messageId);
    expect((await parseText(`${text}more\n`)).messageId).not.toBe(a.messageId);
  });

  it("gives an empty `Message-ID: <>` the stable id a message without one gets, not a shared \"\"", async () => {
    const a = await parseText("From: Jane Dev <jane.dev@example.org>\nSubject: [PATCH] x\nMessage-ID: <>\n\nbody\n");
    const b = await parseText("From: Jane Dev <jane.dev@example.org>\nSubject: [PATCH] y\nMessage-ID: < >\n\nbody\n");
    expect(a.messageId).toMatch(/^[0-9a-f]{40}@dmabuf-review\.invalid$/);
    expect(b.messageId).toMatch(/^[0-9a-f]{40}@dmabuf-review\.invalid$/);
    expect(b.messageId).not.toBe(a.messageId);
  });

  it("drops an empty `<>` from References and In-Reply-To", async () => {
    const f = await parseText("From: Sam <sam@example.com>\nSubject: Re: x\nMessage-ID: <r@x>\nIn-Reply-To: <>\nReferences: <> <p@x>\n\nOK\n");
    expect(f).toMatchObject({ inReplyTo: undefined, references: ["p@x"] });
    expect((await parseText("From: Sam <sam@example.com>\nSubject: Re: x\nMessage-ID: <r@x>\nReferences: <>\n\nOK\n")).references).toEqual([]);
  });

  describe("broken input", () => {
    it("says malformed-mime when the multipart boundary never appears", async () => {
      const err = await rejection(parseFixture("broken/broken-boundary.eml"));
      expect(err.reason).toBe("malformed-mime");
      expect(err.detail).toBe('the multipart boundary "=-declared-boundary" never appears in the body');
      expect(err.source).toBe("broken/broken-boundary.eml");
    });

    it("says malformed-mime for a multipart without a boundary parameter", async () => {
      const err = await rejection(parseText("From: a <a@example.org>\nSubject: [PATCH] x\nContent-Type: multipart/mixed\n\n--x\n\nbody\n--x--\n"));
      expect(err.reason).toBe("malformed-mime");
      expect(err.detail).toBe("multipart/mixed without a boundary parameter");
    });

    it("says not-a-patch for binary junk", async () => {
      const err = await rejection(parseFixture("broken/junk.bin"));
      expect([err.reason, err.detail]).toEqual(["not-a-patch", "binary data, not a mail message"]);
    });

    it("says not-a-patch for text that is not mail", async () => {
      const err = await rejection(parseFixture("broken/not-mail.txt"));
      expect(err.reason).toBe("not-a-patch");
    });

    it("says not-a-patch for header-like text with no From and no Subject", async () => {
      const err = await rejection(parseText("name: dma-buf\nversion: 2\n\nnothing else\n"));
      expect(err.reason).toBe("not-a-patch");
    });

    it("says too-large above MAX_MESSAGE_BYTES, before parsing", async () => {
      const big = Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x61);
      big.write("From: a <a@example.org>\nSubject: x\n\n");
      const err = await rejection(parseMime({ bytes: big, source: "big.eml" }));
      expect(err.reason).toBe("too-large");
      expect(err.detail).toBe(`${MAX_MESSAGE_BYTES + 1} bytes, limit ${MAX_MESSAGE_BYTES}`);
    });
  });
});
