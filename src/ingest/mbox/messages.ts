import { InputError, type InputReason } from "../../errors.js";
import { buildMessage, type Message } from "../../patch/message.js";
import type { Skip } from "../../review/review.js";
import { parseMime } from "../mime.js";
import { plainDiffFields } from "./plain-diff.js";
import { readMessages, type RawMessage } from "./reader.js";

export interface Loaded {
  readonly messages: readonly Message[];
  readonly skipped: readonly Skip[];
}

/**
 * Decode and build one raw message; an input problem becomes a Skip with its reason. So does
 * any other failure on the way (a decoder bug on a strange header, a stack or heap limit hit by
 * one message): it belongs to this message alone, and the rest of the input is still read.
 */
export async function loadOne(raw: RawMessage): Promise<Message | Skip> {
  let messageId: string | undefined;
  const skip = (reason: InputReason, detail: string): Skip => ({ source: raw.source, messageId, reason, detail });
  let stage: "decode" | "build" = "decode";
  try {
    // Plain `git diff` / `git show` output has no headers to decode: it is one patch as it is.
    const fields = plainDiffFields(raw) ?? (await parseMime(raw));
    messageId = fields.messageId;
    stage = "build";
    // A count past MAX_SERIES_PATCHES is refused there, before any slot exists.
    return buildMessage(fields);
  } catch (err) {
    if (err instanceof InputError) return skip(err.reason, err.detail);
    const what = err instanceof Error ? err.message : String(err);
    return stage === "decode" ? skip("malformed-mime", `the MIME decoder failed on it: ${what}`) : skip("unreadable", `could not be read as a patch: ${what}`);
  }
}

/**
 * Read a path or stdin and turn every message into a Message or a Skip: one bad one never ends
 * the run. When the input is a single message there is no run to continue, so its problem is
 * the input's and is thrown, with its source, for the edge to report once.
 */
export async function loadMessages(path: string, stdin?: NodeJS.ReadableStream, onProgress?: (done: number, total: number) => void): Promise<Loaded> {
  const raws = await readMessages(path, stdin);
  if (raws.length === 1) {
    const r = await loadOne(raws[0]!);
    if ("kind" in r) return { messages: [r], skipped: [] };
    throw new InputError(r.reason as InputReason, r.detail, r.source);
  }
  const messages: Message[] = [];
  const skipped: Skip[] = [];
  for (const [i, raw] of raws.entries()) {
    const r = await loadOne(raw);
    if ("kind" in r) messages.push(r);
    else skipped.push(r);
    onProgress?.(i + 1, raws.length);
  }
  return { messages, skipped };
}
