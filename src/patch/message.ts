import { parseDiff, splitBody, type FileDiff } from "./diff.js";
import { parseSubject, type Subject } from "./subject.js";
import { parseReplyTrailers, parseTrailers, type Trailer } from "./trailer.js";
import { InputError } from "../errors.js";
import type { ProseReading } from "./revision-link.js";

export interface Person {
  readonly name: string;
  readonly email: string;
}

/** The header fields and decoded text of one email, as any ingest source delivers them. */
export interface MessageFields {
  readonly messageId: string;
  readonly from: Person;
  readonly to: readonly Person[];
  readonly cc: readonly Person[];
  readonly date: Date | undefined;
  readonly subject: string;
  readonly inReplyTo: string | undefined;
  readonly references: readonly string[];
  /** Decoded text body, LF line ends, inline patch or text attachments appended. */
  readonly body: string;
  /** Where it came from: a file path, an archive commit, a forge object. */
  readonly source: string;
  /** The charset the text carrying the diff was declared in, when the source knows one. */
  readonly charset?: string;
  /** `X-Original-From:`, set by a relay that sends on the author's behalf (B4 Relay). */
  readonly originalFrom?: Person;
  /** `Reply-To:`, when the message has one. */
  readonly replyTo?: readonly Person[];
}

export type MessageKind = "patch" | "cover" | "reply" | "other";

export interface Message extends MessageFields {
  /** The author: for a relayed message, the person the relay sent it for, not the relay. */
  readonly from: Person;
  /** The relay's own From when a relay sent the message on the author's behalf. */
  readonly relayedBy?: Person;
  readonly kind: MessageKind;
  readonly parsedSubject: Subject;
  readonly commitMessage: string;
  readonly trailers: readonly Trailer[];
  readonly notes: string;
  readonly files: readonly FileDiff[];
  readonly baseCommit: string | undefined;
  readonly changeId: string | undefined;
  /** An outline's reading of the commit message and notes it leaves out (ingest/outline.ts); absent on a whole message. */
  readonly prose?: ProseReading;
}

// Mailman and mlmmj append these after the body; they are not the author's words.
const LIST_FOOTER = /\n_{20,}\n[^\n]*(mailing list|@lists\.|listinfo)[\s\S]*$/i;
/** What every such footer starts with: the body is searched for it before the pattern is tried. */
const FOOTER_RULE = `\n${"_".repeat(20)}`;

/**
 * A reply's diff, if any, is never reviewed; neither is a cover letter's interdiff. A cut-off one
 * must not make the message unreadable.
 */
function splitLenient(body: string) {
  try {
    return splitBody(body);
  } catch {
    return { commitMessage: body, notes: "", diffText: "", baseCommit: undefined, changeId: undefined, tail: "" };
  }
}

export function stripListFooter(body: string): string {
  return body.includes(FOOTER_RULE) ? body.replace(LIST_FOOTER, "\n") : body;
}

/**
 * A decoder writes U+FFFD for bytes the declared charset cannot hold. In a diff line that means
 * the patch no longer applies as sent; in the prose it is only a misspelt name.
 */
function checkDiffEncoding(diffText: string, charset: string | undefined): void {
  if (!diffText.includes("\uFFFD")) return;
  const bad = diffText.split("\n").filter((l) => l.includes("\uFFFD")).length;
  if (bad > 0) {
    const lines = bad === 1 ? "1 diff line holds" : `${bad} diff lines hold`;
    throw new InputError("bad-encoding", `${lines} bytes that are not valid ${charset ?? "UTF-8"}`);
  }
}

// B4 Relay sends for authors whose own mail server will not: "Name via B4 Relay
// <devnull+local.domain@kernel.org>". Nobody reads devnull; the author is in X-Original-From
// and Reply-To, and in the in-body From: line b4 adds for git am.
const RELAY_ADDRESS = /^devnull\+[^@]+@kernel\.org$/i;
const RELAY_NAME = /\s+via B4 Relay$/i;
const IN_BODY_FROM = /^From:[ \t]*(.*?)[ \t]*<([^<>\s]+@[^<>\s]+)>[ \t]*\n(?:[ \t]*\n)?/;

function isRelayed(from: Person): boolean {
  return RELAY_ADDRESS.test(from.email) || RELAY_NAME.test(from.name);
}

/**
 * Who wrote a message: its From, unless a relay sent it; then X-Original-From, else the one
 * Reply-To address, else the in-body From: line; failing all three, the relay's name without
 * " via B4 Relay" (and its address). Shared with triage, which must file it under the same author.
 */
export function authorOf(from: Person, originalFrom: Person | undefined, replyTo: readonly Person[], inBody: Person | undefined): Person {
  if (!isRelayed(from)) return from;
  if (originalFrom) return originalFrom;
  if (replyTo.length === 1) {
    const r = replyTo[0]!;
    // A bare Reply-To address takes the name the relay shows.
    return r.name && r.name !== r.email ? r : { name: from.name.replace(RELAY_NAME, ""), email: r.email };
  }
  return inBody ?? { name: from.name.replace(RELAY_NAME, ""), email: from.email };
}

/** The author named by a `From:` line opening a patch's body, as git am reads it. */
export function inBodyFrom(body: string): Person | undefined {
  const m = IN_BODY_FROM.exec(body);
  return m ? { name: m[1]!.replace(/^"|"$/g, "") || m[2]!, email: m[2]! } : undefined;
}

/**
 * git am takes the author from a `From:` line opening the body (b4 writes one when the sender
 * is not the author) and leaves it out of the commit message. A reply's first line is prose.
 */
function splitInBodyFrom(body: string): { body: string; author: Person | undefined } {
  const m = IN_BODY_FROM.exec(body);
  return m ? { body: body.slice(m[0].length), author: inBodyFrom(body) } : { body, author: undefined };
}

/**
 * Turn decoded fields into a Message: split the body like `git am`, parse the diff, and decide
 * what it is. A reply is a reply even when it quotes or carries a diff: the subject says so; and
 * patch 0 is the cover letter even when it carries an interdiff, as b4 reads it.
 */
export function buildMessage(fields: MessageFields): Message {
  const subject = parseSubject(fields.subject);
  if (subject.outOfRange && !subject.isReply) throw new InputError("too-large", subject.outOfRange);
  const inBody = subject.isReply ? { body: fields.body, author: undefined } : splitInBodyFrom(fields.body);
  const body = stripListFooter(inBody.body);
  const author = authorOf(fields.from, fields.originalFrom, fields.replyTo ?? [], inBody.author);
  const isCover = !subject.isReply && subject.isPatch && subject.index === 0;
  const lenient = subject.isReply || isCover;
  const parts = lenient ? splitLenient(body) : splitBody(body);
  if (!lenient && parts.diffText) checkDiffEncoding(parts.diffText, fields.charset);
  const files = lenient || !parts.diffText ? [] : parseDiff(parts.diffText);
  let kind: MessageKind;
  if (subject.isReply) kind = "reply";
  else if (isCover) kind = "cover";
  else if (files.length > 0) kind = "patch";
  else if (fields.inReplyTo) kind = "reply";
  else kind = "other";
  if (kind === "patch" && files.every((f) => f.status === "binary")) {
    throw new InputError("binary-diff", `every file in the diff is binary (${files.map((f) => f.path).join(", ")})`);
  }
  const trailers = kind === "reply" ? parseReplyTrailers(body) : parseTrailers(parts.commitMessage);
  return {
    ...fields,
    ...(author !== fields.from ? { from: author, relayedBy: fields.from } : {}),
    body,
    kind,
    parsedSubject: subject,
    commitMessage: kind === "reply" ? body : parts.commitMessage,
    trailers,
    notes: parts.notes,
    files: kind === "reply" ? [] : files,
    baseCommit: parts.baseCommit,
    changeId: parts.changeId,
  };
}
