import type { Logger } from "pino";
import type { Unread } from "../ingest/public-inbox/archive.js";
import type { Tracker, TrackResult } from "../feedback/track.js";
import type { Message, Person } from "../patch/message.js";
import { effectiveRevision, linkedIds, normaliseTitle, revisionNumbers, tagged } from "../patch/revision-link.js";
import { groupSeries, type Series } from "../patch/series.js";
import { parseSubject } from "../patch/subject.js";
import { CHANNEL, postMessageId, SIGNATURE, type Draft, type ReplyOptions } from "../publish/mail/compose.js";
import type { SendingPolicy } from "../publish/mail/policy.js";
import { buildOutgoing, type Outgoing } from "../publish/mail/transport.js";
import { replySubject } from "../review/render/email.js";
import { renderTrackerText } from "../review/render/tracker.js";
import { wrap } from "../review/render/wrap.js";
import { digestOf, FeedbackStore, type VerdictChange } from "../state/feedback.js";
import type { MailState } from "../state/mail.js";
import { ReviewTimeout, type Tracking } from "./review-pool.js";

/** A message the tracker could not read: recorded as skipped, with the reason. */
export type Unreadable = Unread;

/** A thread read again from the archive: its messages, when the newest of them arrived, what could not be read. */
export interface ReadThread {
  readonly messages: readonly Message[];
  readonly newest: number;
  readonly skipped: readonly Unreadable[];
}

export interface TrackerDeps {
  readonly state: MailState;
  readonly feedback: FeedbackStore;
  /** trackSeries, in the review workers when they run: it reviews every revision again. */
  readonly track: Tracking;
  readonly from: Person;
  readonly log: Logger;
  readThread(thread: string): Promise<ReadThread>;
}

/** A tracker due on a thread: the mail to send (none for a silent refresh) and what to remember. */
export interface TrackerPost {
  readonly tracker: Tracker;
  /** Ledger thread key: the Message-ID of the cover letter (or first patch) the tracker answers. */
  readonly thread: string;
  readonly body: string;
  readonly outgoing: Outgoing | undefined;
}

/** What one tracker step prepared, and what it could not do: recorded together, by `record` and the channel. */
export interface TrackerBatch {
  readonly posts: readonly TrackerPost[];
  readonly skipped: readonly Unreadable[];
  /** Series whose tracking failed: the others go on; a new reply or revision tries it again. */
  readonly failed: readonly { readonly series: string; readonly detail: string }[];
}

export interface TrackerOptions {
  readonly reply: ReplyOptions;
  /** The list's sending policy: where trackers go, how often a follow-up may. */
  readonly policy: SendingPolicy;
  /** Whether mail may go out for a thread whose newest message arrived then (history, policy none). */
  readonly send: (newest: number) => boolean;
  readonly optedOut: (email: string) => boolean;
  readonly date?: Date;
}

const TRACKER = "tracker";

function headOf(s: Series): Message | undefined {
  return s.cover ?? s.slots.find((m) => m !== undefined);
}

function references(m: Message, extra: readonly string[] = []): string[] {
  const all = [...m.references.filter((r) => r !== m.messageId), m.messageId, ...extra];
  return all.length <= 20 ? all : [all[0]!, ...all.slice(-19)];
}

/**
 * The review tracker on the mailing list: one reply to the cover letter of each revision that
 * has an earlier one, posted once (ledger key what="tracker"). A mail cannot be edited, so when
 * later replies change a verdict the bot answers its own tracker with the changes and the
 * tracker as it stands now; when nothing changed, nothing is sent.
 */
export class MailTracker {
  constructor(private readonly deps: TrackerDeps) {}

  /** Tracked series in threads that got replies, and the revisions after them: what `prepareReplies` tracks. */
  dueForReplies(threads: Iterable<string>): string[] {
    const fb = this.deps.feedback;
    const ids = new Set<string>();
    for (const thread of threads) {
      for (const sid of fb.seriesInThread(thread)) {
        if (fb.trackedThreads(sid).length > 0) ids.add(sid);
        for (const later of fb.followers(sid)) ids.add(later);
      }
    }
    return [...ids];
  }

  /** The series and every thread its earlier revisions may be in, read again from the archive. */
  private async load(
    id: string,
    reviewed: readonly Series[],
    skipped: Unreadable[],
  ): Promise<{ current: Series; known: Series[]; newest: number } | undefined> {
    const { state, feedback } = this.deps;
    const home = state.threadOf(id);
    if (!home) return undefined;
    const own = await this.deps.readThread(home);
    skipped.push(...own.skipped);
    const first = groupSeries(own.messages).series.find((s) => s.id === id);
    if (!first) return undefined;
    const head = headOf(first);
    const titles = new Set([headOf(first), ...first.slots].flatMap((m) => (m ? [normaliseTitle(m.parsedSubject.title)] : [])));
    const threads = new Set(feedback.candidateThreads(first.changeId, first.author.email, revisionBound(first), (subject) => titles.has(normaliseTitle(parseSubject(subject).title))));
    for (const ref of [head?.inReplyTo, ...(head?.references ?? []), ...linkedIds(first)]) {
      const t = ref ? state.threadOf(ref) : undefined;
      if (t) threads.add(t);
    }
    threads.delete(home);
    const messages = new Map(own.messages.map((m) => [m.messageId, m]));
    let newest = own.newest;
    for (const t of threads) {
      const read = await this.deps.readThread(t);
      skipped.push(...read.skipped);
      newest = Math.max(newest, read.newest);
      for (const m of read.messages) if (!messages.has(m.messageId)) messages.set(m.messageId, m);
    }
    // Series reviewed in this very batch are not in the store's series table yet.
    for (const s of reviewed) for (const m of [s.cover, ...s.slots, ...[...s.replies.values()].flat()]) if (m && !messages.has(m.messageId)) messages.set(m.messageId, m);
    const known = [...groupSeries([...messages.values()]).series];
    const current = known.find((s) => s.id === id);
    return current ? { current, known, newest } : undefined;
  }

  /**
   * The tracker mails due for the later revisions among `reviewed` (series just reviewed). Nothing
   * is written: `record` does that in the transaction that records the review, so a crash before
   * it rebuilds the same mails, with the same Message-IDs.
   */
  prepare(reviewed: readonly Series[], o: TrackerOptions): Promise<TrackerBatch> {
    return this.build(this.dueForReviewed(reviewed), reviewed, o);
  }

  /** The series among `reviewed` that `prepare` tracks: the later revisions. */
  dueForReviewed(reviewed: readonly Series[]): string[] {
    return reviewed.filter((s) => s.revision > 1 || this.mayFollow(s)).map((s) => s.id);
  }

  /**
   * A series whose subject gives no number may still be a later revision: its changelog counts
   * further, it was posted into an older thread, its cover links one, or the author posted the
   * same title before. The link found then gives its number.
   */
  private mayFollow(s: Series): boolean {
    const head = headOf(s);
    if (effectiveRevision(s) > 1 || head?.inReplyTo !== undefined || linkedIds(s).length > 0) return true;
    const title = normaliseTitle(head?.parsedSubject.title ?? s.title);
    const earlier = this.deps.feedback.candidateThreads(s.changeId, s.author.email, revisionBound(s), (subject) => normaliseTitle(parseSubject(subject).title) === title, 2);
    const home = this.deps.state.threadOf(s.id);
    return earlier.some((t) => t !== home);
  }

  /**
   * The tracker mails due for replies archived in `threads`, in archive order (also replies
   * read again after a crash: a recheck is harmless).
   */
  prepareReplies(threads: Iterable<string>, o: TrackerOptions): Promise<TrackerBatch> {
    return this.build(this.dueForReplies(threads), [], o);
  }

  /**
   * The trackers of series owed one (a pass that sends nothing tracks each once, at its end,
   * when every message of the pass is in the store): like `prepareReplies`, for these series.
   */
  prepareSeries(ids: readonly string[], o: TrackerOptions): Promise<TrackerBatch> {
    return this.build(ids, [], o);
  }

  private async build(ids: readonly string[], reviewed: readonly Series[], o: TrackerOptions): Promise<TrackerBatch> {
    const posts: TrackerPost[] = [];
    const skipped: Unreadable[] = [];
    const failed: { series: string; detail: string }[] = [];
    for (const id of ids) {
      try {
        const post = await this.one(id, reviewed, o, skipped);
        if (post) posts.push(post);
      } catch (err) {
        // Past its time budget: no tracker this time, rather than one recorded as failed.
        if (err instanceof ReviewTimeout) {
          this.deps.log.warn({ series: id, reason: err.reason, detail: err.detail }, "no tracker");
          continue;
        }
        // One series' tracker failing (a message it cannot use, a review that throws) stays with it.
        failed.push({ series: id, detail: (err as Error).message });
      }
    }
    return { posts, skipped, failed };
  }

  private async one(
    id: string,
    reviewed: readonly Series[],
    o: TrackerOptions,
    skipped: Unreadable[],
  ): Promise<TrackerPost | undefined> {
    const loaded = await this.load(id, reviewed, skipped);
    if (!loaded) return undefined;
    const r = await this.deps.track(loaded.current, loaded.known, "the store", [this.deps.from.email]);
    if (r.kind === "no-previous") {
      this.deps.log.debug({ series: id, reason: r.reason }, "no tracker");
      return undefined;
    }
    const head = headOf(r.tracker.series)!;
    const body = renderTrackerText(r.tracker);
    const fb = this.deps.feedback;
    const state = fb.compareTracker(CHANNEL, head.messageId, id, body);
    if (state === "unchanged") return undefined;
    const series = r.tracker.series;
    if (o.reply.policy === "none" || !o.send(loaded.newest) || o.optedOut(head.from.email) || o.policy.muted([series.cover, ...series.slots])) {
      // Recorded like a review that is withheld: the links and items are what later replies are
      // tracked by, and what the tracker says now is not mailed later as if it were news.
      this.deps.log.info({ series: id, state }, "tracker recorded, not sent (mode, policy, history, age, mute or opt-out)");
      return { tracker: r.tracker, thread: head.messageId, body, outgoing: undefined };
    }
    const changes = fb.changes(r.tracker);
    const first = { channel: CHANNEL, thread: head.messageId, what: TRACKER };
    // Never to the list: to the author alone, and only once an item has a definite verdict.
    const to = o.policy.trackerGoesTo(head.from, r.tracker.items.map((i) => i.verdict));
    let draft: Draft | undefined;
    if (!to) {
      this.deps.log.debug({ series: id, state }, "tracker recorded, not mailed: no definite verdict, or trackers go nowhere");
    } else if (!o.policy.posted(first)) {
      const text = [...body.trimEnd().split("\n"), "", ...SIGNATURE].join("\n");
      draft = this.draft(head, to, first, head.messageId, references(head), o.reply, text);
    } else if (changes.length > 0) {
      // At most one follow-up a day: the changes wait (unrecorded) and go in the next one.
      if (!o.policy.followUpAllowed(head.messageId)) return undefined;
      // An update answers the first tracker mail, where readers look for it.
      const key = { channel: CHANNEL, thread: head.messageId, what: `${TRACKER}:${digestOf(body).slice(0, 16)}` };
      const parent = postMessageId(first, this.deps.from);
      draft = this.draft(head, to, key, parent, references(head, [parent]), o.reply, updateText(changes, r.tracker, body));
    }
    const outgoing = draft ? await buildOutgoing(draft, this.deps.from, o.date) : undefined;
    return { tracker: r.tracker, thread: head.messageId, body, outgoing };
  }

  /** Remember what was prepared: call in the transaction that records the outgoing mail. */
  record(posts: readonly TrackerPost[]): void {
    for (const p of posts) {
      this.deps.feedback.saveTracking(p.tracker);
      this.deps.feedback.recordTracker(CHANNEL, p.thread, p.tracker.series.id, p.body);
    }
  }

  private draft(head: Message, to: Person, key: Draft["key"], inReplyTo: string, refs: string[], o: ReplyOptions, text: string): Draft {
    const list = o.listKey ? { list: o.listKey } : {};
    return { key, ...list, fingerprints: [], messageId: postMessageId(key, o.from), inReplyTo, references: refs, to: [to], cc: [], subject: replySubject(head), text };
  }
}

/**
 * The highest number an earlier posting may carry: its own for a numbered series; any for one whose
 * subject gives none, since it follows whatever came before it.
 */
function revisionBound(s: Series): number {
  return tagged(s) ? effectiveRevision(s) : Number.MAX_SAFE_INTEGER;
}

function updateText(changes: readonly VerdictChange[], t: Tracker, body: string): string {
  const items = new Map(t.items.map((i) => [i.id, i]));
  const out = [`Since the last tracker for v${revisionNumbers(t.revisions, t.links).get(t.series) ?? t.series.revision}:`, ""];
  for (const c of changes) {
    const i = items.get(c.itemId)!;
    out.push(`  ${c.itemId}  ${c.from ?? "new"} -> ${c.to}: ${i.author.name}, ${i.kind} on v${i.version} ${i.patch.index}/${i.patch.total}`);
    for (const e of i.evidence.slice(0, 2)) out.push(...wrap(e, 72, "      ").map((l, k) => (k === 0 ? `    - ${l.trim()}` : l)));
  }
  out.push("", "The tracker as it stands:", "", ...body.trimEnd().split("\n"), "", ...SIGNATURE);
  return out.join("\n");
}
