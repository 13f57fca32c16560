import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { draftReplies, type Draft } from "../../../src/publish/mail/compose.js";
import { SendingPolicy } from "../../../src/publish/mail/policy.js";
import { buildOutgoing, outboxTransport, smtpTransport, TransportError } from "../../../src/publish/mail/transport.js";
import { startSmtpPeer, type SmtpPeer } from "../../peers/smtp.js";
import { bodyOf, header, read, reviewFixture } from "./helpers.js";

const BOT = { name: "dmabuf-review", email: "bot@dmabuf-review.example" };

let draft: Draft;
let peer: SmtpPeer;

beforeAll(async () => {
  const s = (await reviewFixture("series/dma-coherent-v1.mbox")).series[0]!;
  draft = draftReplies(s, { policy: "all", threshold: "warning", list: "dri-devel@lists.freedesktop.org", from: BOT }, new SendingPolicy({ get: () => undefined, lastIntended: () => null, sentToListSince: () => 0 }), () => false).drafts[0]!;
  peer = await startSmtpPeer();
});

afterAll(async () => {
  await peer.close();
});

describe("a reply as a message", () => {
  it("is plain 8bit text with threading headers, marked as automated", async () => {
    const o = await buildOutgoing(draft, BOT, new Date("2026-11-25T10:00:00Z"));
    const raw = o.raw.toString("utf8");
    expect(header(raw, "Message-ID")).toBe(`<${draft.messageId}>`);
    expect(header(raw, "In-Reply-To")).toBe(`<${draft.inReplyTo}>`);
    expect(header(raw, "References")).toBe(draft.references.map((r) => `<${r}>`).join(" "));
    expect(header(raw, "Subject")).toBe("Re: [PATCH 1/3] dma-buf: add dma_coherent flag");
    expect(header(raw, "Content-Type")).toBe("text/plain; charset=utf-8");
    expect(header(raw, "Content-Transfer-Encoding")).toBe("8bit");
    expect(header(raw, "Auto-Submitted")).toBe("auto-generated");
    expect(header(raw, "X-Dmabuf-Review")).toBe(`${draft.key.what}; findings=${draft.fingerprints.join(",")}`);
    expect(raw).not.toMatch(/multipart|text\/html/i);
    // The body is what was written, byte for byte: readable in the .eml, and as mail.
    expect(bodyOf(raw)).toBe(draft.text);
    const parsed = await simpleParser(o.raw);
    expect(parsed.text).toBe(draft.text);
    expect(parsed.html).toBe(false);
    expect(o.envelope).toEqual({ from: BOT.email, to: ["christian.koenig@amd.com", "dri-devel@lists.freedesktop.org", "l.stach@pengutronix.de", "linaro-mm-sig@lists.linaro.org", "linux-media@vger.kernel.org", "sumit.semwal@linaro.org"] });
  });

  it("goes to the outbox as one .eml; sent again, it is the same file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-outbox-"));
    const o = await buildOutgoing(draft, BOT, new Date("2026-11-25T10:00:00Z"));
    const t = outboxTransport(dir);
    const path = await t.deliver(o);
    expect(await t.deliver(o)).toBe(path);
    expect(readdirSync(dir)).toEqual([o.fileName]);
    expect(o.fileName).toMatch(/^20261125T100000Z-[0-9a-f]{8}-patch-1-3-dma-buf-add-dma-coherent-flag\.eml$/);
    expect(read(path)).toBe(o.raw.toString("utf8"));
  });

  it("goes to an SMTP server with its envelope, and arrives as built", async () => {
    const o = await buildOutgoing(draft, BOT);
    const t = smtpTransport({ host: "127.0.0.1", port: peer.port, secure: false, user: undefined, password: undefined });
    try {
      expect(await t.deliver(o)).toMatch(/^smtp 127\.0\.0\.1:\d+ 250/);
    } finally {
      t.close();
    }
    expect(peer.received).toHaveLength(1);
    const r = peer.received[0]!;
    expect(r.from).toBe(BOT.email);
    expect(r.to).toEqual(o.envelope.to);
    expect(r.messageId).toBe(draft.messageId);
    expect(r.raw.replace(/\r\n/g, "\n")).toBe(o.raw.toString("utf8"));
  });

  it("logs in when a user is configured, with the password from the environment's setting", async () => {
    const authed = await startSmtpPeer({ user: "bot", pass: "s3cret" });
    const o = await buildOutgoing(draft, BOT);
    try {
      const good = smtpTransport({ host: "127.0.0.1", port: authed.port, secure: false, user: "bot", password: "s3cret" });
      expect(await good.deliver(o)).toMatch(/ 250/);
      good.close();
      const bad = smtpTransport({ host: "127.0.0.1", port: authed.port, secure: false, user: "bot", password: "wrong" });
      const err = await bad.deliver(o).catch((e: unknown) => e);
      bad.close();
      expect(err).toBeInstanceOf(TransportError);
      // The bot's own login refused (535) is its configuration, never a reason to drop a reply.
      expect(err).toMatchObject({ kind: "configuration", scope: "server", message: expect.stringMatching(/535/) });
      expect(authed.received).toHaveLength(1);
    } finally {
      await authed.close();
    }
  });

  it("a server that does not answer is a temporary failure of the server", async () => {
    const gone = await startSmtpPeer();
    await gone.close();
    const t = smtpTransport({ host: "127.0.0.1", port: gone.port, secure: false, user: undefined, password: undefined });
    const err = await t.deliver(await buildOutgoing(draft, BOT)).catch((e: unknown) => e);
    t.close();
    expect(err).toMatchObject({ kind: "temporary", scope: "server" });
  });

  it("settings no mail can go through with are configuration: a refused sender, TLS on a plain port", async () => {
    const o = await buildOutgoing(draft, BOT);
    const plain = { host: "127.0.0.1", port: peer.port, user: undefined, password: undefined };
    const tls = smtpTransport({ ...plain, secure: true });
    const t = smtpTransport({ ...plain, secure: false });
    try {
      expect(await tls.deliver(o).catch((e: unknown) => e)).toMatchObject({ kind: "configuration", scope: "server" });
      peer.refuseSender = 553;
      expect(await t.deliver(o).catch((e: unknown) => e)).toMatchObject({ kind: "configuration", scope: "server", message: expect.stringMatching(/553/) });
    } finally {
      peer.refuseSender = undefined;
      tls.close();
      t.close();
    }
  });

  it("a refusal says whether to try again: 5xx about the message is final, 4xx is not", async () => {
    const o = await buildOutgoing(draft, BOT);
    const t = smtpTransport({ host: "127.0.0.1", port: peer.port, secure: false, user: undefined, password: undefined });
    try {
      for (const [code, kind, scope] of [
        [550, "final", "message"],
        [451, "temporary", "message"],
        [421, "temporary", "server"],
      ] as const) {
        peer.refuse = code;
        const err = await t.deliver(o).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TransportError);
        expect(err).toMatchObject({ kind, scope });
      }
    } finally {
      peer.refuse = undefined;
      t.close();
    }
  });
});

describe("plain kernel mail, whatever wrote it", () => {
  const key = { channel: "mail", thread: "t@example.org", what: "tracker" };
  const plain = (subject: string, text: string): Draft => ({
    key,
    fingerprints: [],
    messageId: "dmabuf-review.0123456789abcdef01234567@dmabuf-review.example",
    inReplyTo: key.thread,
    references: [key.thread],
    to: [{ name: "Dev", email: "dev@example.org" }],
    cc: [],
    subject,
    text,
  });

  it("keeps every line it wrote within 72 columns (a tracker's 160-column rows too); quoted patch lines stay as sent", async () => {
    const row = `  1.4  not addressed  objection  1/3  Jonas Weber: ${"the check is decided per device, not per attachment, ".repeat(3)}`;
    const quoted = `> +\tif (dmabuf->dma_coherent && !dev_is_dma_coherent(dev) && some_very_long_condition_name(dev))`;
    const text = `Tracker: x (v2)\n\n${row}\n${quoted}\n\n-- \nsig\n`;
    expect(row.length).toBeGreaterThan(160);
    const o = await buildOutgoing(plain("Re: [PATCH v2 0/3] x", text), BOT);
    const lines = bodyOf(o.raw.toString("utf8")).split("\n");
    expect(lines.filter((l) => l.length > 72 && !l.startsWith(">"))).toEqual([]);
    expect(lines).toContain(quoted);
    expect(lines).toContain("-- ");
    // Nothing is lost: the words are all there, in order.
    expect(lines.filter((l) => !l.startsWith(">")).join(" ").replace(/\s+/g, " ")).toContain(row.replace(/\s+/g, " ").trim());
  });

  it("leaves a plain ASCII subject unencoded, a double quote and all; folds a long one at blanks", async () => {
    const subject = 'Re: [PATCH] dma-buf: fix the "coherent" flag handling for importers that decide per attachment';
    const o = await buildOutgoing(plain(subject, "x\n"), BOT);
    const raw = o.raw.toString("utf8");
    expect(raw).not.toContain("=?");
    expect(header(raw, "Subject")).toBe(subject);
    expect(raw.split("\n").filter((l) => l.length > 78)).toEqual([]);
    expect((await simpleParser(o.raw)).subject).toBe(subject);
    // Not ASCII: encoded, as it must be.
    const utf8 = await buildOutgoing(plain('Re: [PATCH] drm: König\'s "fix"', "x\n"), BOT);
    expect(utf8.raw.toString("utf8")).toMatch(/^Subject: =\?UTF-8\?/m);
    expect((await simpleParser(utf8.raw)).subject).toBe('Re: [PATCH] drm: König\'s "fix"');
  });
});
