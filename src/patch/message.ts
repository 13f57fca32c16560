import { parseDiff, splitBody, type FileDiff } from "./diff.js";
import { parseSubject, type Subject } from "./subject.js";
import { parseReplyTrailers, parseTrailers, type Trailer } from "./trailer.js";
import { InputError } from "../errors.js";

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
}

export type MessageKind = "patch" | "cover" | "reply" | "other";

export interface Message extends MessageFields {
  readonly kind: MessageKind;
  readonly parsedSubject: Subject;
  readonly commitMessage: string;
  readonly trailers: readonly Trailer[];
  readonly notes: string;
  readonly files: readonly FileDiff[];
  readonly baseCommit: string | undefined;
  readonly changeId: string | undefined;
}

// Mailman and mlmmj append these after the body; they are not the author's words.
const LIST_FOOTER = /\n_{20,}\n[^\n]*(mailing list|@lists\.|listinfo)[\s\S]*$/i;

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
  return body.replace(LIST_FOOTER, "\n");
}

/**
 * A decoder writes U+FFFD for bytes the declared charset cannot hold. In a diff line that means
 * the patch no longer applies as sent; in the prose it is only a misspelt name.
 */
function checkDiffEncoding(diffText: string, charset: string | undefined): void {
  const bad = diffText.split("\n").filter((l) => l.includes("\uFFFD")).length;
  if (bad > 0) {
    const lines = bad === 1 ? "1 diff line holds" : `${bad} diff lines hold`;
    throw new InputError("bad-encoding", `${lines} bytes that are not valid ${charset ?? "UTF-8"}`);
  }
}

/**
 * Turn decoded fields into a Message: split the body like `git am`, parse the diff, and decide
 * what it is. A reply is a reply even when it quotes or carries a diff: the subject says so; and
 * patch 0 is the cover letter even when it carries an interdiff, as b4 reads it.
 */
export function buildMessage(fields: MessageFields): Message {
  const body = stripListFooter(fields.body);
  const subject = parseSubject(fields.subject);
  if (subject.outOfRange && !subject.isReply) throw new InputError("too-large", subject.outOfRange);
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
