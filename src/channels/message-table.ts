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

/** A message the worker holds already, sent as its key alone. */
export interface HeldMessage {
  readonly held: string;
}

/** Whether a table bounded by `limit` holds `m`: a message with a diff that fits. */
function holdable(m: Message, limit: number): boolean {
  return m.files.length > 0 && m.body.length <= limit;
}

/**
 * The keys a table holds, least recently used first, with the length of their bodies. The
 * same steps give the same keys on both sides of the thread boundary: what the worker holds,
 * the pool knows without asking.
 */
class HeldKeys {
  private readonly lengths = new Map<string, number>();
  private weight = 0;

  constructor(readonly limit: number) {}

  /** Whether `key` is held; it becomes the most recently used. */
  use(key: string): boolean {
    const n = this.lengths.get(key);
    if (n === undefined) return false;
    this.lengths.delete(key);
    this.lengths.set(key, n);
    return true;
  }

  /** Holds a key not held, of a holdable message; the keys let go to stay within the limit. */
  add(key: string, length: number): string[] {
    this.lengths.set(key, length);
    this.weight += length;
    const gone: string[] = [];
    for (const [k, n] of this.lengths) {
      if (this.weight <= this.limit) break;
      this.lengths.delete(k);
      this.weight -= n;
      gone.push(k);
    }
    return gone;
  }
}

/**
 * Canonical messages by content key, most recently used kept, bounded by the length of their
 * bodies (what most of a message's weight follows). A worker thread receives every message as
 * a new copy; taking the one it holds instead lets every cache keyed by the diff objects inside
 * it find what it computed for the same message before. Only messages with a diff are held: no
 * cache is keyed by anything else of a message, and its key alone serves the digests.
 */
export class MessageTable {
  private keys: HeldKeys;
  private readonly held = new Map<string, Message>();
  /** Messages taken from the table in place of a copy given or of a key sent alone. */
  reused = 0;

  constructor(readonly limit: number) {
    this.keys = new HeldKeys(limit);
  }

  /** The message held for `key`, or `m` (keyed), held from now on if it fits. */
  intern(key: string, m: Message): Message {
    if (this.keys.use(key)) {
      const old = this.held.get(key)!;
      if (old !== m) this.reused++;
      return old;
    }
    keyMessage(m, key);
    if (!holdable(m, this.limit)) return m;
    for (const k of this.keys.add(key, m.body.length)) this.held.delete(k);
    this.held.set(key, m);
    return m;
  }

  /** The message a key sent alone stands for. */
  resolve(sent: HeldMessage): Message {
    // The pool sends a key alone only for what its mirror holds: a miss is a bug on either side.
    if (!this.keys.use(sent.held)) throw new Error(`message ${sent.held} sent as held is not held`);
    this.reused++;
    return this.held.get(sent.held)!;
  }

  /** Lets go of everything: after a failed job the pool starts its mirror afresh. */
  clear(): void {
    this.keys = new HeldKeys(this.limit);
    this.held.clear();
  }
}

/** What the pool knows of one worker's table: the keys it holds, by the same steps. */
export class TableMirror {
  private readonly keys: HeldKeys;

  constructor(readonly limit: number) {
    this.keys = new HeldKeys(limit);
  }

  /** `m` as it is to be sent: its key alone when the worker holds it. */
  send(key: string, m: Message): Message | HeldMessage {
    if (this.keys.use(key)) return { held: key };
    if (holdable(m, this.limit)) this.keys.add(key, m.body.length);
    return m;
  }
}
