import { createRequire } from "node:module";
import type { EmailAddress } from "mailparser";
import { MAX_MESSAGE_BYTES } from "../errors.js";
import type { MessageFields, Person } from "../patch/message.js";
import { oneLine } from "../patch/subject.js";
import { joinCutAddresses } from "./address-fold.js";
import type { RawMessage } from "./mbox/reader.js";
import { messageIdOf } from "./message-id.js";
import { decodeQuotedPrintable, decodeWords } from "./mime-text.js";

/**
 * The common case of list mail read without mailparser's stream machinery: one text/plain part
 * in UTF-8 or US-ASCII, 7bit, 8bit, quoted-printable or base64, not format=flowed. It gives the
 * same fields as ingest/mime.ts (`parseMime`) for such a message, decoded the way mailparser
 * decodes it (libqp's trailing-space rule, libbase64's alphabet, addresses through mailparser's
 * own parseAddressHeader), about twenty times faster. Anything else returns undefined and goes
 * to parseMime: multipart, other charsets, flowed text, attachments, broken or odd headers.
 * test/ingest/plain-mime.test.ts holds it to parseMime on every fixture.
 */
const USED = new Set(["message-id", "from", "to", "cc", "date", "subject", "in-reply-to", "references", "content-type", "content-transfer-encoding", "content-disposition", "reply-to", "x-original-from"]);

const require = createRequire(import.meta.url);
let addressparser: ((value: string, options: { flatten: boolean }) => EmailAddress[]) | undefined;

/**
 * mailparser's parseAddressHeader: addressparser from mailparser's own nodemailer, then a decoding
 * that changes only encoded words (`=?`) and `xn--` domains. Without those, addressparser alone gives
 * the same addresses and spares loading mailparser, libmime and iconv-lite for a plain patch.
 */
function parseAddresses(values: readonly string[]): EmailAddress[] {
  if (values.some((v) => v.includes("=?") || v.includes("\0") || /xn--/i.test(v))) {
    return (require("mailparser") as typeof import("mailparser")).parseAddressHeader([...values]).value;
  }
  addressparser ??= createRequire(require.resolve("mailparser"))("nodemailer/lib/addressparser") as typeof addressparser;
  return values.flatMap((v) => (v ? addressparser!(v, { flatten: false }) : [])).map((a) => ({ ...a, name: (a.name || "").toString().trim() }));
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
    const name = head.slice(i, colon).trim().toLowerCase();
    if (USED.has(name)) {
      const value = head.slice(colon + 1, stop).replace(/\n[ \t]+/g, " ").trim();
      const list = headers.get(name);
      if (list) list.push(value);
      else headers.set(name, [value]);
    }
    i = stop + 1;
  }
  const one = (name: string): string | undefined => headers.get(name)?.[0];
  // What the fast path does not do: mailparser does it.
  if (headers.has("content-disposition")) return undefined;
  const ctValue = one("content-type");
  let charset: string | undefined;
  if (ctValue !== undefined) {
    const m = /^text\/plain\s*(;.*)?$/i.exec(ctValue);
    if (!m) return undefined;
    const params = m[1] ?? "";
    if (/format\s*=/i.test(params) || /\(/.test(params)) return undefined;
    const cs = /;\s*charset\s*=\s*"?([\w.:-]+)"?\s*(;|$)/i.exec(params)?.[1];
    if (params.replace(/;\s*charset\s*=\s*"?[\w.:-]+"?\s*/i, "").trim() !== "") return undefined;
    if (cs !== undefined && !["utf-8", "utf8", "us-ascii", "ascii"].includes(cs.toLowerCase())) return undefined;
    charset = cs;
  }
  const cte = (one("content-transfer-encoding") ?? "7bit").toLowerCase();
  const body = bytes.subarray(end + 2);
  let decoded: Buffer;
  if (cte === "7bit" || cte === "8bit" || cte === "binary") decoded = body;
  else if (cte === "quoted-printable") decoded = decodeQuotedPrintable(body.toString("latin1"));
  else if (cte === "base64") decoded = Buffer.from(body.toString("latin1").replace(/[^a-zA-Z0-9+/=]/g, ""), "base64");
  else return undefined;
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
    body: decoded.toString("utf8").replace(/\r\n?/g, "\n"),
    source: raw.source,
    ...(charset ? { charset } : {}),
    ...(originalFrom ? { originalFrom } : {}),
    ...(replyTo.length > 0 ? { replyTo } : {}),
  };
}
