import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTransport } from "nodemailer";
import type { Person } from "../../patch/message.js";
import type { FailureKind, FailureScope, PostKey } from "../../state/ledger.js";
import type { Draft } from "./compose.js";
import { capRecipients } from "./limits.js";

/** A reply as bytes, with its envelope: what the outbox writes and SMTP sends, again if need be. */
export interface Outgoing {
  readonly key: PostKey;
  /** The series across revisions: its findings are recorded under it too (policy.ts). */
  readonly lineage?: string;
  /** The key of the list's daily cap. */
  readonly list?: string;
  readonly fingerprints: readonly string[];
  readonly messageId: string;
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  readonly fileName: string;
  readonly raw: Buffer;
  /** Addresses the hard recipient cap left out (MAX_RECIPIENTS). */
  readonly leftOut: number;
}

const address = (p: Person) => ({ name: p.name === p.email ? "" : p.name, address: p.email });

function slug(subject: string): string {
  return subject
    .replace(/^Re:\s*/i, "")
    .replace(/[^A-Za-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .toLowerCase();
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

// nodemailer's stream transport builds the message without sending it: the same bytes then go
// to the outbox or to SMTP, and are stored so that a resend is byte for byte the same.
const builder = createTransport({ streamTransport: true, buffer: true, newline: "unix" });

/**
 * Kernel lists read 8bit plain text, as git send-email writes it; nodemailer picks
 * quoted-printable for any non-ASCII name or any quoted code line over 76 columns, which makes
 * the .eml unreadable to a human and quoted code hard to copy. Its headers are kept, the body
 * is put back as written.
 */
function eightBit(raw: Buffer, text: string): Buffer {
  const s = raw.toString("utf8");
  const end = s.indexOf("\n\n");
  const head = s.slice(0, end);
  if (end < 0 || !/^Content-Transfer-Encoding: (quoted-printable|base64)$/im.test(head)) return raw;
  return Buffer.from(`${head.replace(/^Content-Transfer-Encoding: .*$/im, "Content-Transfer-Encoding: 8bit")}\n\n${text.endsWith("\n") ? text : `${text}\n`}`, "utf8");
}

/** The width of every line the bot writes: kernel lists read mail at 72 columns. */
export const MAIL_WIDTH = 72;

/**
 * Every line the bot wrote kept within 72 columns, whatever rendered it (a tracker's table
 * rows and evidence run past 160): a longer line is wrapped at blanks, its continuation
 * indented two more. Quoted lines ("> ...") are the patch as sent and stay as they are, as a
 * reviewer quotes them; so does a single word longer than the width (a URL).
 */
export function fitWidth(text: string): string {
  return text
    .split("\n")
    .flatMap((line) => {
      if (line.length <= MAIL_WIDTH || line.startsWith(">")) return [line];
      const indent = /^\s*/.exec(line)![0];
      const words = line.slice(indent.length).split(/ +/);
      const out: string[] = [];
      let cur = indent;
      for (const w of words) {
        if (cur.trim() !== "" && cur.length + 1 + w.length > MAIL_WIDTH) {
          out.push(cur);
          cur = `${indent}  ${w}`;
        } else cur = cur.trim() === "" ? `${indent}${w}` : `${cur} ${w}`;
      }
      out.push(cur);
      return out;
    })
    .join("\n");
}

/**
 * A plain ASCII subject as git send-email writes it: not encoded (nodemailer encodes a whole
 * subject for a single double quote in it), folded at blanks before 78 columns.
 */
function plainSubject(subject: string): string | undefined {
  if (!/^[\x20-\x7e]*$/.test(subject)) return undefined;
  const words = subject.split(" ");
  const lines: string[] = [];
  let cur = "";
  for (const w of words) {
    const width = (lines.length === 0 ? "Subject: ".length : 1) + cur.length + 1 + w.length;
    if (cur !== "" && width > 78) {
      lines.push(cur);
      cur = w;
    } else cur = cur === "" ? w : `${cur} ${w}`;
  }
  lines.push(cur);
  return lines.join("\n ");
}

/**
 * Build the RFC 5322 message of a draft: plain text only, threading headers, and headers that
 * tell mail software it is automated (RFC 3834) and carry the ledger key, so a lost database
 * can be rebuilt from the mails themselves.
 */
export async function buildOutgoing(d: Draft, from: Person, date: Date = new Date()): Promise<Outgoing> {
  // The last gate before bytes: whoever drafted the mail, it never goes to the bot itself nor
  // to more than the hard cap of addresses.
  const { to, cc, leftOut } = capRecipients(d.to, d.cc, from.email);
  const text = fitWidth(d.text);
  const subject = plainSubject(d.subject);
  const info = await builder.sendMail({
    from: address(from),
    to: to.map(address),
    cc: cc.map(address),
    ...(subject === undefined ? { subject: d.subject } : {}),
    text,
    messageId: `<${d.messageId}>`,
    inReplyTo: `<${d.inReplyTo}>`,
    references: d.references.map((r) => `<${r}>`),
    date,
    headers: {
      ...(subject === undefined ? {} : { Subject: { prepared: true, value: subject } }),
      "Auto-Submitted": "auto-generated",
      "X-Dmabuf-Review": `${d.key.what}${d.fingerprints.length > 0 ? `; findings=${d.fingerprints.join(",")}` : ""}`,
    },
  });
  const envelope = { from: from.email, to: [...to, ...cc].map((p) => p.email) };
  return {
    key: d.key,
    ...(d.lineage ? { lineage: d.lineage } : {}),
    ...(d.list ? { list: d.list } : {}),
    fingerprints: d.fingerprints,
    messageId: d.messageId,
    envelope,
    fileName: `${stamp(date)}-${d.messageId.slice(14, 22)}-${slug(d.subject)}.eml`,
    raw: eightBit(info.message as Buffer, text),
    leftOut,
  };
}

export interface MailTransport {
  readonly name: "outbox" | "smtp";
  /** Deliver one message; returns where it went. Throws a TransportError when it did not. */
  deliver(o: Pick<Outgoing, "messageId" | "envelope" | "fileName" | "raw">): Promise<string>;
  close(): void;
}

/** A delivery that did not happen, and whether, when and for what it may be tried again. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
    readonly scope: FailureScope,
  ) {
    super(message);
  }
}

/** What nodemailer puts on the errors it gives. */
interface SmtpErrorFields {
  readonly message: string;
  readonly code?: string;
  /** The system or OpenSSL code under nodemailer's own (ECONNREFUSED, ERR_SSL_WRONG_VERSION_NUMBER, CERT_HAS_EXPIRED). */
  readonly originalCode?: string;
  readonly responseCode?: number;
  /** The SMTP command the server answered: "CONN", "EHLO", "AUTH PLAIN", "MAIL FROM", "RCPT TO", "DATA", or "API". */
  readonly command?: string;
  readonly response?: string;
}

// Errors about the bot's own account or connection settings: no message would go through.
const CONFIGURATION_CODES = new Set(["EAUTH", "ENOAUTH", "EOAUTH2", "ETLS", "EREQUIRETLS", "ECONFIG", "EPROXY"]);
// TLS that cannot work with these settings: implicit TLS on a plain port, a certificate refused.
const TLS_FAILURE = /^ERR_SSL_|^ERR_TLS_|CERT|SIGNATURE/;

/**
 * Classify an SMTP failure. Only a refusal about this message or its recipients (550 mailbox
 * unavailable, 552 too large, 554 content rejected, at RCPT TO or DATA) is final. A refused
 * login, TLS or a sender the server will not take (5xx before RCPT TO) is configuration: every
 * mail would fail alike until the operator acts, so none is given up. The rest (no answer, a
 * 4xx) is temporary; a 4xx to one recipient or one message (greylisting) holds only that mail.
 */
export function classifySmtpError(e: SmtpErrorFields): TransportError {
  const code = e.responseCode;
  const command = (e.command ?? "").toUpperCase();
  const aboutMessage = command === "RCPT TO" || command === "DATA";
  const make = (kind: FailureKind, scope: FailureScope) => new TransportError(e.message, kind, scope);
  if (e.code && CONFIGURATION_CODES.has(e.code)) return make("configuration", "server");
  if (e.originalCode && TLS_FAILURE.test(e.originalCode)) return make("configuration", "server");
  // Our own envelope is one no server will take (an address nodemailer cannot send to).
  if (e.code === "EENVELOPE" && command === "API") return make("final", "message");
  if (code === undefined || !Number.isFinite(code) || code < 400) return make("temporary", "server");
  if (code < 500) return make("temporary", aboutMessage && code !== 421 ? "message" : "server");
  // "Relay access denied" / "authentication required" at RCPT TO is the bot not logged in.
  const notLoggedIn = code === 530 || /\brelay|authenticat/i.test(e.response ?? e.message);
  if (aboutMessage && notLoggedIn) return make("configuration", "server");
  if (aboutMessage) return make("final", "message");
  // A SIZE the server refuses at MAIL FROM is about this message.
  if (command === "MAIL FROM" && code === 552) return make("final", "message");
  return make("configuration", "server");
}

/**
 * The default delivery: one .eml file per reply in a directory a human can read, check and
 * send. Written to a temporary name and renamed, so a crash never leaves half a mail, and a
 * resend after a crash replaces the same file.
 */
export function outboxTransport(dir: string): MailTransport {
  return {
    name: "outbox",
    async deliver(o) {
      await mkdir(dir, { recursive: true });
      const path = join(dir, o.fileName);
      const tmp = join(dir, `.${o.fileName}.tmp`);
      await writeFile(tmp, o.raw);
      await rename(tmp, path);
      return path;
    },
    close() {},
  };
}

export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly user: string | undefined;
  readonly password: string | undefined;
}

/** Delivery through an SMTP server with nodemailer, sending the stored bytes unchanged. */
export function smtpTransport(s: SmtpSettings): MailTransport {
  // One pooled connection: a round of replies is one login, not one per mail (providers limit
  // logins), and a burst costs a few ms a mail instead of a connection each.
  const smtp = createTransport({
    pool: true,
    maxConnections: 1,
    host: s.host,
    port: s.port,
    secure: s.secure,
    ...(s.user ? { auth: { user: s.user, pass: s.password ?? "" } } : {}),
    connectionTimeout: 30_000,
  });
  return {
    name: "smtp",
    async deliver(o) {
      let info: { response?: string; rejected?: unknown[] };
      try {
        info = await smtp.sendMail({ envelope: { from: o.envelope.from, to: [...o.envelope.to] }, raw: o.raw });
      } catch (err) {
        throw classifySmtpError(err as SmtpErrorFields);
      }
      // Some recipients refused, the rest took it: delivered, and said where it did not go.
      const refused = (info.rejected ?? []).map(String);
      const where = `smtp ${s.host}:${s.port} ${info.response ?? ""}`.trim();
      return refused.length > 0 ? `${where}; refused by ${refused.join(", ")}` : where;
    },
    close() {
      smtp.close();
    },
  };
}
