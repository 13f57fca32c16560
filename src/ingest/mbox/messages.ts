import { InputError } from "../../errors.js";
import { buildMessage, type Message } from "../../patch/message.js";
import type { Skip } from "../../review/review.js";
import { parseMime } from "../mime.js";
import { readMessages, type RawMessage } from "./reader.js";

export interface Loaded {
  readonly messages: readonly Message[];
  readonly skipped: readonly Skip[];
}

/** Decode and build one raw message; an input problem becomes a Skip with its reason. */
export async function loadOne(raw: RawMessage): Promise<Message | Skip> {
  let messageId: string | undefined;
  try {
    const fields = await parseMime(raw);
    messageId = fields.messageId;
    return buildMessage(fields);
  } catch (err) {
    if (err instanceof InputError) {
      return { source: raw.source, messageId, reason: err.reason, detail: err.detail };
    }
    throw err;
  }
}

/** Read a path or stdin and turn every message into a Message or a Skip: one bad one never ends the run. */
export async function loadMessages(path: string, stdin?: NodeJS.ReadableStream): Promise<Loaded> {
  const raws = await readMessages(path, stdin);
  const messages: Message[] = [];
  const skipped: Skip[] = [];
  for (const raw of raws) {
    const r = await loadOne(raw);
    if ("kind" in r) messages.push(r);
    else skipped.push(r);
  }
  return { messages, skipped };
}
