import { afterAll, describe, expect, it } from "vitest";
import { triage } from "../../../src/ingest/public-inbox/triage.js";
import { hasOptOutLine, htmlText } from "../../../src/ingest/public-inbox/opt-out.js";
import { BOT, fixtureMessages, LIST, mailEnv, type Env } from "../../channels/mail-setup.js";
import { PeerInbox } from "../../peers/public-inbox.js";

const HEAD = [
  "From: Jane Dev <jane@example.org>",
  "Subject: Re: [PATCH] dma-buf: x",
  "Message-ID: <o@example.org>",
  "In-Reply-To: <p@example.org>",
  "MIME-Version: 1.0",
  "",
].join("\n");

/** A reply with these headers after the common ones, and this body. */
function reply(headers: string, body: string, eol = "\n"): Buffer {
  return Buffer.from(`${HEAD}${headers}\n${body}`.replace(/\n/g, eol), "latin1");
}

function optOut(raw: Buffer): boolean {
  const t = triage(raw);
  if (!t.ok) throw new Error(`${t.reason}: ${t.detail}`);
  expect(t.value.kind).toBe("reply");
  return t.value.optOut;
}

const plain = (body: string) => reply("Content-Type: text/plain; charset=utf-8\n", body);
const qp = (body: string) => reply("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n", body);

describe("an opt-out line, as people send it", () => {
  it("in any case, with spaces, as a phone capitalises it, with CRLF", () => {
    expect(optOut(plain("Thanks.\n\ndmabuf-review: opt-out\n"))).toBe(true);
    expect(optOut(plain("Thanks.\n\nDmabuf-review: opt-out\n"))).toBe(true);
    expect(optOut(plain("DMABUF-REVIEW: OPT-OUT\n"))).toBe(true);
    expect(optOut(plain("Dmabuf-review:  Opt-Out \n"))).toBe(true);
    expect(optOut(reply("", "Please stop.\n\nDmabuf-review: opt-out\n", "\r\n"))).toBe(true);
  });

  it("split by a quoted-printable soft break, or with a no-break space", () => {
    expect(optOut(qp("Please stop.\n\nDmabuf-rev=\niew: opt-out\n"))).toBe(true);
    expect(optOut(qp("Dmabuf-review: opt=\n-out\n"))).toBe(true);
    expect(optOut(qp("Dmabuf-review:=C2=A0opt-out\n"))).toBe(true);
  });

  it("in a base64 body", () => {
    const body = Buffer.from("Please stop.\n\nDmabuf-review: opt-out\n").toString("base64");
    expect(optOut(reply("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n", `${body}\n`))).toBe(true);
  });

  it("in an HTML-only mail, alone or in a multipart, also quoted-printable", () => {
    const html = "<html><body><p>Please stop.</p><div>Dmabuf-review:&nbsp;opt-out<br></div><blockquote>earlier mail</blockquote></body></html>\n";
    expect(optOut(reply("Content-Type: text/html; charset=utf-8\n", html))).toBe(true);
    const qpHtml = "<div dir=3D\"ltr\">Please stop.<div><br></div><div>Dmabuf-review: opt-o=\nut</div></div>\n";
    expect(optOut(reply("Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n", qpHtml))).toBe(true);
    const mixed = `Content-Type: multipart/mixed; boundary="b"\n`;
    expect(optOut(reply(mixed, `--b\nContent-Type: text/html; charset=utf-8\n\n<p>DMABUF-REVIEW: OPT-OUT</p>\n--b--\n`))).toBe(true);
  });

  it("not when quoted, not inside a sentence, not in an HTML quote", () => {
    expect(optOut(plain('> answer with a line "dmabuf-review: opt-out" on its own.\n'))).toBe(false);
    expect(optOut(plain("> Dmabuf-review: opt-out\n\nI disagree.\n"))).toBe(false);
    expect(optOut(plain("Shall I write dmabuf-review: opt-out here?\n"))).toBe(false);
    expect(optOut(qp("> Dmabuf-rev=\niew: opt-out\n"))).toBe(false);
    const quoted = "<p>I disagree.</p><blockquote><div>x<blockquote>y</blockquote></div><div>Dmabuf-review: opt-out</div></blockquote>\n";
    expect(optOut(reply("Content-Type: text/html; charset=utf-8\n", quoted))).toBe(false);
    // HTML beside plain text: the plain text is what the author wrote.
    const alt = `Content-Type: multipart/alternative; boundary="b"\n`;
    const parts = "--b\nContent-Type: text/plain\n\nI disagree.\n--b\nContent-Type: text/html\n\n<div>Dmabuf-review: opt-out</div>\n--b--\n";
    expect(optOut(reply(alt, parts))).toBe(false);
  });

  it("the helpers on their own", () => {
    expect(hasOptOutLine("x\n  Dmabuf-Review : Opt Out\ny")).toBe(true);
    expect(htmlText("a<br/>b&amp;c&#160;d&#x41;<style>p{}</style>")).toBe("a\nb&c dA\n");
  });
});

const envs: Env[] = [];
afterAll(async () => {
  for (const e of envs) await e.close();
});

describe("the mail channel and an opt-out", () => {
  it("a phone-typed opt-out in an HTML-only quoted-printable reply stops the replies to that author", async () => {
    const inbox = new PeerInbox();
    const html = "<div dir=3D\"auto\">Please stop.<div dir=3D\"auto\"><br></div><div dir=3D\"auto\">Dmabuf-review: opt=\n-out</div></div>\n";
    inbox.add(
      Buffer.from(
        `From: Dev Eloper <dev@example.org>\nTo: ${BOT.email}\nSubject: Re: [PATCH] earlier\n` +
          "Message-ID: <stop@example.org>\nIn-Reply-To: <earlier@example.org>\n" +
          `MIME-Version: 1.0\nContent-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n\n${html}`,
      ),
    );
    const [udmabuf] = fixtureMessages("model/udmabuf-skip-cpu-sync.patch");
    inbox.add(Buffer.from(`Message-ID: <udmabuf-1@example.org>\nTo: ${LIST}\n${udmabuf!.toString("latin1")}`, "latin1"));
    const e = await mailEnv(inbox.dir);
    envs.push(e);
    const s = await e.engine.pass({ reply: "new" });
    expect(s).toMatchObject({ reviewed: 1, replies: 0, withheld: 1 });
    expect(e.mails()).toEqual([]);
    expect(e.store.db.prepare("SELECT email, origin FROM opt_out").all()).toEqual([{ email: "dev@example.org", origin: "stop@example.org" }]);
  });
});
