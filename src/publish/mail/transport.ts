import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTransport } from "nodemailer";
import type { Person } from "../../patch/message.js";
import type { PostKey } from "../../state/ledger.js";
import type { Draft } from "./compose.js";

/** A reply as bytes, with its envelope: what the outbox writes and SMTP sends, again if need be. */
export interface Outgoing {
  readonly key: PostKey;
  readonly fingerprints: readonly string[];
  readonly messageId: string;
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  readonly fileName: string;
  readonly raw: Buffer;
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

/**
 * Build the RFC 5322 message of a draft: plain text only, threading headers, and headers that
 * tell mail software it is automated (RFC 3834) and carry the ledger key, so a lost database
 * can be rebuilt from the mails themselves.
 */
export async function buildOutgoing(d: Draft, from: Person, date: Date = new Date()): Promise<Outgoing> {
  const info = await builder.sendMail({
    from: address(from),
    to: d.to.map(address),
    cc: d.cc.map(address),
    subject: d.subject,
    text: d.text,
    messageId: `<${d.messageId}>`,
    inReplyTo: `<${d.inReplyTo}>`,
    references: d.references.map((r) => `<${r}>`),
    date,
    headers: {
      "Auto-Submitted": "auto-generated",
      "X-Dmabuf-Review": `${d.key.what}${d.fingerprints.length > 0 ? `; findings=${d.fingerprints.join(",")}` : ""}`,
    },
  });
  const envelope = { from: from.email, to: [...d.to, ...d.cc].map((p) => p.email) };
  return {
    key: d.key,
    fingerprints: d.fingerprints,
    messageId: d.messageId,
    envelope,
    fileName: `${stamp(date)}-${d.messageId.slice(14, 22)}-${slug(d.subject)}.eml`,
    raw: eightBit(info.message as Buffer, d.text),
  };
}

export interface MailTransport {
  readonly name: "outbox" | "smtp";
  /** Deliver one message; returns where it went. Throws a TransportError when it did not. */
  deliver(o: Pick<Outgoing, "messageId" | "envelope" | "fileName" | "raw">): Promise<string>;
  close(): void;
}

export class TransportError extends Error {
  /** A permanent refusal (5xx) is not tried again; anything else is, on the next flush. */
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
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
  const smtp = createTransport({
    host: s.host,
    port: s.port,
    secure: s.secure,
    ...(s.user ? { auth: { user: s.user, pass: s.password ?? "" } } : {}),
    connectionTimeout: 30_000,
  });
  return {
    name: "smtp",
    async deliver(o) {
      try {
        const info = await smtp.sendMail({ envelope: { from: o.envelope.from, to: [...o.envelope.to] }, raw: o.raw });
        return `smtp ${s.host}:${s.port} ${info.response ?? ""}`.trim();
      } catch (err) {
        const e = err as { responseCode?: number; message: string };
        throw new TransportError(e.message, e.responseCode !== undefined && e.responseCode >= 500);
      }
    },
    close() {
      smtp.close();
    },
  };
}
