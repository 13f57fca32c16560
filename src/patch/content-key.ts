import type { Message } from "./message.js";

/*
 * A message decoded from bytes is a function of those bytes and its source: a digest of them
 * stands for the whole message, so a copy decoded again, or sent to a worker thread, is known
 * for the same message by its key where a cache keyed by the object would miss. Only the
 * decoder and a table of canonical messages give keys; a copy derived from a message (an
 * outline, a ghost's author, another kind) is a new object and has none.
 */
const keys = new WeakMap<Message, string>();

/** The content key of a message as decoded, or undefined for one built or derived otherwise. */
export function contentKeyOf(m: Message): string | undefined {
  return keys.get(m);
}

/** Gives `m` its content key: only for a message built from exactly what `key` digests. */
export function keyMessage(m: Message, key: string): void {
  keys.set(m, key);
}
