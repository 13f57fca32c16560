import { keyMessage } from "../patch/content-key.js";
import type { Message } from "../patch/message.js";
import type { Series } from "../patch/series.js";

/**
 * `s` over the messages `f` gives for its own, visited in one fixed order (cover letter,
 * patches, resent copies, replies): the order the keys of a job's messages are sent in.
 */
export function mapMessages(s: Series, f: (m: Message) => Message): Series {
  return {
    ...s,
    cover: s.cover && f(s.cover),
    slots: s.slots.map((m) => m && f(m)),
    duplicates: s.duplicates.map(f),
    replies: new Map([...s.replies].map(([id, list]) => [id, list.map(f)])),
  };
}

/**
 * Canonical messages by content key, most recently used kept, bounded by the length of their
 * bodies (what most of a message's weight follows). A worker thread receives every message as
 * a new copy; taking the one it holds instead lets every cache keyed by the diff objects inside
 * it find what it computed for the same message before. Only messages with a diff are held: no
 * cache is keyed by anything else of a message, and its key alone serves the digests.
 */
export class MessageTable {
  private readonly held = new Map<string, Message>();
  private weight = 0;
  /** Messages taken from the table in place of the copy given. */
  reused = 0;

  constructor(readonly limit: number) {}

  /** The message held for `key`, or `m` (keyed), held from now on if it fits. */
  intern(key: string, m: Message): Message {
    const old = this.held.get(key);
    if (old) {
      this.held.delete(key);
      this.held.set(key, old);
      if (old !== m) this.reused++;
      return old;
    }
    keyMessage(m, key);
    if (m.files.length === 0 || m.body.length > this.limit) return m;
    this.held.set(key, m);
    this.weight += m.body.length;
    for (const [k, v] of this.held) {
      if (this.weight <= this.limit) break;
      this.held.delete(k);
      this.weight -= v.body.length;
    }
    return m;
  }
}
