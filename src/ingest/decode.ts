import { createHash } from "node:crypto";
import { InputError, type InputReason } from "../errors.js";
import { keyMessage } from "../patch/content-key.js";
import { buildMessage, type Message, type MessageFields } from "../patch/message.js";
import type { Skip } from "../review/review.js";
import { plainDiffFields } from "./mbox/plain-diff.js";
import type { RawMessage } from "./mbox/reader.js";
import { parseMime } from "./mime.js";
import { parsePlainMime } from "./plain-mime.js";

/*
 * One way from raw bytes to a Message, for every mail source (a file, stdin, an mbox, an
 * archive thread read again for review). Triage (public-inbox/triage.ts) stays a separate,
 * cheaper read: it looks at every message of an archive and keeps only what a review needs.
 */

/**
 * The fields of one raw message: plain `git diff` / `git show` output as it is; plain-text list
 * mail by the fast path (plain-mime.ts, held to parseMime's reading); the rest by mailparser.
 */
export async function decodeFields(raw: RawMessage): Promise<MessageFields> {
  return plainDiffFields(raw) ?? parsePlainMime(raw) ?? (await parseMime(raw));
}

/**
 * What a decoded message is built from, the bytes and the source it names, as one digest. Bytes
 * read from git come with their blob id, git's digest of them: they are not hashed a second time.
 */
function contentKey(raw: RawMessage, blob: string | undefined): string {
  if (blob !== undefined) return `blob ${blob} ${raw.source}`;
  return createHash("sha1").update(`${raw.source.length}:${raw.source}\n`).update(raw.bytes).digest("base64");
}

/**
 * Decode and build one raw message (`blob`: the git object id of the bytes, when git gave them);
 * an input problem becomes a Skip with its reason. So does any other failure on the way (a
 * decoder bug on a strange header, a stack or heap limit hit by one message): it belongs to this
 * message alone, and the rest of the input is still read.
 */
export async function decodeMessage(raw: RawMessage, blob?: string): Promise<Message | Skip> {
  let messageId: string | undefined;
  const skip = (reason: InputReason, detail: string): Skip => ({ source: raw.source, messageId, reason, detail });
  let stage: "decode" | "build" = "decode";
  try {
    const fields = await decodeFields(raw);
    messageId = fields.messageId;
    stage = "build";
    // A count past MAX_SERIES_PATCHES is refused there, before any slot exists.
    const m = buildMessage(fields);
    keyMessage(m, contentKey(raw, blob));
    return m;
  } catch (err) {
    if (err instanceof InputError) return skip(err.reason, err.detail);
    const what = err instanceof Error ? err.message : String(err);
    return stage === "decode" ? skip("malformed-mime", `the MIME decoder failed on it: ${what}`) : skip("unreadable", `could not be read as a patch: ${what}`);
  }
}
