import type { CParser } from "../patch/c-source.js";
import type { Message, Person } from "../patch/message.js";
import type { Series } from "../patch/series.js";
import type { Trailer } from "../patch/trailer.js";
import { anchorOf, NO_ANCHOR, type Anchor } from "./anchor.js";
import { concernOf, type ConcernId } from "./concerns.js";
import { quotedMessage, segmentReply, type QuoteBlock } from "./reply-text.js";
import { contentWords, jaccard, mentions, sentences } from "./words.js";

/**
 * The JSON contract's spellings. An objection includes a NAK. A remark is a reviewer's words on
 * quoted code that ask for nothing in so many words ("This one is called by the exporter."): often
 * a terse request, sometimes only a comment.
 */
export type ItemKind = "change requested" | "question" | "objection" | "suggestion" | "remark" | "ack";

/** The patch (index ≥ 1) or cover letter (index 0) of a revision an item was raised on. */
export interface ItemPatch {
  readonly index: number;
  readonly total: number;
  readonly messageId: string;
  readonly title: string;
}

/** Someone restating an item later (a summary, a "+1"): counted once, remembered here. */
export interface Restatement {
  readonly source: string;
  readonly author: Person;
  readonly date: Date | undefined;
  readonly text: string;
}

/** One point a reviewer made on a revision. */
export interface Item {
  /** "1.3": third point raised on v1, numbered by date. */
  readonly id: string;
  readonly author: Person;
  readonly date: Date | undefined;
  /** Message-ID of the reply it came from. */
  readonly source: string;
  /** The revision it was raised on. */
  readonly version: number;
  readonly seriesId: string;
  readonly patch: ItemPatch;
  readonly anchor: Anchor;
  /** The request in a sentence, in the reviewer's words. */
  readonly text: string;
  /** Everything the reviewer wrote for this point: for matching restatements, answers, changelogs. */
  readonly body: string;
  readonly kind: ItemKind;
  readonly concern: ConcernId | undefined;
  /** For an ack: the trailer given in the reply. */
  readonly trailer: Trailer | undefined;
  readonly restatedIn: readonly Restatement[];
}

const ACK_KEYS = new Set(["reviewed-by", "acked-by", "tested-by"]);

const OBJECTION = [/\bNAC?K(ed)?\b/, /\bnacked-by\b/i, /\bregress(ion|ions|es|ed)?\b/i, /\b(can(no|')t|cannot) (take|accept|merge)\b/i, /\bnot acceptable\b/i, /\bI object\b/i, /\bbreaks? (userspace|user space|existing)\b/i];
const SUGGESTION = [/\bnit\b/i, /\b(it'?d|it would) be (even )?(better|nicer|neat|good)\b/i, /\bhow about\b/i, /\bwhat about\b/i, /\bmaybe\b/i, /\bperhaps\b/i, /\bconsider\b/i, /\bI'?d suggest\b|\bsuggestion\b/i, /\byou (could|might)\b/i, /\bmight be (better|nicer|simpler)\b/i, /\balternatively\b/i];
// A build robot's report ("Yet something to improve", "error: ...") asks for a fix like a reviewer;
// so does a sed-style correction ("s/ure/sure/") or a line pointing out a typo ("^^^ Typo").
const REQUEST = [/(^|[.!?]\s+)needs\s+(a|an|the|some|more|huge|proper|better|to)\b/i, /\b(might|may) be (necessary|needed|required) to\b/i, /\byet something to improve\b/i, /\b(build|compile) (error|warning|failure)s?\b/i, /^\s*[\w/.-]+\.[ch]:\d+(:\d+)?: (error|warning):/m, /\b(please|pls|plz)\b/i, /\bwould like\b/i, /^\s*\^*\s*typo\b/im, /^s\/[^/\n]+\/[^/\n]*\/?\s*$/m, /\bshould\b/i, /\bmust\b/i, /(?<!(?:n't|\bnot|\bno)\s)\bneeds? to\b/i, /\b(could|can|would) you\b/i, /\binstead\b/i, /\bmake (it|this|sure)\b/i, /^(could|can|would|will|shall) (we|this|the|it|that)\b/i];
// A sentence opening on a bare verb asks for something: "Take your other patch as the model.", "Split this.".
const IMPERATIVE =
  /^(?:please\s+)?(?:take|use|drop|split|move|add|remove|keep|rename|document|make|put|call|return|fix|avoid|replace|squash|pass|switch|convert|change|mention|explain|describe|update|reword|handle|hold|grab|release|initiali[sz]e|clear|separate|reorder|rebase|wrap|guard|check)\b(?!\s+care\b)(?=\s+\S)/i;
const ACKISH = [/\blooks good\b/i, /\blgtm\b/i, /\bmakes sense\b/i, /\bfine (with|by) me\b/i, /\bno objection\b/i];
const QUESTION_START = /^(why|what|how|which|where|when|who|is|are|does|do|did|was|were|has|have|isn'?t|doesn'?t|aren'?t|shouldn'?t)\b/i;

const hits = (cues: readonly RegExp[], text: string) => cues.some((c) => c.test(text));

/** What kind of point a paragraph group makes, by the reviewer's own words. */
export function classify(text: string): ItemKind | undefined {
  const ss = sentences(text);
  if (hits(OBJECTION, text)) return "objection";
  if (hits(SUGGESTION, text)) return "suggestion";
  if (ss.some((s) => hits(REQUEST, s) || IMPERATIVE.test(s))) return "change requested";
  if (ss.some((s) => s.endsWith("?"))) return "question";
  if (hits(ACKISH, text)) return "ack";
  return undefined;
}

/** The sentence that carries the point; a short one opening on "it"/"this" keeps its antecedent. */
export function keySentence(text: string, kind: ItemKind): string {
  const ss = sentences(text);
  const pick =
    kind === "objection"
      ? ss.findIndex((s) => hits(OBJECTION, s))
      : kind === "suggestion"
        ? ss.findIndex((s) => hits(SUGGESTION, s))
        : kind === "change requested"
          ? ss.findIndex((s) => hits(REQUEST, s) || IMPERATIVE.test(s))
          : kind === "question"
            ? ss.findIndex((s) => s.endsWith("?") && QUESTION_START.test(s))
            : -1;
  const at = pick >= 0 ? pick : kind === "question" ? Math.max(0, ss.findIndex((s) => s.endsWith("?"))) : 0;
  const s = ss[at] ?? text.trim();
  const leansBack = /\b(it|this|that|them|these)\b/i.test(s.split(/\s+/).slice(0, 4).join(" ")) && s.length < 60 && at > 0;
  const out = leansBack ? `${ss[at - 1]} ${s}` : s;
  return out.length > 300 ? `${out.slice(0, 297).replace(/\s+\S*$/, "")}...` : out;
}

// Words that say only "yes", "fine" or "I was wrong": a remark made of these alone asks nothing.
const ASSENT = new Set("ok okay yes yep yeah ack agreed right sure fine thanks thank you i i'm think guess hmm mhm that works it it's is this perfect good great indeed misread see".split(" "));

/**
 * A remark with nothing in it: no words ("}", "[...]"), a snipped quote, the writer's own name as a
 * signature, or a few words of assent ("Ok.", "Yes, that works.", "ack. I misread it.").
 */
function isEmptyRemark(text: string, author: Person): boolean {
  const words = text.toLowerCase().match(/[a-z0-9][a-z0-9']*/g) ?? [];
  if (words.length === 0 || /^[\s.[\]]*snip[\s.[\]]*$/i.test(text)) return true;
  const name = new Set(author.name.toLowerCase().match(/[a-z]+/g) ?? []);
  if (words.every((w) => name.has(w))) return true;
  return words.length <= 6 && words.every((w) => ASSENT.has(w));
}

/** One own-text point of a reply before numbering: what was said, under which quote. */
export interface RawPoint {
  readonly reply: Message;
  readonly patch: ItemPatch;
  readonly target: Message;
  readonly quote: QuoteBlock | undefined;
  readonly text: string;
  readonly numbered: boolean;
  readonly order: number;
}

/** "Koenig, Christian" and "Christian König" are one name: order, case and accents aside. */
export function personName(name: string): string {
  const flipped = /^([^,]+),\s*([^,]+)$/.exec(name.trim());
  const n = flipped ? `${flipped[2]} ${flipped[1]}` : name;
  return n
    .toLowerCase()
    .replace(/ä/g, "ae").replace(/ö/g, "oe").replace(/ü/g, "ue").replace(/ß/g, "ss")
    .normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
    .replace(/\([^)]*\)/g, " ").replace(/[^a-z\s-]/g, " ").replace(/\s+/g, " ").trim();
}

// Pings, apologies for delay, asking for tags or for the merge: about the review's progress, not the code.
const CHATTER = [
  /^\s*(gentle\s+|friendly\s+)?ping\b/i,
  /\bany (more |further |other )?(comments|thoughts|feedback|objections|news)\b[^.?!]*\?/i,
  /\bcan (we|I|this) (get|have) (it|this|that|them)? ?(committed|comitted|merged|pushed|applied|picked up)\b/i,
  /\bcan I get an? (reviewed-by|acked-by|r-?b|ack|rb)\b/i,
  /^\s*sorry (for|about) (the )?(late|delay|slow)|^\s*sorry,? (got|was|I was|I've been) (a bit |very |really )?(busy|swamped|smashed|distracted|away|out)\b/i,
];

/** A short point that is only about the review's progress. */
function isChatter(text: string): boolean {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length < 240 && CHATTER.some((re) => re.test(flat)) && sentences(flat).length <= 3;
}

const NUMBERED = /^\s*(\d+)[.)]\s+/;
/** "+1", "Agreed", "Same here": support for what the quote said, not a new point. */
const AGREEMENT = /^\s*(\+1|agreed|i agree|same (here|for me|concern)|seconded|this,? exactly|exactly)\b/i;
const TRAILER = /^\s*[A-Za-z][A-Za-z0-9-]*-by:\s+\S/;

/** Split one own block into points: a numbered list gives one point per entry. */
function pointsOf(paragraphs: readonly (readonly string[])[]): { text: string; numbered: boolean }[] {
  const out: { text: string; numbered: boolean }[] = [];
  let prose: string[] = [];
  const flush = () => {
    if (prose.length > 0) out.push({ text: prose.join("\n\n"), numbered: false });
    prose = [];
  };
  for (let i = 0; i < paragraphs.length; i++) {
    const lines = paragraphs[i]!.filter((l) => !TRAILER.test(l));
    if (lines.length === 0) continue;
    if (NUMBERED.test(lines[0]!)) {
      // "These are the points:" introduces the list; it is not a point of its own.
      if (prose.length > 0 && /:\s*$/.test(prose[prose.length - 1]!)) {
        const last = prose.pop()!;
        const kept = sentences(last).slice(0, -1).join(" ");
        if (kept && classify(kept)) prose.push(kept);
      }
      flush();
      let cur: string[] = [];
      for (const l of lines) {
        if (NUMBERED.test(l)) {
          if (cur.length > 0) out.push({ text: cur.join("\n"), numbered: true });
          cur = [l.replace(NUMBERED, "")];
        } else cur.push(l.trim());
      }
      if (cur.length > 0) out.push({ text: cur.join("\n"), numbered: true });
      continue;
    }
    const text = lines.join("\n");
    // "BTW, ...", "Additionally ...": a paragraph that says it turns to another point and asks
    // something of its own is its own point, answered and judged on its own.
    if (prose.length > 0 && NEXT_POINT.test(text) && classify(text)) flush();
    prose.push(text);
  }
  flush();
  return out;
}

const NEXT_POINT = /^\s*(btw|by the way|also|(and )?keep in mind|additionally|additional to that|in addition|apart from that|besides( that)?|on top of that|another (thing|point|issue|problem)|separately|unrelated)\b/i;

function isDiffQuote(q: QuoteBlock | undefined): boolean {
  return q !== undefined && q.lines.some((l) => /^(@@ |diff --git |[+-][\t ]|[+-]$| \t)/.test(l));
}

/** Every reviewer point in one reply (not yet merged, numbered, or turned into acks). */
export function rawPoints(reply: Message, target: Message, patch: ItemPatch): RawPoint[] {
  const out: RawPoint[] = [];
  let quote: QuoteBlock | undefined;
  let order = 0;
  for (const block of segmentReply(reply.body)) {
    if (block.kind === "quote") {
      quote = block;
      continue;
    }
    for (const p of pointsOf(block.paragraphs)) {
      // Under a quoted diff any words are a point; elsewhere only words that ask or object, or
      // an entry of a numbered summary, which may restate an earlier point.
      if (!classify(p.text) && !isDiffQuote(quote) && !p.numbered && !AGREEMENT.test(p.text)) continue;
      if (isChatter(p.text)) continue;
      out.push({ reply, patch, target, quote, text: p.text, numbered: p.numbered, order: order++ });
    }
  }
  return out;
}

/** The reviewer's mail an author's reply quotes, as a reply of its own: their words, their quotes of the patch. */
function quotedReview(reply: Message, isAuthorName: (name: string) => boolean, isAuthor: (p: Person) => boolean): Message | undefined {
  const q = quotedMessage(reply.body);
  if (!q) return undefined;
  const from: Person = { name: q.name, email: q.email ?? "" };
  if (isAuthorName(q.name) || (q.email && isAuthor(from))) return undefined;
  return { ...reply, from, body: q.body, trailers: [] };
}

// An author flagging a slip in their own patch: "please ignore X in the description, I'll fix that in v2".
const SELF_CORRECTION = /\b(I'?ll|I will|will) (fix|correct|drop|update) (that|this|it)\b.*\b(next|v\d+|respin|revision|version)\b|\b(oops|my bad|I forgot to|I missed that)\b/i;
const WITHDRAWN = /\bignore (this|the|my) (patch|series|mail|version|one|revision)\b|\bsent (it |this )?by mistake\b/i;

/**
 * Points an author makes about their own patch, answering it directly: a self-review naming a slip.
 * A ping, a note for the maintainer or a "please ignore this patch" is not one.
 */
function selfReview(reply: Message, target: Message, patch: ItemPatch): RawPoint[] {
  if (reply.inReplyTo !== target.messageId) return [];
  const text = segmentReply(reply.body)
    .flatMap((b) => (b.kind === "own" ? b.paragraphs.map((p) => p.join("\n")) : []))
    .join("\n\n");
  if (!SELF_CORRECTION.test(text.replace(/\s+/g, " ")) || WITHDRAWN.test(text)) return [];
  return rawPoints(reply, target, patch).filter((p) => classify(p.text) === "change requested" || classify(p.text) === "objection");
}

function patchOf(series: Series, target: Message): ItemPatch | undefined {
  const title = (m: Message) => m.parsedSubject.title;
  if (series.cover && target.messageId === series.cover.messageId) {
    return { index: 0, total: series.total, messageId: target.messageId, title: title(target) };
  }
  const i = series.slots.findIndex((m) => m?.messageId === target.messageId);
  return i < 0 ? undefined : { index: i + 1, total: series.total, messageId: target.messageId, title: title(target) };
}

function time(d: Date | undefined): number {
  return d?.getTime() ?? 0;
}

/**
 * How strongly a later point restates an earlier item: shared concern, the item's author named
 * (a summary) or the same reviewer coming back to it, shared words.
 */
function restateScore(p: { text: string; concern: ConcernId | undefined; author: Person }, item: Pick<Item, "concern" | "author" | "body">): number {
  let score = 0;
  if (p.concern && p.concern === item.concern) score += 3;
  const same = p.author.email.toLowerCase() === item.author.email.toLowerCase();
  // Naming someone else is a summary; one's own name is a sign-off.
  if (!same && mentions(p.text, item.author)) score += 3;
  if (same) score += 2;
  const j = jaccard(contentWords(p.text), contentWords(item.body));
  if (j >= 0.2) score += 2;
  else if (j >= 0.1) score += 1;
  return score;
}


/**
 * Items of one revision: every point in the replies to its cover letter and patches, the
 * trailers given there as acks, restatements merged into the item they restate, numbered by
 * date. Replies by `authors` (the series' author) are answers, not review; replies from `ignore`
 * (the bot itself) are neither.
 */
export function extractItems(
  threads: Series | readonly Series[],
  authors: readonly Person[],
  parser?: CParser,
  ignore: readonly string[] = [],
  /** The revision's number in its chain, when the subject's tag does not give it (untagged reposts). */
  revision?: number,
): Item[] {
  // A revision and its RESENDs are one revision: their replies make one list of items.
  const all: readonly Series[] = Array.isArray(threads) ? threads : [threads as Series];
  const series = all[0]!;
  const number = revision ?? series.revision;
  const skip = new Set(ignore.map((e) => e.toLowerCase()));
  const authorNames = new Set(authors.map((a) => personName(a.name)).filter((n) => n.includes(" ")));
  // Authors answer from more than one address ("Koenig, Christian" at work, "Christian König" at home).
  const isAuthor = (p: Person) =>
    skip.has(p.email.toLowerCase()) || authors.some((a) => a.email.toLowerCase() === p.email.toLowerCase()) || authorNames.has(personName(p.name));
  const targets = new Map<string, { target: Message; of: Series }>();
  for (const s of all) {
    if (s.cover) targets.set(s.cover.messageId, { target: s.cover, of: s });
    for (const m of s.slots) if (m) targets.set(m.messageId, { target: m, of: s });
  }

  const known = new Set<string>(targets.keys());
  const replyById = new Map<string, Message>();
  for (const s of all) for (const list of s.replies.values()) for (const m of list) replyById.set(m.messageId, m);
  for (const s of all) for (const list of s.replies.values()) for (const m of list) known.add(m.messageId);
  for (const s of all) for (const m of s.duplicates) known.add(m.messageId);
  const isAuthorName = (name: string) => authorNames.has(personName(name)) || authors.some((a) => a.name.trim().toLowerCase() === name.trim().toLowerCase());

  type Draft = Omit<Item, "id" | "restatedIn"> & { restatedIn: Restatement[]; order: number };
  const candidates: { point: RawPoint | undefined; reply: Message; target: Message; patch: ItemPatch; trailer?: Trailer; order: number }[] = [];
  for (const [targetId, replies] of all.flatMap((s) => [...s.replies])) {
    const found = targets.get(targetId);
    if (!found) continue;
    const { target, of } = found;
    const patch = patchOf(of, target);
    if (!patch) continue;
    for (const reply of replies) {
      if (isAuthor(reply.from)) {
        // The author answering a reviewer whose mail is not in the input: the quote is all that is left of it.
        const review = reply.inReplyTo && !known.has(reply.inReplyTo) ? quotedReview(reply, isAuthorName, isAuthor) : undefined;
        if (review) for (const point of rawPoints(review, target, patch)) candidates.push({ point, reply: review, target, patch, order: point.order });
        else for (const point of selfReview(reply, target, patch)) candidates.push({ point, reply, target, patch, order: point.order });
        continue;
      }
      // Answering another reviewer rather than the author or the patch is discussion between them: only
      // a point on the quoted code, an objection or agreement with a point counts there.
      const parent = reply.inReplyTo ? replyById.get(reply.inReplyTo) : undefined;
      const aside = parent !== undefined && !isAuthor(parent.from) && parent.from.email.toLowerCase() !== reply.from.email.toLowerCase();
      for (const point of rawPoints(reply, target, patch)) {
        if (aside && !isDiffQuote(point.quote) && classify(point.text) !== "objection" && !AGREEMENT.test(point.text)) continue;
        candidates.push({ point, reply, target, patch, order: point.order });
      }
      reply.trailers
        .filter((t) => ACK_KEYS.has(t.key.toLowerCase()))
        .forEach((trailer, i) => candidates.push({ point: undefined, reply, target, patch, trailer, order: 1000 + i }));
    }
  }
  candidates.sort((a, b) => time(a.reply.date) - time(b.reply.date) || a.reply.messageId.localeCompare(b.reply.messageId) || a.order - b.order);

  const drafts: Draft[] = [];
  for (const c of candidates) {
    const base = {
      author: c.reply.from,
      date: c.reply.date,
      source: c.reply.messageId,
      version: number,
      seriesId: series.id,
      patch: c.patch,
      restatedIn: [] as Restatement[],
      order: c.order,
    };
    if (c.trailer) {
      // An ack is for the whole patch; the quote above it, when there is one, says which part was read.
      const quote = segmentReply(c.reply.body).find((b): b is QuoteBlock => b.kind === "quote");
      const anchor = quote ? anchorOf(quote.lines, c.target, parser) : NO_ANCHOR;
      drafts.push({ ...base, anchor, text: `${c.trailer.key}: ${c.trailer.value}`, body: c.trailer.value, kind: "ack", concern: undefined, trailer: c.trailer });
      continue;
    }
    const p = c.point!;
    const concern = concernOf(p.text);
    const kind = classify(p.text) ?? "remark";
    const anchor = p.quote ? anchorOf(p.quote.lines, c.target, parser) : NO_ANCHOR;
    // A restatement: a numbered summary point, or agreement under another reviewer's quoted words.
    const earlier = drafts.filter((d) => d.kind !== "ack" && d.source !== p.reply.messageId);
    const quoteWords = p.quote && anchor.kind === "none" ? contentWords(p.quote.lines.join(" ")) : undefined;
    const quotedItem = quoteWords ? earlier.find((d) => jaccard(quoteWords, contentWords(d.body)) >= 0.3) : undefined;
    const scored = earlier
      .map((d) => ({ d, score: restateScore({ text: p.text, concern, author: p.reply.from }, d) }))
      .sort((a, b) => b.score - a.score || time(a.d.date) - time(b.d.date))[0];
    const agrees = quotedItem && (AGREEMENT.test(p.text) || (concern !== undefined && concern === quotedItem.concern));
    // A shared concern and reviewer alone do not make a restatement: it names the point's author, or
    // shares words with it, a few on the same patch, many on another one.
    const related = (d: Draft) => {
      if (d.author.email.toLowerCase() !== p.reply.from.email.toLowerCase() && mentions(p.text, d.author)) return true;
      const j = jaccard(contentWords(p.text), contentWords(d.body));
      return j >= (d.patch.index === c.patch.index ? 0.1 : 0.3);
    };
    const into = agrees ? quotedItem : scored && scored.score >= 5 && related(scored.d) ? scored.d : undefined;
    if (into) {
      into.restatedIn.push({ source: p.reply.messageId, author: p.reply.from, date: p.reply.date, text: keySentence(p.text, kind) });
      continue;
    }
    if (kind === "remark" && !isDiffQuote(p.quote)) continue;
    // "Ok.", "ack. I misread it.", a signature alone: a remark with nothing in it is not a point.
    if (kind === "remark" && isEmptyRemark(p.text, p.reply.from)) continue;
    drafts.push({
      ...base,
      anchor,
      text: keySentence(p.text, kind),
      body: p.text,
      kind,
      concern,
      trailer: undefined,
    });
  }
  return drafts.map(({ order: _o, ...d }, i) => ({ ...d, id: `${number}.${i + 1}` }));
}
