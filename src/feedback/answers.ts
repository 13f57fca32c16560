import type { Message, Person } from "../patch/message.js";
import { BoundedMap } from "../review/bounded-map.js";
import type { Item } from "./items.js";
import { concernOf } from "./concerns.js";
import { segmentReply } from "./reply-text.js";
import { contentWords, jaccard, mentions, overlap, sentences } from "./words.js";

/**
 * What the series' author said back to a point. A "reason" explains why the code stays as it
 * is (that is an answer); a "promise" ("good idea, will do in v2") leaves the verdict to the
 * code; a "question" back asks the reviewer something and settles nothing.
 */
export interface Answer {
  readonly source: string;
  readonly author: Person;
  readonly date: Date | undefined;
  readonly kind: "reason" | "promise" | "question";
  /** The author's words under the quote, unwrapped. */
  readonly text: string;
}

/** Words that keep the code as it is, with a why. */
const KEEP = /\b(because|keeping|keep (it|this|the|that)|won'?t|will not|intentional(ly)?|on purpose|by design|not going to|disagree|prefer|(is|are) (needed|required|correct|fine|intended)|(do|does)n'?t (need|matter|apply)|no need)\b/i;
const WEAK_REASON = /\b(but|however|since|rather|the reason)\b/i;
const PROMISE =
  /\b(will (do|fix|change|add|address|update|rework|drop|look|rename|document|send|remove|respin|split)|I'?ll\b|good (idea|point|catch)|agreed\b|you'?re right|makes sense|(fixed|done) (in|for) v\d|will be (fixed|in|part of)|oops|my bad|noted)|(^|[.!?,;]\s*)(sure|ok(ay)?|yes|right|indeed)\b|(^|[.!,;]\s*|\b(have|has|I'?ve|already|now|been|all)\s+)(fixed|done)\b/i;
/** "give me a few days to rebase", "later this week": time asked for, nothing answered. */
const DELAY =
  /\b(few (days|weeks)|next (week|version|revision|spin)|later (this|next)|when I get\b|once I\b|after (the|my) (rebase|vacation|holidays?)|need (some )?time|haven'?t had time|give me (some|more|a (few|couple of)) (time|days|weeks)|(need|have) to (prepare|rebase|redo|rebuild|respin) (the|a|my|this|it)\b)/i;
/** "I've reworked it", "the buffers are now ...": the author reports a change; the next revision shows it or not. */
const DONE = /\b(I'?ve|I have) (now )?(done|fixed|changed|reworked|removed|dropped|added|updated|cleaned|moved|split|renamed)\b|\b(is|are) now\b|\bno (longer|more) (needed|used)\b/i;
/** Agreeing with the reviewer gives no reason to keep the code: it leaves the verdict to the code. */
const AGREE = /\b(exactly|precisely|very much|pretty much) (what I|my) (had in mind|thinking|thought)|\bmy thinking as well\b|\bI (fully |completely |totally )?agree\b|\bsounds (good|right|sane)\b|\bsame here\b/i;
/** Deferring the request to a later patch or series, with the order of work as the reason. */
const DEFER = /\b(follow-?up (patch|series)|(separate|later|cleanup|another) (patch|series)|comes? after|first,? and then|in a later (patch|series))\b/i;
/** A reply that ends by going along with the request is a promise, whatever doubts came first. */
const CONCEDE = /\b(let'?s (do|try|go with)|I'?ll|I will|will (try|do) (it|that|this|so))\b/i;
const THANKS = /^\s*(thanks|thank you|thx|cheers)( (a lot|again|for (the|your) [\w\s-]{1,40}))?\s*[,.!]*\s*$/i;

/**
 * A reason explains why the code stays; "thanks", "will fix", "good point" and "give me a few
 * days" explain nothing: the first is nothing, the others are promises the next revision checks.
 */
export function classifyAnswer(text: string): Answer["kind"] | undefined {
  const ss = sentences(text).filter((s) => !THANKS.test(s));
  if (ss.length === 0) return undefined;
  const words = text.split(/\s+/).length;
  // Time asked for and changes reported answer nothing, whatever words of reasoning come with them.
  if (DELAY.test(text) || DONE.test(text)) return "promise";
  // "That is exactly my thinking": whatever follows, the author went along with the point.
  if (AGREE.test(ss[0]!)) return "promise";
  if (KEEP.test(text) || DEFER.test(text)) return "reason";
  const last = ss[ss.length - 1]!;
  if (CONCEDE.test(last)) return "promise";
  // "How about we split it?": a proposal back to the reviewer settles nothing yet.
  if (last.endsWith("?")) return "question";
  if (PROMISE.test(text)) return words >= 25 && WEAK_REASON.test(text) ? "reason" : "promise";
  if (AGREE.test(text)) return "promise";
  if (ss.every((s) => s.endsWith("?"))) return "question";
  return words >= 12 ? "reason" : undefined;
}

function parents(m: Message): string[] {
  return [m.inReplyTo, ...m.references].filter((x): x is string => x !== undefined);
}

/**
 * The item an author's words speak to when they are not threaded under it (an answer posted on
 * the v2 cover letter): the one whose words the quote repeats, or whose reviewer is named with
 * the same concern.
 */
function addressedTo(items: readonly Item[], quote: readonly string[], text: string, date: Date | undefined): Item | undefined {
  const before = items.filter((i) => i.kind !== "ack" && (!date || !i.date || i.date <= date));
  const q = quoteWords(quote);
  if (q.size > 0) {
    const best = before.map((i) => ({ i, j: jaccard(q, contentWords(i.body)) })).sort((a, b) => b.j - a.j)[0];
    if (best && best.j >= 0.3) return best.i;
  }
  const concern = concernOf(text);
  const named = concern === undefined ? [] : before.filter((i) => i.concern === concern && mentions(text, i.author));
  return named.length === 1 ? named[0] : undefined;
}

// A kept reply's quotes are compared with the points of every earlier revision: read once each.
const keptQuoteWords = new WeakMap<readonly string[], ReadonlySet<string>>();

function quoteWords(quote: readonly string[]): ReadonlySet<string> {
  let w = keptQuoteWords.get(quote);
  if (!w) keptQuoteWords.set(quote, (w = contentWords(quote.join(" "))));
  return w;
}

/** The point sharing most words with the quote, then with the answer's own words; the first of equals. */
function pickByWords(points: readonly Item[], quote: ReadonlySet<string>, own: ReadonlySet<string>): Item {
  const scored = points.map((i) => {
    const words = contentWords(i.body);
    return { i, q: overlap(quote, words), o: overlap(own, words) };
  });
  return scored.sort((a, b) => b.q - a.q || b.o - a.o)[0]!.i;
}

/** One own-text part of an author's reply that says something, under the quote it answers. */
interface Said {
  readonly quote: readonly string[];
  readonly text: string;
  readonly kind: Answer["kind"];
}

// An author's reply is read for every earlier revision of the chain, and again on every tracking.
// By bytes too: the key is the whole body, and a reply quoting a whole patch runs to a megabyte.
const keptSaid = new BoundedMap<string, readonly Said[]>(128, [], {
  bytes: 1 << 20,
  weigh: (body, said) => body.length + said.reduce((n, s) => n + 64 + s.text.length, 0),
});

// The same reply is read again for each earlier revision of its chain: kept by the message too.
const saidByReply = new WeakMap<Message, readonly Said[]>();

function saidIn(reply: Message): readonly Said[] {
  let said = saidByReply.get(reply);
  if (!said) saidByReply.set(reply, (said = keptSaid.keep(reply.body, readSaid)));
  return said;
}

function readSaid(body: string): readonly Said[] {
  const out: Said[] = [];
  let quote: readonly string[] = [];
  for (const b of segmentReply(body)) {
    if (b.kind === "quote") {
      quote = b.lines;
      continue;
    }
    const text = b.paragraphs.map((p) => p.join(" ")).join(" ").replace(/\s+/g, " ").trim();
    const kind = classifyAnswer(text);
    if (kind) out.push({ quote, text, kind });
  }
  return out;
}

/**
 * The author's answers to each item: replies by one of `authors` in reply (directly or further
 * down the thread) to the item's source. When the answer quotes several points of that reply,
 * each own-text part goes to the item whose words its quote shares most. Author replies
 * elsewhere in the thread answer the item they quote, or name with its concern.
 */
export function findAnswers(items: readonly Item[], replies: readonly Message[], authors: readonly Person[]): Map<string, Answer[]> {
  const isAuthor = (p: Person) => authors.some((a) => a.email.toLowerCase() === p.email.toLowerCase());
  const out = new Map<string, Answer[]>();
  const bySource = new Map<string, Item[]>();
  for (const it of items) bySource.set(it.source, [...(bySource.get(it.source) ?? []), it]);
  for (const r of replies) {
    if (!isAuthor(r.from)) continue;
    const all = parents(r).flatMap((id) => bySource.get(id) ?? []);
    // Words answer points; a "thanks" under a Reviewed-by answers nothing.
    const answered = all.some((i) => i.kind !== "ack") ? all.filter((i) => i.kind !== "ack") : all;
    for (const { quote, text, kind } of saidIn(r)) {
      const target =
        answered.length === 0
          ? addressedTo(items, quote, text, r.date)
          : answered.length === 1
            ? answered[0]!
            : // No quote between the points (one block answering all): the answer's own words pick the point.
              pickByWords(answered, quoteWords(quote), contentWords(text));
      if (!target) continue;
      const list = out.get(target.id) ?? [];
      list.push({ source: r.messageId, author: r.from, date: r.date, kind, text });
      out.set(target.id, list);
    }
  }
  return out;
}
