import type { Rule } from "../analysis/rules/match.js";
import type { CParser } from "../patch/c-source.js";
import type { Message, Person } from "../patch/message.js";
import { effectiveRevision, latestRevisions, pairPatches, revisionChain, revisionNumbers, type RevisionLink } from "../patch/revision-link.js";
import type { Series } from "../patch/series.js";
import { ReviewCache } from "../review/review-cache.js";
import { reviewSeries, type ModelContext, type SeriesReview } from "../review/review-series.js";
import { findAnswers } from "./answers.js";
import { matchChangelog, readChangelog, type ChangelogEntry } from "./changelog.js";
import { noteGhostItems, withGhosts } from "./ghost.js";
import { extractItems, personName, type Item } from "./items.js";
import { digestOf, KeptTracking, messagesDigest, patchesDigest, reviewSerial, serialOf, threadDigest } from "./kept-tracking.js";
import { judgeItem, type JudgedItem } from "./verdict.js";

/** What tracking needs: the same rules, parser and model a review runs with. */
export interface TrackDeps {
  readonly rules: readonly Rule[];
  readonly parser: CParser;
  readonly model?: ModelContext;
  /** Where earlier revisions were looked for, for the one line a lone revision gets: "the input", "the store". */
  readonly place?: string;
  /** Addresses whose replies are not review (the bot's own, coming back through the list). */
  readonly ignore?: readonly string[];
  /** Reviews kept across calls (a long-running channel tracks the same revisions again and again). */
  readonly reviews?: ReviewCache;
  /** Replies whose patch is not in the input: earlier revisions known only from them join the chain. */
  readonly orphans?: readonly Message[];
}

/** Review feedback on earlier revisions of a series, judged against its latest revision. */
export interface Tracker {
  readonly series: Series;
  /** Oldest first, ending with `series`; a RESEND sits beside the revision it repeats. */
  readonly revisions: readonly Series[];
  readonly links: readonly RevisionLink[];
  readonly items: readonly JudgedItem[];
  /** Reviewer replies read on the earlier revisions (the author's own replies not counted). */
  readonly replies: number;
  /** Points merged into an item they restate. */
  readonly restatements: number;
  /** Reviewer replies on the latest revision: its own review, judged when the next one comes. */
  readonly pending: number;
  readonly changelog: readonly ChangelogEntry[];
}

export type TrackResult =
  | { readonly kind: "tracked"; readonly series: Series; readonly tracker: Tracker }
  /** Nothing to compare: no earlier revision is known. Nothing else is done. */
  | { readonly kind: "no-previous"; readonly series: Series; readonly reason: string };

function authorsOf(revisions: readonly Series[]): Person[] {
  const out: Person[] = [];
  for (const s of revisions) if (!out.some((a) => a.email.toLowerCase() === s.author.email.toLowerCase())) out.push(s.author);
  return out;
}

/**
 * Authors with the other addresses they reply from: a kernel developer often sends patches from
 * one address and answers review from another, under the same full name.
 */
function withReplyAddresses(authors: readonly Person[], replies: readonly Message[]): Person[] {
  // A single word ("Daniel") names too many people to stand for the author.
  const names = new Set(authors.map((a) => personName(a.name)).filter((n) => n.includes(" ")));
  const out = [...authors];
  for (const r of replies) {
    if (!names.has(personName(r.from.name)) || out.some((a) => a.email.toLowerCase() === r.from.email.toLowerCase())) continue;
    out.push(r.from);
  }
  return out;
}

function allReplies(revisions: readonly Series[]): Message[] {
  return revisions.flatMap((s) => [...s.replies.values()].flat());
}

/** A revision's review as judging reads it: its series at once, the review itself only when asked for. */
function onDemand(series: Series, review: (s: Series) => SeriesReview): SeriesReview {
  let r: SeriesReview | undefined;
  return {
    series,
    get patches() {
      return (r ??= review(series)).patches;
    },
    get model() {
      return (r ??= review(series)).model;
    },
  };
}

// Kept trackings live as long as the reviews they were judged with.
const keptTrackings = new WeakMap<ReviewCache, KeptTracking>();

function keptFor(reviews: ReviewCache): KeptTracking {
  let k = keptTrackings.get(reviews);
  if (!k) keptTrackings.set(reviews, (k = new KeptTracking()));
  return k;
}

/** The revisions of a series and the links between them, as revisionChain gives them. */
export interface Chain {
  readonly revisions: readonly Series[];
  readonly links: readonly RevisionLink[];
}

/**
 * Track one series: find its earlier revisions among `known` (what the store or the input
 * holds), read the review points made on each, and judge them against `current`. The model
 * is re-run on every revision, so an item about coherency is judged by configurations too.
 * `chain`, when given, is the one revisionChain finds for `current` among `known`: a caller
 * tracking many series links them over one index instead of one per series.
 */
export function trackSeries(current: Series, known: readonly Series[], deps: TrackDeps, chain?: Chain): TrackResult {
  const { revisions, links } = chain ?? revisionChain(current, deps.orphans ? withGhosts(known, deps.orphans) : known);
  if (revisions.length === 1) {
    const reason = `no earlier revision of this series in ${deps.place ?? "the input"}; nothing to track`;
    return { kind: "no-previous", series: current, reason };
  }
  const authors = withReplyAddresses(authorsOf(revisions), allReplies(revisions));
  const reviews = deps.reviews ?? new ReviewCache();
  const kept = keptFor(reviews);
  const review = (s: Series) => reviews.review(s, (x) => reviewSeries(x, deps.rules, deps.parser, deps.model));
  // The author's answers are looked for in every thread of the chain; findAnswers reads only
  // the author's replies, so they alone key its answers (a later revision adds others' replies).
  const answering = allReplies(revisions).filter((m) => authors.some((a) => a.email.toLowerCase() === m.from.email.toLowerCase()));
  const answeringKey = messagesDigest(answering);
  const changelog: ChangelogEntry[] = [];
  const seen = new Set<string>();
  for (const s of revisions.slice(1)) {
    for (const e of readChangelog(s)) {
      const k = `${e.revision}|${e.text}`;
      if (seen.has(k)) continue;
      seen.add(k);
      changelog.push(e);
    }
  }

  const ignored = new Set((deps.ignore ?? []).map((e) => e.toLowerCase()));
  const reviewer = (m: Message) => !ignored.has(m.from.email.toLowerCase()) && !authors.some((a) => a.email.toLowerCase() === m.from.email.toLowerCase());
  const items: JudgedItem[] = [];
  let restatements = 0;
  let read = 0;
  // Revisions by their place in the chain: subject numbers repeat or are missing on real lists.
  const place = new Map<Series, number>([[revisions[0]!, 0]]);
  links.forEach((l) => place.set(l.series, (place.get(l.previous) ?? 0) + (l.resend ? 0 : 1)));
  const last = place.get(current) ?? 0;
  const byRevision = new Map<number, Series[]>();
  for (const s of revisions) {
    const k = place.get(s) ?? 0;
    if (k < last) byRevision.set(k, [...(byRevision.get(k) ?? []), s]);
  }
  for (const threads of byRevision.values()) {
    const older = threads[0]!;
    const number = revisionNumbers(revisions, links).get(older);
    const itemsKey = digestOf([threads.map(threadDigest), authors, serialOf(deps.parser), deps.ignore ?? [], number ?? null]);
    const raw = kept.items.keep(itemsKey, () => extractItems(threads, authors, deps.parser, deps.ignore, number));
    restatements += raw.reduce((n, i) => n + i.restatedIn.length, 0);
    read += new Set(threads.flatMap((t) => allReplies([t])).filter(reviewer).map((m) => m.messageId)).size;
    const answersKey = digestOf([itemsKey, answeringKey, authors]);
    const answers = kept.answers.keep(answersKey, () => findAnswers(raw, answering, authors));
    // Only a point about a concern is judged by the reviews (the model's configurations, the
    // touches); every other point by the patches themselves: without one, nothing is reviewed again.
    const byReviews = raw.some((i) => i.concern !== undefined);
    const reviewed = (s: Series) => (byReviews ? review(s) : onDemand(s, review));
    const against = (target: Series): readonly JudgedItem[] => {
      // A forge keeps one description for every push, so an older push can read as the later
      // revision: when the numbers in the texts do not order the two, the subject (push) numbers do.
      const [lo, ordered] = effectiveRevision(older) < effectiveRevision(target) ? [effectiveRevision(older), effectiveRevision(target)] : [older.revision, target.revision];
      // A repost without any number ("[PATCH]" twice) is still the next revision: its "v2:" notes count.
      const hi = Math.max(ordered, lo + 1);
      const entries = changelog.filter((e) => e.revision > lo && e.revision <= hi);
      const [olderReview, targetReview] = [reviewed(older), reviewed(target)];
      // Everything the judging reads: the items and answers, both revisions' patches (the pairing
      // is theirs) and, for a concern, reviews; the numbers, the changelog entries between them.
      const judgedBy = byReviews ? [reviewSerial(olderReview), reviewSerial(targetReview)] : null;
      const key = digestOf([answersKey, patchesDigest(older), patchesDigest(target), judgedBy, lo, hi, entries]);
      return kept.judged.keep(key, () => {
        const pairing = pairPatches(older, target);
        // A point on the cover letter is answered by the next cover letter's changelog (patch 0).
        const counterpart = (i: Item) => (i.patch.index === 0 ? 0 : pairing.pairs.find((p) => p.old.index === i.patch.index)?.new[0]?.index);
        const dropped = (i: Item) => i.patch.index > 0 && !pairing.pairs.some((p) => p.old.index === i.patch.index);
        const matched = matchChangelog(entries, raw, { counterpart, dropped });
        const judging = { older: olderReview, newer: targetReview, from: lo, revision: hi, pairing, changelog: matched, answers };
        return raw.map((item) => judgeItem(item, judging));
      });
    };
    const final = against(current);
    // The revisions between the one the point was raised on and the latest, one per place (a
    // RESEND shares its original's): the point's history, step by step.
    const from = place.get(older) ?? 0;
    const between = revisions.filter((s, i) => {
      const k = place.get(s) ?? 0;
      return k > from && k < last && revisions.findIndex((x) => place.get(x) === k) === i;
    });
    const steps = between.map((s) => ({ revision: effectiveRevision(s), judged: against(s) }));
    for (const [n, item] of final.entries()) {
      if (steps.length === 0) {
        items.push(item);
        continue;
      }
      const history = [...steps.map((st) => ({ revision: st.revision, verdict: st.judged[n]!.verdict })), { revision: effectiveRevision(current), verdict: item.verdict }];
      items.push({ ...item, history });
    }
  }
  const pending = revisions.filter((s) => place.get(s) === last).flatMap((s) => allReplies([s])).filter(reviewer).length;
  return { kind: "tracked", series: current, tracker: { series: current, revisions, links, items: noteGhostItems(items, revisions), replies: read, restatements, pending, changelog } };
}

/** Whether `id` names this series: its thread root's Message-ID (with or without <>) or its change-id. */
export function seriesMatches(s: Series, id: string): boolean {
  const bare = id.trim().replace(/^<|>$/g, "");
  return s.id === bare || s.changeId === bare || s.cover?.messageId === bare || s.slots.some((m) => m?.messageId === bare);
}

/**
 * The latest revisions among `all` that trackAll tracks, in its order: every one, or those of
 * the chain `select` names.
 */
export function trackTargets(all: readonly Series[], select?: string): Series[] {
  const latest = latestRevisions(all);
  if (!select) return latest;
  const chosen = all.filter((s) => seriesMatches(s, select));
  // Naming an older revision tracks the latest one it belongs to.
  return latest.filter((l) => chosen.includes(l) || revisionChain(l, all).revisions.some((r) => chosen.includes(r)));
}

/**
 * Track every latest revision among `all` (or the one `select` names): each one with an earlier
 * revision gets a tracker; a latest revision without one says so and nothing else.
 */
export function trackAll(all: readonly Series[], deps: TrackDeps, select?: string, onProgress?: (done: number, total: number) => void): TrackResult[] {
  const targets = trackTargets(all, select);
  // One cache for the whole input: a revision shared by two chains (a resend, a fork) is reviewed once.
  const shared = { ...deps, reviews: deps.reviews ?? new ReviewCache() };
  return targets.map((s, i) => {
    const tracked = trackSeries(s, all, shared);
    onProgress?.(i + 1, targets.length);
    return tracked;
  });
}
