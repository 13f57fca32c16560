// Shared by every mail source (mbox files, public-inbox archives): not a source of its own.
// mailparser (with libmime, iconv-lite and an HTML stack) is imported in parseMime, when a message
// is not for the fast paths: a plain patch is reviewed without loading it.
import type { AddressObject, ParsedMail } from "mailparser";
import { InputError, MAX_MESSAGE_BYTES } from "../errors.js";
import type { MessageFields, Person } from "../patch/message.js";
import { joinCutAddressesIn } from "./address-fold.js";
import type { RawMessage } from "./mbox/reader.js";
import { bareId, messageIdOf } from "./message-id.js";
import { brokenMultipart } from "./mime-text.js";

const HEADER_LINE = /^[!-9;-~]+:/;

function people(field: AddressObject | AddressObject[] | undefined): Person[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((a) => a.value).flatMap((v) => (v.address ? [{ name: v.name || v.address, email: v.address }] : []));
}

/** Bare ids; an empty `<>` is no reference, or it would thread to every message without an id. */
function ids(value: string | string[] | undefined): string[] {
  const all = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return all.flatMap((v) => v.match(/<[^<>\s]+>/g) ?? (v.trim() ? [v.trim()] : [])).map(bareId).filter(Boolean);
}

type Attachment = ParsedMail["attachments"][number];

interface ContentType {
  readonly value: string;
  readonly params: Readonly<Record<string, string>>;
}

function contentTypeOf(headers: ParsedMail["headers"]): ContentType | undefined {
  const v = headers.get("content-type");
  if (v && typeof v === "object" && "value" in v && typeof v.value === "string") {
    return { value: v.value.toLowerCase(), params: (v as { params?: Record<string, string> }).params ?? {} };
  }
  return undefined;
}

/** A multipart body whose boundary never shows up is broken, not empty (mime-text.ts). */
function checkMultipart(raw: RawMessage, type: ContentType | undefined): void {
  const broken = type ? brokenMultipart(type.value, type.params["boundary"], raw.bytes) : undefined;
  if (broken) throw new InputError("malformed-mime", broken, raw.source);
}

/** An attachment's text in its declared charset; bytes that charset cannot hold become U+FFFD. */
function decodeAttachment(att: Attachment): { text: string; charset: string } {
  const declared = (att.headers ? contentTypeOf(att.headers)?.params["charset"] : undefined) ?? "utf-8";
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(declared);
  } catch {
    decoder = new TextDecoder("utf-8");
  }
  return { text: decoder.decode(att.content), charset: declared };
}

// A patch attached as a `git format-patch` file brings its own mbox line and headers; the
// commit message starts after them.
function stripPatchFileHeaders(text: string): string {
  if (!/^From [0-9a-f]{40} /.test(text) && !/^(From|Subject|Date): /.test(text)) return text;
  const end = text.indexOf("\n\n");
  return end < 0 ? text : text.slice(end + 2);
}

/** mailparser gives `false`, not a string, for a part whose Content-Type is empty. */
function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function isPatchAttachment(att: Attachment): boolean {
  // An empty Content-Type is text/plain, as RFC 2045 defaults it (and as triage reads it).
  const type = text(att.contentType).trim().toLowerCase() || "text/plain";
  const name = text(att.filename).toLowerCase();
  return (
    /^text\/(x-patch|x-diff|x-csrc|x-chdr)$/.test(type) ||
    (type === "text/plain" && (name.endsWith(".patch") || name.endsWith(".diff") || att.contentDisposition === "inline"))
  );
}

/**
 * Decode one raw message with mailparser: encoded-word subjects, quoted-printable and base64
 * bodies, charsets, CRLF. Patches sent as text attachments are appended to the body, as `git am`
 * would read them. Limits are checked before parsing. Bytes that are not mail are not-a-patch;
 * mail whose MIME structure is broken is malformed-mime.
 */
export async function parseMime(raw: RawMessage): Promise<MessageFields> {
  if (raw.bytes.length > MAX_MESSAGE_BYTES) {
    throw new InputError("too-large", `${raw.bytes.length} bytes, limit ${MAX_MESSAGE_BYTES}`, raw.source);
  }
  // Bytes that are not mail at all (an image, a tarball, a C file) are not a patch to review;
  // malformed-mime is kept for mail whose structure is broken.
  const head = raw.bytes.subarray(0, 4096).toString("latin1");
  if (head.includes("\u0000")) {
    throw new InputError("not-a-patch", "binary data, not a mail message", raw.source);
  }
  if (!HEADER_LINE.test(head)) {
    throw new InputError("not-a-patch", "not a mail message: it does not start with a header line", raw.source);
  }
  const { parseAddressHeader, simpleParser } = await import("mailparser");
  let mail: ParsedMail;
  try {
    mail = await simpleParser(joinCutAddressesIn(raw.bytes), {
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      skipImageLinks: true,
    });
  } catch (err) {
    throw new InputError("malformed-mime", (err as Error).message, raw.source);
  }
  const from = people(mail.from)[0];
  if (!from && !mail.subject) {
    throw new InputError("not-a-patch", "not a mail message: no From and no Subject header", raw.source);
  }
  const type = contentTypeOf(mail.headers);
  checkMultipart(raw, type);
  let body = (mail.text ?? "").replace(/\r\n?/g, "\n");
  let charset = type?.value.startsWith("text/") ? type.params["charset"] : undefined;
  for (const att of mail.attachments) {
    if (!isPatchAttachment(att)) continue;
    const decoded = decodeAttachment(att);
    const text = stripPatchFileHeaders(decoded.text.replace(/\r\n?/g, "\n"));
    charset = decoded.charset;
    body = body.trimEnd() === "" ? text : `${body.trimEnd()}\n\n${text}`;
  }
  const messageId = messageIdOf(mail.messageId === undefined ? undefined : bareId(mail.messageId), raw.bytes);
  // Not one of the address headers mailparser parses: read from its raw line, as plain-mime does.
  const originalFrom = people(parseAddressHeader(mail.headerLines.filter((h) => h.key === "x-original-from").map((h) => h.line.slice(h.line.indexOf(":") + 1))))[0];
  const replyTo = people(mail.replyTo);
  return {
    messageId,
    from: from ?? { name: "unknown", email: "unknown@invalid" },
    to: people(mail.to),
    cc: people(mail.cc),
    date: mail.date,
    subject: (mail.subject ?? "").replace(/\s+/g, " ").trim(),
    inReplyTo: mail.inReplyTo ? ids(mail.inReplyTo)[0] : undefined,
    references: ids(mail.references),
    body,
    source: raw.source,
    ...(charset ? { charset } : {}),
    ...(originalFrom ? { originalFrom } : {}),
    ...(replyTo.length > 0 ? { replyTo } : {}),
  };
}
