import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.js";
import { parseMime } from "../../src/ingest/mime.js";
import { buildMessage, stripListFooter } from "../../src/patch/message.js";
import { fields, fixture, fixtureBody } from "../helpers/mail.js";

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error("expected an InputError");
}

const PATCH_BODY = fixtureBody("messages/changelog-diffstat.eml");

describe("buildMessage", () => {
  it("makes a patch of a message with a diff: commit message, trailers, notes, files", () => {
    const m = buildMessage(fields({ messageId: "p1@example.org", subject: "[PATCH v2] dma-buf: return an error", body: PATCH_BODY }));
    expect(m.kind).toBe("patch");
    expect(m.parsedSubject.revision).toBe(2);
    expect(m.trailers.map((t) => t.key)).toEqual(["Fixes", "Reviewed-by", "Signed-off-by"]);
    expect(m.notes).toMatch(/^Changes in v2:/);
    expect(m.files.map((f) => f.path)).toEqual(["drivers/dma-buf/dma-buf.c", "include/linux/dma-buf.h"]);
    expect(m.baseCommit).toBe("d0f9033f753f87db714be5a663023d6c2ed934b6");
    expect(m.changeId).toBe("20261030-dmabuf-null-0c4f2a");
  });

  it("drops the mailing list footer from the body", () => {
    const m = buildMessage(fields({ messageId: "p1@example.org", subject: "[PATCH v2] x", body: PATCH_BODY }));
    expect(PATCH_BODY).toContain("Linaro-mm-sig mailing list");
    expect(m.body).not.toContain("Linaro-mm-sig mailing list");
    expect(m.body).toContain("-- \nJane Dev <jane.dev@example.org>");
  });

  it("treats a patch without [PATCH] in its subject as a patch when it carries a diff", () => {
    const m = buildMessage(fields({ messageId: "p2@example.org", subject: "dma-buf: return an error", body: PATCH_BODY }));
    expect(m.kind).toBe("patch");
    expect(m.parsedSubject.isPatch).toBe(false);
  });

  it("makes patch 0 the cover letter, even when it carries an interdiff", () => {
    const cover = buildMessage(fields({ messageId: "c@example.org", subject: "[PATCH v2 0/2] dma-buf: pairs", body: "Two patches.\n\nInterdiff against v1:\n" + PATCH_BODY.slice(PATCH_BODY.indexOf("diff --git")) }));
    expect(cover.kind).toBe("cover");
    expect(cover.files).toEqual([]);
  });

  it("reads a cover letter whose interdiff is cut off without refusing it", () => {
    const cut = fixtureBody("broken/truncated-diff.patch");
    const cover = buildMessage(fields({ messageId: "c@example.org", subject: "[PATCH v2 0/2] dma-buf: pairs", body: cut }));
    expect(cover.kind).toBe("cover");
  });

  it("makes a Re: message a reply even when it carries a diff, and never reviews that diff", () => {
    const m = buildMessage(fields({ messageId: "r@example.org", subject: "Re: [PATCH v2] dma-buf: return an error", inReplyTo: "p1@example.org", body: PATCH_BODY }));
    expect(m.kind).toBe("reply");
    expect(m.files).toEqual([]);
    expect(m.commitMessage).toBe(m.body);
  });

  it("does not refuse a reply whose quoted or pasted diff is cut off", () => {
    const m = buildMessage(fields({ messageId: "r@example.org", subject: "Re: [PATCH] x", body: fixtureBody("broken/truncated-diff.patch") }));
    expect(m.kind).toBe("reply");
  });

  it("reads a reviewer's tags from a reply, not the quoted ones", () => {
    const body = "> Signed-off-by: Jane Dev <jane.dev@example.org>\n\nFine.\n\nAcked-by: Sam Reviewer <sam.reviewer@example.com>\n";
    const m = buildMessage(fields({ messageId: "r@example.org", subject: "Re: [PATCH] x", inReplyTo: "p@example.org", body }));
    expect(m.trailers.map((t) => [t.key, t.email])).toEqual([["Acked-by", "sam.reviewer@example.com"]]);
  });

  it("makes a message without Re: but answering another, with no diff, a reply", () => {
    const m = buildMessage(fields({ messageId: "r@example.org", subject: "ping", inReplyTo: "p@example.org", body: "Any comments?\n" }));
    expect(m.kind).toBe("reply");
  });

  it("makes a message that is neither patch nor reply 'other'", () => {
    const m = buildMessage(fields({ messageId: "o@example.org", subject: "dma-buf BoF at Plumbers", body: "Who is coming?\n" }));
    expect(m.kind).toBe("other");
    expect(m.files).toEqual([]);
  });

  it("refuses a patch whose every file is binary", () => {
    const err = inputError(() => buildMessage(fields({ messageId: "b@example.org", subject: "[PATCH] acme: fw", body: fixtureBody("broken/binary-only.patch") })));
    expect(err.reason).toBe("binary-diff");
    expect(err.detail).toContain("firmware/acme/rx.bin");
  });

  it("keeps a patch that has a binary file next to a text one", () => {
    const m = buildMessage(fields({ messageId: "b@example.org", subject: "[PATCH] acme: fw", body: fixtureBody("messages/binary-and-text.patch") }));
    expect(m.files.map((f) => f.status)).toEqual(["modified", "binary"]);
  });

  it("refuses a patch that ends inside a hunk", () => {
    const err = inputError(() => buildMessage(fields({ messageId: "t@example.org", subject: "[PATCH] x", body: fixtureBody("broken/truncated-diff.patch") })));
    expect(err.reason).toBe("truncated-diff");
  });

  describe("replacement characters from a wrong charset", () => {
    const diffStart = PATCH_BODY.indexOf("+\tdmabuf->exp_name");
    const inDiff = `${PATCH_BODY.slice(0, diffStart)}+\t/* J\uFFFDrg */${PATCH_BODY.slice(diffStart + 1 + "\tdmabuf->exp_name = exp_info->exp_name;".length)}`;

    it("refuses a patch whose diff lines hold them: it would not apply as sent", () => {
      const err = inputError(() => buildMessage(fields({ messageId: "e@example.org", subject: "[PATCH] x", body: inDiff })));
      expect(err.reason).toBe("bad-encoding");
      expect(err.detail).toBe("1 diff line holds bytes that are not valid UTF-8");
    });

    it("names the charset the message declared and counts the lines", () => {
      const two = inDiff.replace("+\t\treturn -EINVAL;", "+\t\treturn -EINVAL; /* \uFFFD\uFFFD */");
      const err = inputError(() => buildMessage(fields({ messageId: "e@example.org", subject: "[PATCH] x", body: two, charset: "us-ascii" })));
      expect(err.detail).toBe("2 diff lines hold bytes that are not valid us-ascii");
    });

    it("accepts them in the commit message: a misspelt name does not stop a review", () => {
      const prose = PATCH_BODY.replace("Reviewed-by: Sam Reviewer", "Reviewed-by: S\uFFFDm Reviewer");
      const m = buildMessage(fields({ messageId: "e@example.org", subject: "[PATCH] x", body: prose }));
      expect(m.kind).toBe("patch");
      expect(m.trailers.find((t) => t.key === "Reviewed-by")?.name).toBe("S\uFFFDm Reviewer");
    });

    it("accepts them in a reply that quotes the diff", () => {
      const m = buildMessage(fields({ messageId: "e@example.org", subject: "Re: [PATCH] x", body: inDiff }));
      expect(m.kind).toBe("reply");
    });
  });
});

describe("stripListFooter", () => {
  it("removes a mailman footer and keeps the signature", () => {
    const body = "Text.\n-- \nJane\n\n_______________________________________________\ndri-devel mailing list\ndri-devel@lists.freedesktop.org\nhttps://lists.freedesktop.org/mailman/listinfo/dri-devel\n";
    expect(stripListFooter(body)).toBe("Text.\n-- \nJane\n\n");
  });

  it("leaves a line of underscores that is not a list footer", () => {
    const body = "Table:\n______________________\nrow 1\n";
    expect(stripListFooter(body)).toBe(body);
  });
});

describe("B4 Relay: the author, not the relay", () => {
  const RELAY = { name: "Mei Lin via B4 Relay", email: "devnull+mei.lin.example.net@kernel.org" };
  const MEI = { name: "Mei Lin", email: "mei.lin@example.net" };
  const relayBody = fixtureBody("messages/b4-relay.eml");

  it("reads the fixture as parseMime delivers it: X-Original-From is the author, the relay kept aside", async () => {
    const m = buildMessage(await parseMime({ bytes: readFileSync(fixture("messages/b4-relay.eml")), source: "b4-relay.eml" }));
    expect(m.kind).toBe("patch");
    expect(m.from).toEqual(MEI);
    expect(m.relayedBy).toEqual(RELAY);
    // b4's in-body From: line is git am's, not the commit message's.
    expect(m.commitMessage).toMatch(/^Importing a udmabuf into a display engine/);
    expect(m.trailers.map((t) => `${t.key}: ${t.value}`)).toEqual(["Signed-off-by: Mei Lin <mei.lin@example.net>"]);
  });

  it("falls back to the one Reply-To address, then to the in-body From: line", () => {
    const byReplyTo = buildMessage(fields({ messageId: "r1@example.net", subject: "[PATCH] x", from: RELAY, replyTo: [{ name: "mei.lin@example.net", email: "mei.lin@example.net" }], body: relayBody }));
    expect(byReplyTo.from).toEqual(MEI);
    const inBody = buildMessage(fields({ messageId: "r2@example.net", subject: "[PATCH] x", from: RELAY, body: relayBody.replace("From: Mei Lin <mei.lin@example.net>", 'From: "Lin, Mei" <mei@example.com>') }));
    expect(inBody.from).toEqual({ name: "Lin, Mei", email: "mei@example.com" });
    expect(inBody.relayedBy).toEqual(RELAY);
  });

  it("leaves a message that no relay sent with its From, whatever its Reply-To says", () => {
    const m = buildMessage(fields({ messageId: "n1@example.org", subject: "[PATCH] x", replyTo: [{ name: "List", email: "list@example.org" }], body: PATCH_BODY }));
    expect(m.from).toEqual({ name: "Jane Dev", email: "jane.dev@example.org" });
    expect(m.relayedBy).toBeUndefined();
  });

  it("keeps a reply's first line, even one that reads like a From: header", () => {
    const body = "From: Sam Keeper <sam@example.org>\n\nforwarding this, see below\n";
    const m = buildMessage(fields({ messageId: "re1@example.org", subject: "Re: [PATCH] x", inReplyTo: "p@example.org", body }));
    expect(m.body).toBe(body);
  });
});
