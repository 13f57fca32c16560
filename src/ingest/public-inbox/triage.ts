import { isAscii } from "node:buffer";
import { MAX_MESSAGE_BYTES, type InputReason } from "../../errors.js";
import { areaOfPath, isCSource, USERSPACE_DMA_BUF_MARKER } from "../../analysis/vocabulary.js";
import { authorOf, inBodyFrom, type MessageKind } from "../../patch/message.js";
import { oneLine, parseSubject } from "../../patch/subject.js";
import { bareId, messageIdOf } from "../message-id.js";
import { brokenMultipart, decodeQuotedPrintable, decodeWords } from "../mime-text.js";
import { hasOptOutLine, htmlText, mayHoldOptOut } from "./opt-out.js";

/**
 * What the archive loop needs to know about every message, decided on decoded text but without
 * mailparser: threading headers, what kind of message it is, and whether a patch could touch
 * the dma-buf surface. Most of a list like dri-devel is not about dma-buf; mailparser reads
 * about 1,500 real messages a second, this about thirty times that. Messages that matter are
 * read again for the review itself by the one decode path (ingest/decode.ts): two readers, as
 * reading every message the full way would cost a backfill thirty times the time.
 */
export interface Triaged {
  readonly messageId: string;
  /** Sender address, lower case. */
  readonly from: string;
  readonly subject: string;
  readonly date: Date | undefined;
  readonly inReplyTo: string | undefined;
  readonly references: readonly string[];
  readonly kind: MessageKind;
  readonly revision: number;
  readonly index: number | undefined;
  readonly total: number | undefined;
  /** A patch whose diff could touch the dma-buf surface (a superset of what the review keeps). */
  readonly relevant: boolean;
  /** A line `dmabuf-review: opt-out` of its own, outside quotes, in any case (opt-out.ts). */
  readonly optOut: boolean;
}

export type TriageResult =
  | { readonly ok: true; readonly value: Triaged }
  | { readonly ok: false; readonly reason: InputReason; readonly detail: string; readonly messageId: string | undefined };

// Triage runs on every message of an archive, so these two look at the bytes where a string of
// them would be made only to be searched once.

/** A header field name (printable ASCII but ':') and its colon, within the first 4 KB. */
function startsWithHeaderLine(bytes: Buffer): boolean {
  const n = Math.min(bytes.length, 4096);
  let i = 0;
  while (i < n && bytes[i]! >= 0x21 && bytes[i]! <= 0x7e && bytes[i] !== 0x3a) i++;
  return i > 0 && i < n && bytes[i] === 0x3a;
}

/** How long the blank line at `at` is: "\n\n", "\r\n\r\n" and the mixed forms; 0 if there is none. */
function blankLineLength(bytes: Buffer, at: number): number {
  let i = at;
  for (let line = 0; line < 2; line++) {
    if (bytes[i] === 13) i++;
    if (bytes[i] !== 10) return 0;
    i++;
  }
  return i - at;
}

interface Headers {
  readonly map: Map<string, string>;
}

// Only the headers triage reads: a list archive's header block is mostly Received and DKIM
// lines, so each line is looked at by its first letter before anything else is done with it.
const WANTED = new Set(["message-id", "in-reply-to", "references", "subject", "from", "date", "content-type", "content-transfer-encoding", "reply-to", "x-original-from"]);
const FIRST = new Set(["m", "i", "r", "s", "f", "d", "c", "x"].map((c) => c.charCodeAt(0)));
const WANTED_LENGTHS = new Set([...WANTED].map((n) => n.length));

/** Whether the field name ending at `colon` could be wanted, judged without cutting it out. */
function maybeWanted(block: string, start: number, colon: number): boolean {
  // Anything but printable ASCII before the colon ("Subject :") is left to the slow path.
  const c = block.charCodeAt(colon - 1);
  return c < 0x21 || c > 0x7e || WANTED_LENGTHS.has(colon - start);
}

function parseHeaders(block: string): Headers {
  const map = new Map<string, string>();
  const n = block.length;
  let i = 0;
  while (i < n) {
    let end = block.indexOf("\n", i);
    if (end < 0) end = n;
    let stop = end; // a folded header goes on while lines start with a space or a tab
    while (stop < n && (block.charCodeAt(stop + 1) === 32 || block.charCodeAt(stop + 1) === 9)) {
      const next = block.indexOf("\n", stop + 1);
      stop = next < 0 ? n : next;
    }
    if (FIRST.has(block.charCodeAt(i) | 0x20)) {
      const colon = block.indexOf(":", i);
      if (colon > i && colon < end && maybeWanted(block, i, colon)) {
        const name = block.slice(i, colon).trim().toLowerCase();
        if (WANTED.has(name)) {
          const value = block.slice(colon + 1, stop).replace(/\r?\n[ \t]+/g, " ").trim();
          // The first of a repeated header, as mailparser and mail clients read it; mailparser
          // joins repeated References.
          if (!map.has(name)) map.set(name, value);
          else if (name === "references") map.set(name, `${map.get(name)} ${value}`);
        }
      }
    }
    i = stop + 1;
  }
  return { map };
}

const bracketed = (v: string) => `${v.startsWith("<") ? "" : "<"}${v}${v.endsWith(">") ? "" : ">"}`;

/** References as mailparser and ingest/mime.ts read them: per token, without brackets, no empty `<>`. */
function idList(value: string | undefined): string[] {
  if (!value) return [];
  return decodeWords(value)
    .split(/\s+/)
    .filter(Boolean)
    .flatMap((t) => bracketed(t).match(/<[^<>\s]+>/g) ?? [bracketed(t)])
    .map(bareId)
    .filter(Boolean);
}

/** In-Reply-To as ingest/mime.ts reads it: the first `<id>` of the whole value; `<>` alone is none. */
function inReplyToOf(value: string | undefined): string | undefined {
  const v = value ? decodeWords(value).trim() : "";
  if (!v) return undefined;
  const b = bracketed(v);
  return bareId((b.match(/<[^<>\s]+>/g) ?? [b])[0]!) || undefined;
}

/** Message-ID as ingest/mime.ts keeps it: the whole value without its outer brackets. */
function bareMessageId(value: string | undefined): string | undefined {
  const v = value ? decodeWords(value).trim() : "";
  return v ? bareId(v) : undefined;
}

function contentType(value: string | undefined): { type: string; params: Record<string, string> } {
  if (!value) return { type: "text/plain", params: {} };
  const semi = value.indexOf(";");
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  const params: Record<string, string> = {};
  const re = /;\s*([\w.*-]+)\s*=\s*(?:"([^"]*)"|([^;\s]*))/g;
  for (let m = re.exec(value); m; m = re.exec(value)) params[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? "";
  return { type, params };
}

function splitHeader(text: string): { head: string; body: string } {
  const m = /\r?\n\r?\n/.exec(text);
  if (!m) return { head: text, body: "" };
  return { head: text.slice(0, m.index), body: text.slice(m.index + m[0].length) };
}

function decodeBody(body: string, encoding: string | undefined): string {
  const enc = (encoding ?? "").trim().toLowerCase();
  if (enc === "base64") return Buffer.from(body, "base64").toString("latin1"); // Node skips what is not base64
  // Bytes as latin1 characters, as everywhere in triage.
  if (enc === "quoted-printable") return decodeQuotedPrintable(body).toString("latin1");
  return body;
}

/**
 * The decoded text of every text part (HTML aside), in latin1 so that every byte survives: what
 * triage looks at is ASCII (paths, identifiers, `diff --git`), whatever the charset. With
 * `html`, HTML parts are read too, as text (for an HTML-only mail's opt-out line).
 */
function textOf(headers: Headers, body: string, depth: number, html = false): string {
  const ct = contentType(headers.map.get("content-type"));
  if (ct.type.startsWith("multipart/")) {
    const boundary = ct.params["boundary"];
    if (!boundary || depth > 4) return "";
    const parts = `\n${body}`.split(`\n--${boundary}`).slice(1);
    const out: string[] = [];
    for (const part of parts) {
      if (part.startsWith("--")) break;
      const p = splitHeader(part.replace(/^[^\n]*\n/, ""));
      const t = textOf(parseHeaders(p.head), p.body, depth + 1, html);
      if (t) out.push(t);
    }
    return out.join("\n");
  }
  if (ct.type.startsWith("text/") && ct.type !== "text/html") return decodeBody(body, headers.map.get("content-transfer-encoding"));
  if (html && ct.type === "text/html") return htmlText(decodeBody(body, headers.map.get("content-transfer-encoding")));
  return "";
}

const DIFF = /^diff --git a\/|^--- (?:a\/|\/dev\/null)[^\n]*\r?\n\+\+\+ (?:b\/|\/dev\/null)/m;
const FILE_START = /^(?:diff --git a\/(\S+) b\/(\S+)|--- (?:a\/(\S+)|\/dev\/null)[^\n]*\r?\n\+\+\+ (?:b\/(\S+)|\/dev\/null))/gm;
// C code outside the known dma-buf paths can still be in scope: an exporter driver names
// dma_buf, a gate or a flag names coherency, a GEM driver calls the PRIME helpers.
const KERNEL_MARKER = /dma_buf|dmabuf|DMA_BUF_|drm_gem_prime_|drm_gem_dmabuf_|coheren/;

/**
 * Whether one file of a diff could be in scope: the rules of analysis/touch.ts `classifyFile`
 * loosened to text search. Its path alone (dma-buf core, heaps, PRIME, vb2, ...); or C code
 * that names the dma-buf surface; or userspace code that handles dma-buf fds. Anything else
 * (device trees, Kconfig, other C) is never in scope.
 */
function relevantFile(path: string, text: string): boolean {
  const area = areaOfPath(path);
  if (area === "documentation") return /dma-buf|dma_buf|dmabuf|dma-heap/.test(path);
  if (area === "userspace") return USERSPACE_DMA_BUF_MARKER.test(text);
  if (area !== "other") return true;
  return isCSource(path) && KERNEL_MARKER.test(text);
}

/** True when some file of the diff could touch the dma-buf surface (a superset of the review's scope). */
export function isRelevantDiff(diffText: string): boolean {
  const re = FILE_START;
  re.lastIndex = 0;
  let m = re.exec(diffText);
  while (m) {
    const at = m.index;
    const path = m[2] ?? m[1] ?? m[4] ?? m[3];
    m = re.exec(diffText);
    if (path && relevantFile(path, diffText.slice(at, m ? m.index : diffText.length))) return true;
  }
  return false;
}

// Needles as bytes: a string needle is encoded again on every search, for every message.
const BLANK_LINE = Buffer.from("\n\n", "latin1");
const CRLF_BLANK_LINE = Buffer.from("\r\n\r\n", "latin1");

/**
 * A copy of `s` that does not keep the string it was cut from alive. Cut from the header block,
 * a Message-ID held for a page of 2,000 messages holds the whole block: in a 100k backfill that
 * doubled what the young generation copied and promoted (130 MB to 254 MB).
 */
function own(s: string): string {
  return s.length < 13 ? s : (` ${s}`).slice(1);
}

/**
 * Decide what a raw archive message is. The same limits and the same reasons as
 * ingest/mime.ts, checked before anything is decoded.
 */
export function triage(bytes: Buffer): TriageResult {
  if (bytes.length > MAX_MESSAGE_BYTES) return { ok: false, reason: "too-large", detail: `${bytes.length} bytes, limit ${MAX_MESSAGE_BYTES}`, messageId: undefined };
  if (bytes.subarray(0, 4096).indexOf(0) >= 0) return { ok: false, reason: "not-a-patch", detail: "binary data, not a mail message", messageId: undefined };
  if (!startsWithHeaderLine(bytes)) return { ok: false, reason: "not-a-patch", detail: "not a mail message: it does not start with a header line", messageId: undefined };
  let end = bytes.indexOf(BLANK_LINE);
  // A CRLF message's blank line comes first; only the header part is searched for it.
  const crlf = (end < 0 ? bytes : bytes.subarray(0, end)).indexOf(CRLF_BLANK_LINE);
  if (crlf >= 0) end = crlf;
  const headBytes = end < 0 ? bytes : bytes.subarray(0, end);
  // Most header blocks are ASCII (non-ASCII is in encoded words), where latin1 reads the same
  // text without UTF-8 decoding.
  let head = isAscii(headBytes) ? headBytes.toString("latin1") : headBytes.toString("utf8");
  if (head.includes("\uFFFD")) head = headBytes.toString("latin1");
  const headers = parseHeaders(head);
  const h = headers.map;
  const rawId = bareMessageId(h.get("message-id"));
  const messageId = messageIdOf(rawId, bytes);
  const addressOf = (value: string) => (/<([^<>\s]+@[^<>\s]+)>/.exec(value)?.[1] ?? /[^\s<>"(),;]+@[^\s<>"(),;]+/.exec(value)?.[0] ?? "").toLowerCase();
  const fromValue = decodeWords(h.get("from") ?? "");
  let from = addressOf(fromValue);
  const subject = oneLine(decodeWords(h.get("subject") ?? ""));
  if (!from && !subject) return { ok: false, reason: "not-a-patch", detail: "not a mail message: no From and no Subject header", messageId };
  const ct = contentType(h.get("content-type"));
  const broken = brokenMultipart(ct.type, ct.params["boundary"], bytes);
  if (broken) return { ok: false, reason: "malformed-mime", detail: broken, messageId };
  const s = parseSubject(subject);
  // A reply quoting such a subject is harmless; a patch claiming a slot in it is refused.
  if (s.outOfRange && !s.isReply) return { ok: false, reason: "too-large", detail: s.outOfRange, messageId };
  const inReplyTo = inReplyToOf(h.get("in-reply-to"));
  const isCover = !s.isReply && s.isPatch && s.index === 0;
  // The subject alone says "reply" or "cover letter" for most of a list; their bodies are then
  // decoded only when they could hold an opt-out (src/ingest/public-inbox/opt-out.ts).
  const decided = s.isReply || isCover;
  let bodyText: string | undefined;
  const body = () => (bodyText ??= end >= 0 ? bytes.toString("latin1", end + blankLineLength(bytes, end)) : "");
  let may: boolean | undefined;
  const mayOptOut = () => (may ??= end >= 0 && mayHoldOptOut(bytes, ct.type, body));
  const text = end >= 0 && (!decided || mayOptOut()) ? textOf(headers, body(), 0) : "";
  const diffAt = !decided && (text.includes("\n+++ ") || text.includes("diff --git a/")) ? text.search(DIFF) : -1;
  const kind: MessageKind = s.isReply ? "reply" : isCover ? "cover" : diffAt >= 0 ? "patch" : inReplyTo ? "reply" : "other";
  // A B4 Relay message is filed under its author, as the review reads it (patch/message.ts).
  if (from.startsWith("devnull+") || fromValue.includes(" via B4 Relay")) {
    const person = (value: string | undefined) => (value && addressOf(value) ? { name: "", email: addressOf(value) } : undefined);
    const replyTo = h.get("reply-to")?.split(",").flatMap((v) => person(v) ?? []) ?? [];
    const relay = { name: fromValue.replace(/\s*<[^>]*>\s*$/, "").replace(/^"|"$/g, ""), email: from };
    from = authorOf(relay, person(h.get("x-original-from")), replyTo, s.isReply ? undefined : inBodyFrom(text)).email.toLowerCase();
  }
  const dateValue = h.get("date");
  const date = dateValue ? new Date(dateValue) : undefined;
  return {
    ok: true,
    value: {
      messageId: own(messageId),
      from: own(from),
      subject: own(subject),
      date: date && !Number.isNaN(date.getTime()) ? date : undefined,
      inReplyTo: inReplyTo === undefined ? undefined : own(inReplyTo),
      references: idList(h.get("references")).map(own),
      kind,
      revision: s.revision,
      index: s.index,
      total: s.total,
      relevant: kind === "patch" && isRelevantDiff(text.slice(diffAt)),
      // An HTML-only mail has no plain text: its HTML is read for the line.
      optOut: kind !== "patch" && mayOptOut() && hasOptOutLine(text.trim() ? text : textOf(headers, body(), 0, true)),
    },
  };
}
