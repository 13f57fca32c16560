import { createRequire } from "node:module";
import { MAX_MESSAGE_BYTES } from "../errors.js";
import type { MessageFields, Person } from "../patch/message.js";
import { oneLine } from "../patch/subject.js";
import { joinCutAddresses } from "./address-fold.js";
import type { RawMessage } from "./mbox/reader.js";
import { messageIdOf } from "./message-id.js";
import { parseAddresses } from "./plain-addresses.js";
import { decodeQuotedPrintable, decodeWords } from "./mime-text.js";

/**
 * The common case of list mail read without mailparser's stream machinery: one text/plain part
 * in UTF-8, US-ASCII or ISO-8859-1, 7bit, 8bit, quoted-printable or base64, format=flowed or
 * not, with no Content-Disposition or a bare `inline` one. It gives the same fields as
 * ingest/mime.ts (`parseMime`) for such a message, decoded the way mailparser decodes it
 * (libqp's trailing-space rule, libbase64's alphabet, libmime's flowed unwrapping, addresses
 * as mailparser's parseAddressHeader reads them: plain-addresses.ts), many times faster. Anything else returns
 * undefined and goes to parseMime: multipart, other charsets, attachments, broken or odd headers.
 * test/ingest/plain-mime.test.ts holds it to parseMime on every fixture.
 */
const USED = new Set(["message-id", "from", "to", "cc", "date", "subject", "in-reply-to", "references", "content-type", "content-transfer-encoding", "content-disposition", "reply-to", "x-original-from"]);

const USED_FIRST = new Set([...USED].map((n) => n.charCodeAt(0)));
const USED_LENGTHS = new Set([...USED].map((n) => n.length));

/**
 * Whether the field name from `start` to `colon` could be one of USED, judged without cutting it
 * out: most of a list message's header block is Received and DKIM lines. A name ending in a blank
 * or in anything but ASCII is cut out and compared.
 */
function mayBeUsed(head: string, start: number, colon: number): boolean {
  if (!USED_FIRST.has(head.charCodeAt(start) | 0x20)) return false;
  const last = head.charCodeAt(colon - 1);
  return last <= 0x20 || last > 0x7e || USED_LENGTHS.has(colon - start);
}

const require = createRequire(import.meta.url);

/**
 * The parameters of a text/plain Content-Type: only charset, format and delsp, each once, as a
 * token or a plain quoted string; anything else (comments, escapes, RFC 2231) is mailparser's.
 */
function contentParams(text: string): Map<string, string> | undefined {
  const params = new Map<string, string>();
  const param = /^;\s*([A-Za-z-]+)\s*=\s*(?:"([\w.:-]*)"|([\w.:-]+))\s*/;
  let rest = text.trim();
  while (rest !== "") {
    const m = param.exec(rest);
    if (!m) return undefined;
    const name = m[1]!.toLowerCase();
    if (!["charset", "format", "delsp"].includes(name) || params.has(name)) return undefined;
    params.set(name, m[2] ?? m[3]!);
    rest = rest.slice(m[0].length);
  }
  return params;
}

let libmime: { decodeFlowed(input: string, delSp: boolean): string } | undefined;

/** format=flowed text unwrapped by the libmime that mailparser's FlowedDecoder uses (loaded when first needed). */
function unflow(text: string, delSp: boolean): string {
  if (!libmime) {
    const mailparser = createRequire(require.resolve("mailparser"));
    const { Libmime } = createRequire(mailparser.resolve("@zone-eu/mailsplit"))("libmime") as { Libmime: new () => NonNullable<typeof libmime> };
    libmime = new Libmime();
  }
  return libmime.decodeFlowed(text, delSp);
}

export function parsePlainMime(raw: RawMessage): MessageFields | undefined {
  const bytes = raw.bytes;
  if (bytes.length > MAX_MESSAGE_BYTES || bytes.length === 0) return undefined;
  let end = bytes.indexOf("\n\n");
  if (end < 0) return undefined;
  if ((bytes.subarray(0, end)).indexOf("\r") >= 0) return undefined; // CRLF mail: mailparser's way
  if (bytes.subarray(0, 4096).indexOf(0) >= 0) return undefined;
  const head = joinCutAddresses(bytes.subarray(0, end).toString("utf8"));
  if (!/^[!-9;-~]+:/.test(head)) return undefined;
  const headers = new Map<string, string[]>();
  for (let i = 0; i < head.length; ) {
    let stop = head.indexOf("\n", i);
    while (stop >= 0 && (head.charCodeAt(stop + 1) === 32 || head.charCodeAt(stop + 1) === 9)) stop = head.indexOf("\n", stop + 1);
    if (stop < 0) stop = head.length;
    const colon = head.indexOf(":", i);
    if (colon <= i || colon > stop) return undefined;
    const name = mayBeUsed(head, i, colon) ? head.slice(i, colon).trim().toLowerCase() : "";
    if (USED.has(name)) {
      const value = head.slice(colon + 1, stop).replace(/\n[ \t]+/g, " ").trim();
      const list = headers.get(name);
      if (list) list.push(value);
      else headers.set(name, [value]);
    }
    i = stop + 1;
  }
  const one = (name: string): string | undefined => headers.get(name)?.[0];
  // What the fast path does not do: mailparser does it. A bare `inline` disposition of a text
  // part is what no disposition means to mailparser: the part is the message's text.
  const disposition = headers.get("content-disposition");
  if (disposition && (disposition.length > 1 || disposition[0]!.toLowerCase() !== "inline")) return undefined;
  const ctValue = one("content-type");
  const type = ctValue === undefined ? undefined : /^text\/plain\s*(;.*)?$/i.exec(ctValue);
  if (type === null) return undefined;
  const params = contentParams(type?.[1] ?? "");
  if (!params) return undefined;
  const charset = params.get("charset");
  const cs = charset?.toLowerCase();
  // mailparser decodes ISO-8859-1 through iconv-lite's table, which is Latin-1 byte for byte.
  const latin1 = cs === "iso-8859-1";
  if (cs !== undefined && !latin1 && !["utf-8", "utf8", "us-ascii", "ascii"].includes(cs)) return undefined;
  const format = params.get("format")?.toLowerCase();
  const delsp = params.get("delsp")?.toLowerCase();
  if ((format !== undefined && format !== "flowed") || (delsp !== undefined && delsp !== "yes" && delsp !== "no")) return undefined;
  const cte = (one("content-transfer-encoding") ?? "7bit").toLowerCase();
  const body = bytes.subarray(end + 2);
  let decoded: Buffer;
  if (cte === "7bit" || cte === "8bit" || cte === "binary") decoded = body;
  else if (cte === "quoted-printable") decoded = decodeQuotedPrintable(body.toString("latin1"));
  else if (cte === "base64") decoded = Buffer.from(body.toString("latin1").replace(/[^a-zA-Z0-9+/=]/g, ""), "base64");
  else return undefined;
  // Unwrapped on the transfer-decoded bytes, before the charset, as mailparser's FlowedDecoder does.
  if (format === "flowed" && decoded.length > 0) decoded = Buffer.from(unflow(decoded.toString("latin1"), delsp === "yes"), "latin1");
  const dateValue = one("date");
  const date = dateValue === undefined ? undefined : new Date(dateValue);
  if (date !== undefined && Number.isNaN(date.getTime())) return undefined; // mailparser dates it "now"
  const people = (name: string): Person[] | undefined => {
    const values = headers.get(name);
    if (!values) return [];
    const list = parseAddresses(values);
    if (list.some((a) => a.group)) return undefined;
    return list.flatMap((v) => (v.address ? [{ name: v.name || v.address, email: v.address }] : []));
  };
  const from = people("from");
  const to = people("to");
  const cc = people("cc");
  const replyTo = people("reply-to");
  const originalFrom = people("x-original-from")?.[0];
  if (!from || !to || !cc || !replyTo) return undefined;
  const subject = oneLine(decodeWords(one("subject") ?? ""));
  if (!from[0] && !subject) return undefined;
  const ids = (v: string | undefined) => (v ? (v.match(/<[^<>\s]+>/g) ?? []).map((x) => x.slice(1, -1)) : []);
  const idHeader = one("message-id");
  // A `git format-patch` file has none: named from its bytes, as parseMime names it.
  const messageId = idHeader === undefined ? messageIdOf(undefined, bytes) : idHeader.replace(/^<|>$/g, "").trim();
  if (!messageId || messageId.includes("=?")) return undefined;
  const irt = one("in-reply-to");
  const refs = headers.get("references");
  if ((irt && !/^<[^<>\s]+>/.test(irt)) || refs?.some((r) => /=\?|[^\s<>][<]|>[^\s<>]/.test(r) || !/^<[^<>\s]+>(\s+<[^<>\s]+>)*$/.test(r))) return undefined;
  return {
    messageId,
    from: from[0] ?? { name: "unknown", email: "unknown@invalid" },
    to,
    cc,
    date,
    subject,
    inReplyTo: ids(irt)[0],
    references: refs ? refs.flatMap(ids) : [],
    body: decoded.toString(latin1 ? "latin1" : "utf8").replace(/\r\n?/g, "\n"),
    source: raw.source,
    ...(charset ? { charset } : {}),
    ...(originalFrom ? { originalFrom } : {}),
    ...(replyTo.length > 0 ? { replyTo } : {}),
  };
}
