import { createHash } from "node:crypto";
import { contentKeyOf } from "../patch/content-key.js";
import type { Message } from "../patch/message.js";
import type { Series } from "../patch/series.js";
import { BoundedMap } from "../review/bounded-map.js";
import type { SeriesReview } from "../review/review-series.js";
import type { Answer } from "./answers.js";
import { isGhost } from "./ghost.js";
import type { Item } from "./items.js";
import type { JudgedItem } from "./verdict.js";

/**
 * Items and judgements kept across trackings, by digests of everything they were computed from.
 * A chain is tracked again for every new revision and every reply in its threads, and each time
 * its older revisions' points are read and judged against every revision after them: v10's
 * tracking repeats most of v9's. The messages are read again from the archive each time, so
 * what is kept is found by content (the whole message), never by object or Message-ID alone.
 */
export class KeptTracking {
  /** extractItems by the revision's threads, the authors, the parser, the ignored addresses, the number. */
  readonly items = new BoundedMap<string, readonly Item[]>(128);
  /** findAnswers by the items' key, the authors' replies in every thread of the chain and the authors. */
  readonly answers = new BoundedMap<string, ReadonlyMap<string, readonly Answer[]>>(128);
  /** One revision's items judged against a later one, by the answers' key and everything the judging reads. */
  readonly judged = new BoundedMap<string, readonly JudgedItem[]>(256);
}

export function digestOf(parts: unknown): string {
  return createHash("sha1").update(JSON.stringify(parts)).digest("base64");
}

const messages = new WeakMap<Message, string>();

/** A decoded message by its content key, which stands for all of it; another by all its fields. */
function messageDigest(m: Message | undefined): string {
  if (!m) return "-";
  const key = contentKeyOf(m);
  if (key !== undefined) return key;
  let d = messages.get(m);
  if (d === undefined) messages.set(m, (d = digestOf(m)));
  return d;
}

/** Messages in their order, each by its content. */
export function messagesDigest(ms: readonly Message[]): string {
  return digestOf(ms.map(messageDigest));
}

const patchDigests = new WeakMap<Series, string>();
const threadDigests = new WeakMap<Series, string>();

/** The revision as judging reads it: every field and message but the thread's replies and resent copies. */
export function patchesDigest(s: Series): string {
  let d = patchDigests.get(s);
  if (d === undefined) {
    const { replies: _r, duplicates: _d, cover, slots, ...rest } = s;
    d = digestOf([rest, isGhost(s), messageDigest(cover), slots.map(messageDigest)]);
    patchDigests.set(s, d);
  }
  return d;
}

/** The revision with its whole thread: replies in the order the series holds them, resent copies. */
export function threadDigest(s: Series): string {
  let d = threadDigests.get(s);
  if (d === undefined) {
    const replies = [...s.replies].map(([id, list]) => [id, list.map(messageDigest)]);
    d = digestOf([patchesDigest(s), replies, s.duplicates.map(messageDigest)]);
    threadDigests.set(s, d);
  }
  return d;
}

// Objects whose identity stands for their content: a parser, a review as the review cache keeps it.
const serials = new WeakMap<object, number>();
let next = 0;

export function serialOf(o: object): number {
  let n = serials.get(o);
  if (n === undefined) serials.set(o, (n = ++next));
  return n;
}

/**
 * A review as the review cache computed it: copies for another series object share its patches.
 * A review computed again (the cache forgot it) is another review, so nothing judged with the old
 * one is taken for it.
 */
export function reviewSerial(r: SeriesReview): number {
  return serialOf(r.patches);
}
