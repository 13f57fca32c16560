import { InputError, type InputReason } from "../../errors.js";
import type { Message } from "../../patch/message.js";
import type { Skip } from "../../review/review.js";
import { decodeMessage } from "../decode.js";
import { readMessages, type RawMessage } from "./reader.js";

export interface Loaded {
  readonly messages: readonly Message[];
  readonly skipped: readonly Skip[];
}

/** One raw message to a Message or a Skip: the one decode path (ingest/decode.ts). */
export const loadOne = decodeMessage;

/**
 * Read a path or stdin and turn every message into a Message or a Skip: one bad one never ends
 * the run. When the input is a single message there is no run to continue, so its problem is
 * the input's and is thrown, with its source, for the edge to report once.
 */
export async function loadMessages(path: string, stdin?: NodeJS.ReadableStream, onProgress?: (done: number, total: number) => void): Promise<Loaded> {
  return decodeAll(await readMessages(path, stdin), onProgress);
}

/** loadMessages on messages already read; `shape` keeps what the caller holds of each (ingest/outline.ts). */
export async function decodeAll(raws: readonly RawMessage[], onProgress?: (done: number, total: number) => void, shape: (m: Message) => Message = (m) => m): Promise<Loaded> {
  if (raws.length === 1) {
    const r = await loadOne(raws[0]!);
    if ("kind" in r) return { messages: [shape(r)], skipped: [] };
    throw new InputError(r.reason as InputReason, r.detail, r.source);
  }
  const messages: Message[] = [];
  const skipped: Skip[] = [];
  for (const [i, raw] of raws.entries()) {
    const r = await loadOne(raw);
    if ("kind" in r) messages.push(shape(r));
    else skipped.push(r);
    onProgress?.(i + 1, raws.length);
  }
  return { messages, skipped };
}
