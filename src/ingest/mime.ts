// Shared by every mail source (mbox files, public-inbox archives): not a source of its own.
import { createHash } from "node:crypto";
import { simpleParser, type AddressObject, type ParsedMail } from "mailparser";
import { InputError, MAX_MESSAGE_BYTES } from "../errors.js";
import type { MessageFields, Person } from "../patch/message.js";
import type { RawMessage } from "./mbox/reader.js";

const HEADER_LINE = /^[!-9;-~]+:/;

function people(field: AddressObject | AddressObject[] | undefined): Person[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((a) => a.value).flatMap((v) => (v.address ? [{ name: v.name || v.address, email: v.address }] : []));
}

function ids(value: string | string[] | undefined): string[] {
  const all = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return all.flatMap((v) => v.match(/<[^<>\s]+>/g) ?? (v.trim() ? [v.trim()] : [])).map(bareId);
}

export function bareId(id: string): string {
  return id.trim().replace(/^<|>$/g, "");
}

function isPatchAttachment(att: ParsedMail["attachments"][number]): boolean {
  const type = att.contentType.toLowerCase();
  const name = (att.filename ?? "").toLowerCase();
  return (
    /^text\/(x-patch|x-diff|x-csrc|x-chdr)$/.test(type) ||
    (type === "text/plain" && (name.endsWith(".patch") || name.endsWith(".diff") || att.contentDisposition === "inline"))
  );
}

/**
 * Decode one raw message with mailparser: encoded-word subjects, quoted-printable and base64
 * bodies, charsets, CRLF. Patches sent as text attachments are appended to the body, as `git am`
 * would read them. Limits are checked before parsing; a message without headers is malformed.
 */
export async function parseMime(raw: RawMessage): Promise<MessageFields> {
  if (raw.bytes.length > MAX_MESSAGE_BYTES) {
    throw new InputError("too-large", `${raw.bytes.length} bytes, limit ${MAX_MESSAGE_BYTES}`, raw.source);
  }
  const head = raw.bytes.subarray(0, 4096).toString("latin1");
  if (!HEADER_LINE.test(head) || head.includes("\u0000")) {
    throw new InputError("malformed-mime", "does not start with a mail header", raw.source);
  }
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw.bytes, {
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
    throw new InputError("malformed-mime", "no From and no Subject header", raw.source);
  }
  let body = (mail.text ?? "").replace(/\r\n?/g, "\n");
  for (const att of mail.attachments) {
    if (!isPatchAttachment(att)) continue;
    const text = att.content.toString("utf8").replace(/\r\n?/g, "\n");
    body = body.trimEnd() === "" ? text : `${body.trimEnd()}\n\n${text}`;
  }
  // public-inbox keys every message by Message-ID; one without gets a stable id from its bytes.
  const messageId = mail.messageId
    ? bareId(mail.messageId)
    : `${createHash("sha1").update(raw.bytes).digest("hex")}@dmabuf-review.invalid`;
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
  };
}
