import fc from "fast-check";
import { diffOf, patchBody } from "./diff.js";
import { rawSubject } from "./subject.js";

/**
 * Raw mail as bytes (a string of latin1 characters, one per byte): structured MIME trees with
 * nested multiparts, empty, odd or absent Content-Type, unknown charsets and transfer encodings,
 * boundaries that never show up, base64 and quoted-printable garbage, and very long folded
 * headers; plus bytes that are not mail at all.
 */

/** UTF-8 text as the bytes a mail carries. */
export const utf8Bytes = (s: string): string => Buffer.from(s, "utf8").toString("latin1");
export const toBuffer = (raw: string): Buffer => Buffer.from(raw, "latin1");

export interface Leaf {
  readonly kind: "leaf";
  readonly contentType: string | undefined;
  readonly encoding: string | undefined;
  readonly disposition: string | undefined;
  /** Already in the bytes the encoding header claims, or deliberately not. */
  readonly body: string;
}

export interface Multi {
  readonly kind: "multi";
  readonly contentType: string;
  readonly boundary: string | undefined;
  /** How the delimiters are written: as declared, never, or without the closing one. */
  readonly delimiters: "ok" | "missing" | "unclosed" | "other-boundary";
  readonly preamble: string;
  readonly parts: readonly Part[];
}

export type Part = Leaf | Multi;

const contentTypes = fc.constantFrom<string | undefined>(
  undefined, "", " ", "text/plain", "text/plain; charset=utf-8", "text/plain; charset=\"us-ascii\"", "text/plain; charset=iso-8859-1",
  "text/plain; charset=bogus-charset-9", "text/plain; charset=", "TEXT/PLAIN; CHARSET=UTF-8", "text/plain; format=flowed",
  "text/x-patch", "text/x-patch; name=\"0001-dma-buf.patch\"", "text/x-diff; charset=utf-16", "text/html", "application/octet-stream",
  "foo/bar", "text", ";;;", "multipart/mixed", "message/rfc822", "text/plain; charset=utf-8; name=", "text/x-csrc",
);
const encodings = fc.constantFrom<string | undefined>(undefined, "", "7bit", "8bit", "base64", "quoted-printable", "Base64", "x-uuencode", "binary", "bogus");
const dispositions = fc.constantFrom<string | undefined>(
  undefined, "inline", "attachment", "attachment; filename=\"0001-fix.patch\"", "attachment; filename=", "inline; filename=x.diff", "garbage;;=",
);

const base64Junk = fc.stringMatching(/^[A-Za-z0-9+\/=\s!*]{0,200}$/);
const qpJunk = fc.array(fc.constantFrom("=", "=3D", "=ZZ", "=\n", "=\r\n", "=C3=A9", "=FF", "abc", " ", "\t\n", "=0", "dma_buf"), { maxLength: 40 }).map((p) => p.join(""));

/** A text body, possibly a patch, written in the encoding the part declares (or broken on purpose). */
function bodyFor(encoding: string | undefined): fc.Arbitrary<string> {
  const text = fc.oneof(
    { weight: 3, arbitrary: diffOf(2, 2, 8).map((d) => patchBody(d.text)) },
    { weight: 2, arbitrary: fc.string({ maxLength: 200, unit: "grapheme" }) },
    { weight: 1, arbitrary: fc.constant("dmabuf-review: opt-out\n") },
  );
  const enc = (encoding ?? "").toLowerCase();
  if (enc === "base64") {
    return fc.oneof(
      text.map((t) => (Buffer.from(t, "utf8").toString("base64").match(/.{1,76}/g) ?? []).join("\n")),
      text.map((t) => Buffer.from(t, "utf8").toString("base64").slice(0, -3)),
      base64Junk,
    );
  }
  if (enc === "quoted-printable") return fc.oneof(text.map((t) => utf8Bytes(t).replace(/=/g, "=3D")), qpJunk);
  return fc.oneof(text.map(utf8Bytes), text.map((t) => Buffer.from(t, "utf8").toString("latin1").replace(/[\u00c3]/g, "\u00ff")));
}

const leaf: fc.Arbitrary<Leaf> = fc
  .record({ contentType: contentTypes, encoding: encodings, disposition: dispositions })
  .chain((h) => bodyFor(h.encoding).map((body): Leaf => ({ kind: "leaf", ...h, body })));

const boundaries = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9'()+_,.\/:=?-]{1,40}$/),
  fc.constantFrom("", " ", "==", "b\"q", "x y", "-".repeat(70)),
);

const part: fc.Arbitrary<Part> = fc.letrec<{ part: Part; multi: Multi }>((tie) => ({
  part: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("multi")),
  multi: fc.record({
    kind: fc.constant("multi" as const),
    contentType: fc.constantFrom("multipart/mixed", "multipart/alternative", "multipart/signed", "MULTIPART/MIXED", "multipart/x-odd"),
    boundary: fc.option(boundaries, { nil: undefined, freq: 6 }),
    delimiters: fc.constantFrom<Multi["delimiters"]>("ok", "ok", "ok", "missing", "unclosed", "other-boundary"),
    preamble: fc.constantFrom("", "This is a multi-part message in MIME format.\n"),
    parts: fc.array(tie("part"), { maxLength: 4 }),
  }),
})).part;

function writePart(p: Part, nl: string): { headers: string[]; body: string } {
  if (p.kind === "leaf") {
    const headers: string[] = [];
    if (p.contentType !== undefined) headers.push(`Content-Type: ${p.contentType}`);
    if (p.encoding !== undefined) headers.push(`Content-Transfer-Encoding: ${p.encoding}`);
    if (p.disposition !== undefined) headers.push(`Content-Disposition: ${p.disposition}`);
    return { headers, body: p.body };
  }
  const boundaryParam = p.boundary === undefined ? "" : `; boundary="${p.boundary}"`;
  const headers = [`Content-Type: ${p.contentType}${boundaryParam}`];
  const b = p.delimiters === "other-boundary" ? `${p.boundary ?? ""}x` : (p.boundary ?? "");
  const chunks: string[] = [p.preamble];
  for (const child of p.parts) {
    const w = writePart(child, nl);
    if (p.delimiters !== "missing") chunks.push(`--${b}${nl}`);
    chunks.push(`${w.headers.join(nl)}${nl}${nl}${w.body}${nl}`);
  }
  if (p.delimiters === "ok" || p.delimiters === "other-boundary") chunks.push(`--${b}--${nl}`);
  return { headers, body: chunks.join("") };
}

const address = fc.constantFrom(
  "Jane Dev <jane.dev@example.org>", "jane@example.org", "\"Dev, Jane\" <jane@example.org>", "=?utf-8?q?J=C3=A9r=C3=B4me?= <j@example.org>",
  "<>", "undisclosed-recipients:;", "@@@", "", "Jane <jane@", "a@b, c@d",
);
const messageId = fc.constantFrom("<20261109.1@example.org>", "<a@b>", "no-brackets@x", "<>", "", "<a b@c>", "<20261109.2@example.org> <x@y>");
const date = fc.constantFrom("Mon, 9 Nov 2026 10:00:00 +0000", "yesterday", "", "Thu, 1 Jan 1970 00:00:00 +0000", "Mon, 32 Foo 99999 99:99:99");

/** A header value folded over many lines, as some tools write very long References. */
const folded = fc.nat({ max: 200 }).map((n) => Array.from({ length: n }, (_, i) => `<ref${i}@example.org>`).join("\n "));

const encodedSubject = rawSubject.chain((s) =>
  fc.constantFrom(
    utf8Bytes(s),
    `=?utf-8?b?${Buffer.from(s, "utf8").toString("base64")}?=`,
    `=?utf-8?q?${Buffer.from(s, "utf8").toString("latin1").replace(/[^A-Za-z0-9]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`)}?=`,
    `=?x-unknown?B?${Buffer.from(s, "utf8").toString("base64")}?=`,
    `=?utf-8?B?!!!${s.length}?=`,
  ),
);

export interface MailSpec {
  readonly from: string | undefined;
  readonly subject: string | undefined;
  readonly messageId: string | undefined;
  readonly inReplyTo: string | undefined;
  readonly references: string | undefined;
  readonly date: string | undefined;
  readonly extra: readonly string[];
  readonly mimeVersion: boolean;
  readonly body: Part;
  readonly crlf: boolean;
}

export const mailSpec: fc.Arbitrary<MailSpec> = fc.record({
  from: fc.option(address, { nil: undefined, freq: 8 }),
  subject: fc.option(encodedSubject, { nil: undefined, freq: 8 }),
  messageId: fc.option(messageId, { nil: undefined, freq: 6 }),
  inReplyTo: fc.option(messageId, { nil: undefined }),
  references: fc.option(fc.oneof(messageId, folded), { nil: undefined }),
  date: fc.option(date, { nil: undefined }),
  extra: fc.array(fc.oneof(fc.constantFrom("X-Mailer: git-send-email 2.43.0", "Received: from x by y", "X-Empty:", "Content-Type: text/plain"), fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,20}$/), fc.string({ maxLength: 40 })).map(([k, v]) => `${k}: ${utf8Bytes(v).replace(/[\r\n]/g, "")}`)), { maxLength: 3 }),
  mimeVersion: fc.boolean(),
  body: part,
  crlf: fc.boolean(),
});

export function writeMail(m: MailSpec): string {
  const nl = m.crlf ? "\r\n" : "\n";
  const top = writePart(m.body, nl);
  const headers: string[] = [];
  if (m.from !== undefined) headers.push(`From: ${utf8Bytes(m.from)}`);
  if (m.subject !== undefined) headers.push(`Subject: ${m.subject.replace(/\n/g, `${nl} `)}`);
  if (m.messageId !== undefined) headers.push(`Message-ID: ${m.messageId}`);
  if (m.inReplyTo !== undefined) headers.push(`In-Reply-To: ${m.inReplyTo}`);
  if (m.references !== undefined) headers.push(`References: ${m.references.replace(/\n/g, nl)}`);
  if (m.date !== undefined) headers.push(`Date: ${m.date}`);
  if (m.mimeVersion) headers.push("MIME-Version: 1.0");
  headers.push(...m.extra, ...top.headers);
  return `${headers.join(nl)}${nl}${nl}${top.body.replace(/\r?\n/g, nl)}`;
}

/** Raw bytes a mail reader may be handed: mostly mail, sometimes not. */
export const rawMail: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: mailSpec.map(writeMail) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString("latin1")) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map(utf8Bytes) },
);
