import { readdirSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { MirrorConfig, MirrorMode } from "../config/config.js";
import { InputError } from "../errors.js";
import { isMbox, splitMbox } from "../ingest/mbox/reader.js";
import { ensureDemoInbox } from "../ingest/public-inbox/demo.js";
import { MBOX_EPOCH, mboxPages, MirrorArchive, originOf, type ArchivePage, type PageEntry, type Unread } from "../ingest/public-inbox/archive.js";
import { fetchInbox } from "../ingest/public-inbox/fetch.js";
import { listEpochs, type CommitList, type Epoch } from "../ingest/public-inbox/reader.js";
import type { Message, Person } from "../patch/message.js";
import { groupSeries, type Series } from "../patch/series.js";
import { assignThread, isThreadDue, LOOSE_PREFIX, repliersOf, untaggedCoverFor } from "../patch/thread.js";
import type { ReplyOptions } from "../publish/mail/compose.js";
import type { SendingPolicy } from "../publish/mail/policy.js";
import { outboxTransport, smtpTransport, type Outgoing } from "../publish/mail/transport.js";
import type { Receipt } from "../publish/target.js";
import { touchesDmaBuf, type SeriesReview } from "../review/review-series.js";
import { FeedbackStore } from "../state/feedback.js";
import { MailState, type MemberRow } from "../state/mail.js";
import type { ChannelContext, Running } from "./context.js";
import { patchworkFor, type PatchworkPublisher } from "./patchwork.js";
import { inlineReviews, ReviewTimeout, startReviewPool, type ReviewPool } from "./review-pool.js";
import { MailTarget } from "./mail-target.js";
import { MailTracker, type ReadThread, type TrackerBatch, type TrackerOptions } from "./mail-tracker.js";
import { reviewPage } from "../review/review-page.js";
import { ReviewPages } from "../state/review-pages.js";

/*
 * The mailing-list channel, top to bottom; the loop that joins the pipeline and owns the store:
 *   receive    each mirror's epochs, commits since the cursor, one cat-file per epoch, every
 *              message triaged as it arrives (ingest/public-inbox/archive.ts, triage.ts), while
 *              the pages before are reviewed
 *   normalise  page by page, in archive order: each message recorded under its thread
 *              (patch/thread.ts assignThread); then each thread whose series is complete, or has
 *              waited `series-wait` (isThreadDue), is read again by the one decoder (ingest/decode.ts)
 *   review     each series grouped (patch/series.ts) and reviewed in the review worker like the
 *              CLI reviews an mbox
 *   publish    replies drafted under the list's policy (publish/mail/), intended in this channel's
 *              ledger with the review (mail-target.ts), the cursor moved past the page with the
 *              trackers its replies earn (mail-tracker.ts); then delivered
 *
 * A batch sees the store exactly as the archive up to its page left it: what is drafted does not
 * depend on how far the reading got, nor on where a crash came. A thread, or a series, whose
 * review fails is recorded as skipped with the reason, and the batch goes on.
 */

export interface PassOptions {
  /**
   * "new": answer what arrived after the bot first read the mirror (everything when the mirror
   * says `history: reply`); "all": answer everything; "none": record and review, send nothing.
   */
  readonly reply: "new" | "all" | "none";
  /** Only messages archived since then (backfill --since). */
  readonly since?: Date;
  /** At most this many messages in this pass (backfill --limit). */
  readonly limit?: number;
  readonly onProgress?: (p: Progress) => void;
  readonly shouldStop?: () => boolean;
}

/**
 * "read": messages of an epoch read so far of those listed; "review": threads reviewed so far in
 * this pass of those found due (the count grows as pages are recorded; the tail after the
 * reading is all review).
 */
export interface Progress {
  readonly phase: "read" | "review" | "track";
  readonly epoch: string;
  readonly done: number;
  readonly total: number;
  readonly seconds: number;
}

/** A message recorded as skipped in a pass, with its reason. */
export type Skipped = Unread;

export interface PassStats {
  /** Messages read from the archive in this pass. */
  messages: number;
  patches: number;
  /** Series reviewed in this pass. */
  reviewed: number;
  /** Replies delivered in this pass. */
  replies: number;
  /** Replies a review earned but that were not sent (history, backfill without --reply, policy, opt-out). */
  withheld: number;
  skipped: Skipped[];
  deleted: number;
  duplicates: number;
  seconds: number;
  /** Time the review batches took (reading threads again, reviewing); it overlaps the reading. */
  reviewSeconds: number;
}

export function emptyStats(): PassStats {
  return { messages: 0, patches: 0, reviewed: 0, replies: 0, withheld: 0, skipped: [], deleted: 0, duplicates: 0, seconds: 0, reviewSeconds: 0 };
}

/** "Name <addr>" or "addr" from the configuration. */
export function parseAddress(value: string): Person {
  const m = /^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(value);
  if (m) return { name: m[1]!.replace(/^"|"$/g, "") || m[2]!, email: m[2]! };
  return { name: value.trim(), email: value.trim() };
}

/** The target the configuration asks for: an outbox directory (default) or SMTP. */
export function mailTarget(ctx: ChannelContext, overrides: { outbox?: string; clock?: () => Date } = {}): MailTarget {
  const mail = ctx.config.mail;
  const transport = mail.delivery === "smtp" && mail.smtp ? smtpTransport(mail.smtp) : outboxTransport(overrides.outbox ?? mail.outbox);
  const defaults: ReplyOptions = { policy: "all", threshold: "warning", list: undefined, from: parseAddress(mail.from) };
  return new MailTarget(ctx.store, transport, defaults, ctx.log.child({ channel: "mail" }), overrides.clock);
}

// Pages read ahead of the reviews: enough to keep git and the review worker busy together.
const MAX_INFLIGHT = 8;
// Threads of a batch read and reviewed ahead of the one being committed: one is parsed while
// another is in the review worker; more only holds more reviews in memory.
const REVIEW_WINDOW = 3;
// Series owed a tracker read ahead of the one being tracked at a pass's end: the review worker
// tracks one while this thread reads and groups the next; one ahead left it waiting whenever a
// series' threads took longer to read than the one before took to track.
const TRACK_AHEAD = 2;
// Patches and cover letters of one thread read for a review; the rest are skipped with a reason.
const MAX_THREAD_SERIES_MESSAGES = 2000;

const NO_TRACKERS: TrackerBatch = { posts: [], skipped: [], failed: [] };

/** An archived commit that leaves a row in the store (a deletion leaves none). */
type Stored = Exclude<PageEntry["entry"], { kind: "deleted" }>;

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

interface Due {
  readonly thread: string;
  readonly members: readonly MemberRow[];
  /** More patches and cover letters than one review reads: the rest are skipped. */
  readonly overflow: boolean;
}

interface ThreadReview {
  readonly thread: string;
  /** The store's ids of the patches and cover letters read, and the series each went to. */
  readonly rows: ReadonlyMap<string, string | undefined>;
  readonly series: readonly { review: SeriesReview }[];
  readonly outgoing: readonly Outgoing[];
  readonly refused: readonly Receipt[];
  readonly skipped: readonly Skipped[];
}

/** One mirror: its epochs' readers, its cursor, its threads. */
export class MailMirror {
  private readonly state: MailState;
  /** The review pages the service shows, one per series reviewed (read by the HTTP server). */
  private readonly pages: ReviewPages;
  private readonly tracker: MailTracker;
  private readonly archive: MirrorArchive;
  private readonly reported = new Set<string>();
  private readonly log: Logger;
  private readonly source: string;

  // Pages are recorded and reviewed off the reading loop, one batch after the other in page
  // order, while the next pages are being read and triaged (which writes nothing).
  private chain: Promise<void> = Promise.resolve();
  private inflight = 0;
  // A batch that could not be committed (the store failing): the pass stops at the page before.
  private broken: Error | undefined;
  // Threads in which the page being recorded has replies: the trackers they may change.
  private readonly replied = new Set<string>();
  // A pass in which no mail can go out (shadow mode, or --reply none): the trackers it owes are
  // noted in the store and tracked once each at its end (trackDue), not after every page.
  private deferring = false;
  // Threads found due and reviewed in this pass, for the review progress.
  private due = 0;
  private reviewedThreads = 0;
  // The list's patchwork project, when the mirror names one: checks go there whatever the mail mode.
  private readonly patchwork: PatchworkPublisher | undefined;

  constructor(
    private readonly ctx: ChannelContext,
    readonly mirror: MirrorConfig,
    private readonly target: MailTarget,
    private readonly reviews: Pick<ReviewPool, "review" | "track"> = inlineReviews(ctx.review),
  ) {
    this.state = new MailState(ctx.store.db);
    this.archive = new MirrorArchive(mirror.inbox, (id) => this.state.raw(id));
    this.pages = new ReviewPages(ctx.store.db);
    this.tracker = new MailTracker({
      state: this.state,
      feedback: new FeedbackStore(ctx.store.db),
      track: reviews.track,
      from: target.from,
      log: ctx.log.child({ channel: "mail", mirror: mirror.name, part: "tracker" }),
      readThread: (thread) => this.readThread(thread),
    });
    this.log = ctx.log.child({ channel: "mail", mirror: mirror.name });
    this.patchwork = patchworkFor(ctx, mirror);
    this.source = mirror.inbox;
    for (const email of ctx.config.mail.optOut) this.state.optOut(email, "config");
    this.policy(); // the list's daily cap is known to the target before its first flush
  }

  /** One pass: fetch, read every epoch up to its head, review what is due, deliver. */
  async pass(run: PassOptions): Promise<PassStats> {
    const stats = emptyStats();
    const started = Date.now();
    this.broken = undefined;
    this.due = 0;
    this.reviewedThreads = 0;
    const asked = run.shouldStop;
    run = { ...run, shouldStop: () => this.broken !== undefined || asked?.() === true };
    const firstRead = this.ctx.store.transaction(() => this.state.firstRead(this.source, Math.floor(started / 1000)));
    this.deferring = this.withheld(run, Number.MAX_SAFE_INTEGER, firstRead) !== undefined;
    this.target.startPass(); // the hard cap of mails per pass counts from here
    stats.replies += (await this.target.flush()).filter((r) => r.ok).length; // intended before a crash: they go out first
    // Owed by a pass that could send nothing and was stopped: recorded before this one sends.
    if (!this.deferring) await this.trackDue(run, stats, firstRead);
    await this.patchwork?.flush();
    if (this.mirror.remote) {
      try {
        const f = await fetchInbox(this.mirror.inbox, this.mirror.remote);
        if (f.cloned.length > 0) this.log.info({ cloned: f.cloned }, "new epochs cloned");
      } catch (err) {
        this.report("fetch", "unreadable", `fetch from ${this.mirror.remote} failed: ${(err as Error).message}`);
      }
    }
    let epochs: Epoch[] = [];
    let budget = run.limit ?? Number.POSITIVE_INFINITY;
    let clock = 0;
    if (isFile(this.mirror.inbox)) {
      await this.readMbox(run, stats, firstRead, budget, started);
      budget = 0;
    } else {
      try {
        epochs = listEpochs(this.mirror.inbox);
      } catch (err) {
        this.report("-", "unreadable", err instanceof InputError ? err.detail : (err as Error).message);
      }
    }
    // An epoch's listing is started while the one before is being read (unless the limit
    // stops the pass in that one): git lists it on the side instead of before the reading goes on.
    const listings = new Map<Epoch, Promise<CommitList>>();
    const listing = (epoch: Epoch) => {
      let p = listings.get(epoch);
      if (!p) {
        p = this.listEpoch(epoch, run);
        p.catch(() => undefined); // awaited, and reported, by readEpoch
        listings.set(epoch, p);
      }
      return p;
    };
    for (const [i, epoch] of epochs.entries()) {
      if (budget <= 0 || run.shouldStop?.()) break;
      const list = listing(epoch);
      const following = epochs[i + 1];
      const left = budget;
      if (following)
        list.then(
          (l) => {
            if (l.count < left) listing(following);
          },
          () => undefined,
        );
      const read = await this.readEpoch(epoch, list, run, stats, firstRead, budget, clock, started);
      budget -= read.messages;
      clock = read.clock;
    }
    // Caught up: what waits is measured against the wall clock now.
    if (!run.shouldStop?.()) this.enqueue(undefined, run, stats, firstRead, started);
    await this.chain;
    await this.patchwork?.flush();
    stats.seconds = (Date.now() - started) / 1000;
    if (this.broken) throw this.broken;
    return stats;
  }

  /** An archive-level problem (an epoch git cannot read, a failed fetch): logged and recorded once. */
  private report(epoch: string, reason: string, detail: string): void {
    const key = `${epoch}\0${detail}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.log.error({ epoch, reason, detail }, "archive problem; going on with the rest");
    this.ctx.store.transaction(() => this.state.archiveError(this.source, epoch, reason, detail));
  }

  /**
   * A plain mbox file as a mirror: what was appended since the last pass is read, in pages like
   * an epoch. The cursor counts the messages read; a file that shrank (rotated) is read again
   * from its start, known messages recognised. The bytes are kept in the store: a position in
   * a file that may be rewritten is no way to find a message again.
   */
  private async readMbox(
    run: PassOptions,
    stats: PassStats,
    firstRead: number,
    budget: number,
    started: number,
  ): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.mirror.inbox);
    } catch (err) {
      this.report("-", "unreadable", (err as NodeJS.ErrnoException).code ?? String(err));
      return;
    }
    const raws = isMbox(bytes) ? splitMbox(bytes, this.mirror.inbox) : bytes.length > 0 ? [{ bytes, source: this.mirror.inbox }] : [];
    let done = Number(this.ctx.store.cursors.get(this.source, MBOX_EPOCH) ?? 0);
    if (!(done <= raws.length)) done = 0;
    const end = Math.min(raws.length, done + budget);
    for (const page of mboxPages(this.mirror.inbox, raws, done, end, this.ctx.config.mail.batch)) {
      if (run.shouldStop?.()) break;
      this.enqueue(page, run, stats, firstRead, started);
      while (this.inflight > MAX_INFLIGHT) await this.settled();
    }
  }

  /** What arrived in an epoch since its cursor. */
  private async listEpoch(epoch: Epoch, run: PassOptions): Promise<CommitList> {
    const reader = this.archive.reader(epoch);
    let after = this.ctx.store.cursors.get(this.source, epoch.name);
    if (after && !(await reader.has(after))) {
      // The epoch was replaced (a re-clone): read it again; known messages are recognised.
      this.log.warn({ epoch: epoch.name, cursor: after }, "cursor not in the epoch any more; reading it from the start");
      after = undefined;
    }
    return reader.list(after, run.since);
  }

  private async readEpoch(
    epoch: Epoch,
    listed: Promise<CommitList>,
    run: PassOptions,
    stats: PassStats,
    firstRead: number,
    budget: number,
    clockIn: number,
    started: number,
  ): Promise<{ messages: number; clock: number }> {
    let clock = clockIn;
    let messages = 0;
    try {
      const list = await listed;
      const stop = () => run.shouldStop?.() === true;
      for await (const page of this.archive.pages(epoch, list, this.ctx.config.mail.batch, budget, clock, stop)) {
        messages += page.entries.length;
        clock = page.clock;
        this.enqueue(page, run, stats, firstRead, started);
        const seconds = (Date.now() - started) / 1000;
        run.onProgress?.({ phase: "read", epoch: epoch.name, done: messages, total: Math.min(list.count, budget), seconds });
        // Read ahead of the reviews, but not without bound: the cursor follows the reviews.
        while (this.inflight > MAX_INFLIGHT) await this.settled();
      }
    } catch (err) {
      this.report(epoch.name, "unreadable", (err as Error).message.split("\n")[0] ?? String(err));
    }
    return { messages, clock };
  }

  /**
   * Normalise a page's messages into the store (call inside its transaction). Each message in
   * a savepoint of its own: one that cannot be recorded is recorded as skipped, with the reason.
   */
  private recordPage(page: ArchivePage, stats: PassStats, seenAt: string): void {
    for (const d of page.entries) {
      try {
        this.ctx.store.transaction(() => this.record(d, page.epoch, stats, seenAt));
      } catch (err) {
        const e = d.entry;
        if (e.kind === "deleted") throw err;
        const id = d.triage?.ok ? d.triage.value.messageId : `commit-${e.commit.commit}@dmabuf-review.invalid`;
        const detail = `it could not be recorded: ${(err as Error).message}`;
        this.skipMessage(e, this.originOf(e, page.epoch), stats, seenAt, id, "unreadable", detail);
      }
    }
  }

  private originOf(e: Stored, epoch: Epoch): string {
    return originOf(epoch, e.commit, e.kind === "unreadable" ? undefined : e.oid);
  }

  /** A message recorded as skipped, with its reason: once, however often it is read. */
  private skipMessage(e: Stored, origin: string, stats: PassStats, seenAt: string, id: string, reason: string, detail: string): void {
    const inserted = this.state.insert({
      messageId: id,
      source: this.source,
      origin,
      kind: "skipped",
      subject: null,
      author: null,
      date: null,
      inReplyTo: null,
      status: "skipped",
      reason: `${reason}: ${detail}`,
      thread: null,
      revision: null,
      patchIndex: null,
      patchTotal: null,
      arrivedAt: e.commit.time,
    }, seenAt);
    if (!inserted) return;
    stats.skipped.push({ id, reason, detail });
    this.log.warn({ id, origin, reason, detail }, "message skipped");
  }

  /** Normalise: one archived commit into the store, by thread. */
  private record(d: PageEntry, epoch: Epoch, stats: PassStats, seenAt: string): void {
    const e = d.entry;
    if (e.kind === "deleted") {
      stats.deleted++;
      return;
    }
    const origin = this.originOf(e, epoch);
    const skip = (id: string, reason: string, detail: string) => this.skipMessage(e, origin, stats, seenAt, id, reason, detail);
    // Unread messages have no Message-ID we know: the blob (or commit) names them.
    if (e.kind === "too-large") return skip(`blob-${e.oid}@dmabuf-review.invalid`, "too-large", `${e.size} bytes, limit exceeded`);
    if (e.kind === "unreadable") return skip(`commit-${e.commit.commit}@dmabuf-review.invalid`, "unreadable", e.detail);
    const t = d.triage!;
    if (!t.ok) return skip(t.messageId ?? `blob-${e.oid}@dmabuf-review.invalid`, t.reason, t.detail);
    const m = t.value;
    const thread = assignThread(m, this.state);
    // A cover letter without [PATCH 0/N], by the rule groupSeries uses: read before its patches,
    // it is marked when the first of them arrives; read after them, it is recorded as one.
    const cover = untaggedCoverFor(m, this.state);
    const asCover = cover?.messageId === m.messageId ? cover : undefined;
    if (cover && !asCover) this.state.markCover(cover);
    const kind = asCover ? "cover" : m.kind;
    if (kind === "reply") this.replied.add(thread);
    const inserted = this.state.insert({
      messageId: m.messageId,
      source: this.source,
      origin,
      kind,
      subject: m.subject,
      author: m.from,
      date: m.date?.toISOString() ?? null,
      inReplyTo: m.inReplyTo ?? null,
      status: "seen",
      reason: null,
      thread,
      revision: asCover?.revision ?? m.revision,
      patchIndex: kind === "cover" ? 0 : (m.index ?? (kind === "patch" ? 1 : null)),
      patchTotal: asCover ? asCover.total : kind === "patch" || kind === "cover" ? (m.total ?? 1) : null,
      arrivedAt: e.commit.time,
      raw: d.raw ?? null,
    }, seenAt);
    if (!inserted) {
      stats.duplicates++; // a cross-post, a resend, or a batch read again after a crash
      return;
    }
    if (m.kind === "patch") stats.patches++;
    if (kind === "patch" || kind === "cover") {
      // Open groups of unthreaded patches are found by their row (openLoose), relevant or not.
      if (m.relevant || thread.startsWith(LOOSE_PREFIX)) this.state.wait(thread, this.source, m.relevant, e.commit.time);
      else this.state.touch(thread, e.commit.time);
    }
    if (m.optOut && m.from && m.from !== this.target.from.email.toLowerCase() && this.state.optOut(m.from, m.messageId)) {
      this.log.info({ author: m.from, messageId: m.messageId }, "author opted out of automated reviews");
    }
  }

  /** What a due check reads of a thread's patches and cover letters. */
  private isDue(members: readonly MemberRow[], clock: number): boolean {
    const slots = members.map((m) => ({ kind: m.kind, status: m.status, revision: m.revision, patchIndex: m.patch_index, patchTotal: m.patch_total, arrivedAt: m.arrived_at }));
    return isThreadDue(slots, clock, this.ctx.config.mail.seriesWaitSeconds);
  }

  /** For the tracker: every readable message of a thread, and when the newest arrived. */
  private async readThread(thread: string): Promise<ReadThread> {
    const rows = this.state.members(thread).filter((m) => m.status !== "skipped");
    const { messages, unread: skipped } = await this.archive.read(rows);
    return { messages, newest: Math.max(0, ...rows.map((r) => r.arrived_at)), skipped };
  }

  /** Whether mail may go out for a series whose newest message arrived at `newest` (mode, history, --reply). */
  private sends(run: PassOptions, newest: number, firstRead: number): boolean {
    return this.withheld(run, newest, firstRead) === undefined;
  }

  /** Why no mail goes out for a thread whose newest message arrived at `newest`, or undefined. */
  private withheld(run: PassOptions, newest: number, firstRead: number): string | undefined {
    return this.policy().withheld(this.mirror, run.reply, newest, firstRead);
  }

  /** The mirror's sending policy (policy.ts), on the target's ledger and clock. */
  private policy(): SendingPolicy {
    return this.target.policy(this.mirror.name, this.mirror.sending ?? {});
  }

  /** The mirror's reply options: who is answered, from which severity, the list and its policy. */
  private replyOptions(): Omit<ReplyOptions, "from"> {
    const m = this.mirror;
    return { policy: m.policy, threshold: m.threshold, list: m.list, listKey: m.name, sending: m.sending ?? {} };
  }

  /** One series reviewed and its replies drafted; a failure is tried once more (it may be a sibling's). */
  private async reviewOne(
    ser: Series,
    newest: number,
    run: PassOptions,
    firstRead: number,
    repliers: ReadonlyMap<string, readonly Person[]>,
  ): Promise<{ review: SeriesReview; outgoing: readonly Outgoing[]; refused: readonly Receipt[] }> {
    let s: SeriesReview;
    try {
      s = await this.reviews.review(ser);
    } catch (err) {
      // Past its time budget it would take as long again.
      if (err instanceof ReviewTimeout) throw err;
      // A review worker that dies fails every review it held, not only the one that killed it.
      this.log.warn({ series: ser.id, err: (err as Error).message }, "review failed; trying it once more");
      s = await this.reviews.review(ser);
    }
    const policy = { ...this.replyOptions(), repliers };
    const reason = this.withheld(run, newest, firstRead);
    if (reason) {
      // Counted, not built: nothing will be sent.
      const refused = this.target.draft(s, policy).drafts.map((d) => ({ target: this.target.name, ok: false, what: d.key.what, reason }));
      return { review: s, outgoing: [], refused };
    }
    const p = await this.target.prepare(s, policy);
    return { review: s, outgoing: p.outgoing, refused: p.refused };
  }

  /** Review: a due thread, read again in full and reviewed like an mbox, one series at a time. */
  private async reviewThread(due: Due, run: PassOptions, firstRead: number): Promise<ThreadReview> {
    const { thread, members } = due;
    // The review needs the series, not the discussion: replies stay in the store under their
    // thread (the tracker reads them), and are not parsed again here.
    const wanted = members.filter((m) => m.status !== "skipped" && (m.kind === "patch" || m.kind === "cover"));
    const { messages, refOf: rowOf, unread: skipped } = await this.archive.read(wanted);
    // What was asked for and neither built nor refused is gone from the archive (an epoch
    // removed): say so, or the thread would wait for it forever.
    const seen = new Set([...[...rowOf.values()].map((r) => r.message_id), ...skipped.map((k) => k.id)]);
    for (const r of wanted) if (!seen.has(r.message_id)) skipped.push({ id: r.message_id, reason: "unreadable", detail: `${r.origin} is not in the archive any more` });
    const rows = new Map<string, string | undefined>([...rowOf.values()].map((r) => [r.message_id, undefined]));
    const series: { review: SeriesReview }[] = [];
    // The replies stay in the store, but those who wrote them take part in the thread (Cc).
    const posts = this.state.posts(thread).map((p) => ({ messageId: p.message_id, kind: p.kind, inReplyTo: p.in_reply_to, author: p.author }));
    const repliers = repliersOf(posts);
    const outgoing: Outgoing[] = [];
    const refused: Receipt[] = [];
    for (const grouped of groupSeries(messages).series) {
      const ser = keptIdentity(grouped, rowOf);
      const ids = [ser.cover, ...ser.slots, ...ser.duplicates].flatMap((m) => (m ? [m.messageId] : []));
      const fresh = ids.filter((id) => rowOf.get(id)?.status === "seen");
      if (fresh.length === 0) continue; // reviewed before; a late reply changes nothing
      const newest = Math.max(...ids.map((id) => rowOf.get(id)?.arrived_at ?? 0));
      try {
        const r = await this.reviewOne(ser, newest, run, firstRead, repliers);
        series.push({ review: r.review });
        outgoing.push(...r.outgoing);
        refused.push(...r.refused);
        for (const id of ids) if (rowOf.has(id)) rows.set(id, ser.id);
      } catch (err) {
        // This series stays skipped; the thread's other series, and a later revision, go on.
        if (err instanceof ReviewTimeout) {
          for (const id of fresh) skipped.push({ id, reason: err.reason, detail: err.detail });
          continue;
        }
        const detail = `the review of ${ser.id} failed: ${(err as Error).message}`;
        for (const id of fresh) skipped.push({ id, reason: "review-failed", detail });
      }
    }
    return { thread, rows, series, outgoing, refused, skipped };
  }

  private readonly waiters: (() => void)[] = [];

  /** Resolves when the batch at the head of the chain is done. */
  private settled(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Queue a page (or, with none, the catch-up at the end of a pass) behind the batches before. */
  private enqueue(page: ArchivePage | undefined, run: PassOptions, stats: PassStats, firstRead: number, started: number): void {
    this.inflight++;
    this.chain = this.chain.then(async () => {
      try {
        if (!this.broken) await this.batch(page, run, stats, firstRead, started);
      } catch (err) {
        // Not a thread's fault (those are confined): the store failed. The cursor stays before
        // this page and the pass ends; the next one starts here again.
        this.broken = err as Error;
        this.log.error({ err: (err as Error).message, page: page?.to }, "batch failed; the pass stops before it");
      } finally {
        this.inflight--;
        for (const w of this.waiters.splice(0)) w();
      }
    });
  }

  /**
   * One page, start to end: record its messages, pick the threads due at its clock (archive
   * time; the wall clock for the catch-up), review and commit them one after the other, then
   * the trackers the page's replies earn, with the cursor move. Each thread is committed on
   * its own, so a restart redoes at most one thread and the page's trackers.
   */
  private async batch(
    page: ArchivePage | undefined,
    run: PassOptions,
    stats: PassStats,
    firstRead: number,
    started: number,
  ): Promise<void> {
    // Stopping: what is left of the chain is not started; the next pass reads it again.
    if (run.shouldStop?.()) return;
    this.replied.clear();
    if (page) {
      const seenAt = new Date().toISOString();
      this.ctx.store.transaction(() => this.recordPage(page, stats, seenAt));
      stats.messages += page.entries.length;
    }
    const clock = page ? page.clock : Math.floor(Date.now() / 1000);
    const due = this.dueThreads(clock);
    this.due += due.length;
    const epoch = page?.to.epoch ?? "-";
    const progress = () =>
      run.onProgress?.({ phase: "review", epoch, done: this.reviewedThreads, total: this.due, seconds: (Date.now() - started) / 1000 });
    if (due.length > 0) progress();
    const t0 = Date.now();
    const ahead: (Promise<ThreadReview | Error> | undefined)[] = [];
    const start = (i: number) => {
      const d = due[i];
      if (!d || ahead[i]) return;
      ahead[i] = this.reviewThread(d, run, firstRead).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    };
    let deliver = true;
    for (let i = 0; i < due.length; i++) {
      // Stopping between threads: the cursor stays before the page, the rest waits in the store.
      if (run.shouldStop?.()) {
        await Promise.all(ahead);
        return;
      }
      for (let k = i; k < i + REVIEW_WINDOW; k++) start(k);
      const r = await ahead[i]!;
      ahead[i] = undefined;
      let recorded: boolean;
      try {
        if (r instanceof Error) recorded = this.commitFailed(due[i]!, r, stats);
        else recorded = await this.commitThread(r, due[i]!, run, stats, firstRead);
      } catch (err) {
        // A review the store would not take: the thread is skipped (if the store itself is
        // failing, this throws too, and the batch stops).
        recorded = this.commitFailed(due[i]!, err as Error, stats);
      }
      this.reviewedThreads++;
      progress();
      // Mail goes out as its thread is committed, unless delivery is failing: then at the end.
      if (recorded && deliver) deliver = await this.deliver(stats);
    }
    stats.reviewSeconds += (Date.now() - t0) / 1000;
    // The page's replies: trackers whose verdicts they may change, committed with the cursor
    // (or, in a pass that sends nothing, owed with it).
    if (this.deferring) {
      const owed = this.tracker.dueForReplies(this.replied);
      this.ctx.store.transaction(() => {
        this.state.trackerDue(this.source, owed);
        if (page) this.ctx.store.cursors.set(this.source, page.to.epoch, page.to.commit);
      });
      if (!page) await this.trackDue(run, stats, firstRead);
    } else {
      const replies = await this.tracker.prepareReplies(this.replied, this.trackerOptions(run, firstRead));
      this.ctx.store.transaction(() => {
        this.recordTrackers(replies, stats);
        if (page) this.ctx.store.cursors.set(this.source, page.to.epoch, page.to.commit);
      });
    }
    await this.deliver(stats);
  }

  /**
   * The trackers owed (table tracker_due), in the order they were first owed: each series
   * tracked once over all the store holds, recorded and never sent (they were owed where no
   * mail could go), and cleared in the transaction that records it. A stop leaves the rest.
   */
  private async trackDue(run: PassOptions, stats: PassStats, firstRead: number): Promise<void> {
    const ids = this.state.dueTrackers(this.source);
    if (ids.length === 0) return;
    const o: TrackerOptions = { ...this.trackerOptions(run, firstRead), send: () => false };
    const started = Date.now();
    const progress = (done: number) => run.onProgress?.({ phase: "track", epoch: "-", done, total: ids.length, seconds: (Date.now() - started) / 1000 });
    progress(0);
    // The next series are read from the archive while this one is tracked (in the review worker).
    const ahead = new Map<number, Promise<TrackerBatch>>();
    const start = (i: number) => {
      const id = ids[i];
      if (id === undefined || ahead.has(i)) return;
      const p = this.tracker.prepareSeries([id], o);
      p.catch(() => undefined); // awaited below, or dropped with the pass
      ahead.set(i, p);
    };
    for (let i = 0; i < ids.length; i++) {
      if (run.shouldStop?.()) break;
      for (let k = i; k <= i + TRACK_AHEAD; k++) start(k);
      const t = await ahead.get(i)!;
      ahead.delete(i);
      this.ctx.store.transaction(() => {
        this.recordTrackers(t, stats);
        this.state.trackerDone(this.source, ids[i]!);
      });
      progress(i + 1);
    }
    await Promise.allSettled(ahead.values());
  }

  /** Delivers what is pending; false when something did not go. */
  private async deliver(stats: PassStats): Promise<boolean> {
    const receipts = await this.target.flush();
    stats.replies += receipts.filter((r) => r.ok).length;
    return receipts.every((r) => r.ok);
  }

  /** The threads due at `clock`, oldest waiting first (ties by thread: the same order after a restart). */
  private dueThreads(clock: number): Due[] {
    const due: Due[] = [];
    for (const w of this.state.waitingThreads(this.source)) {
      const members = this.state.seriesMembers(w.thread, MAX_THREAD_SERIES_MESSAGES + 1);
      if (!this.isDue(members, clock)) continue;
      const overflow = members.length > MAX_THREAD_SERIES_MESSAGES;
      const read = overflow ? members.slice(0, MAX_THREAD_SERIES_MESSAGES) : members;
      due.push({ thread: w.thread, members: read, overflow });
    }
    return due;
  }

  private trackerOptions(run: PassOptions, firstRead: number): TrackerOptions {
    return {
      reply: { ...this.replyOptions(), from: this.target.from },
      policy: this.policy(),
      send: (newest) => this.sends(run, newest, firstRead),
      optedOut: (email) => this.state.isOptedOut(email),
    };
  }

  /** Inside a transaction: what the tracker prepared, and what it could not read or track. */
  private recordTrackers(t: TrackerBatch, stats: PassStats): void {
    this.target.record(t.posts.flatMap((p) => (p.outgoing ? [p.outgoing] : [])));
    this.tracker.record(t.posts);
    for (const k of t.skipped) this.state.skip(k.id, `${k.reason}: ${k.detail}`);
    for (const f of t.failed) this.state.archiveError(this.source, "tracker", "tracker-failed", `${f.series}: ${f.detail}`);
    stats.skipped.push(...t.skipped);
    for (const k of t.skipped) this.log.warn({ ...k }, "message skipped by the tracker");
    for (const f of t.failed) this.log.error({ series: f.series, detail: f.detail }, "tracker failed; the rest goes on");
  }

  /**
   * Publish one thread: its review, its replies and the trackers of the later revisions it
   * holds, in one transaction; returns whether mail was recorded.
   */
  private async commitThread(
    t: ThreadReview,
    due: Due,
    run: PassOptions,
    stats: PassStats,
    firstRead: number,
  ): Promise<boolean> {
    // One review tracker per later revision, on its cover letter (src/channels/mail-tracker.ts),
    // for series on the dma-buf surface: a list gets no trackers for the rest of its traffic.
    // A pass that sends nothing owes them instead, with the thread, until its end.
    const tracked = t.series.filter((s) => touchesDmaBuf(s.review)).map((s) => s.review.series);
    const owed = this.deferring ? this.tracker.dueForReviewed(tracked) : [];
    const trackers = this.deferring ? NO_TRACKERS : await this.tracker.prepare(tracked, this.trackerOptions(run, firstRead));
    const arrived = new Map(due.members.map((r) => [r.message_id, r.arrived_at]));
    this.ctx.store.transaction(() => {
      for (const k of t.skipped) this.state.skip(k.id, `${k.reason}: ${k.detail}`);
      for (const { review: s } of t.series) {
        const ser = s.series;
        const times = [ser.cover, ...ser.slots].flatMap((m) => {
          const t = m && arrived.get(m.messageId);
          return t === undefined ? [] : [t];
        });
        const first = Math.min(...times);
        this.state.recordSeries({
          id: ser.id,
          title: ser.title,
          revision: ser.revision,
          total: ser.total,
          changeId: ser.changeId,
          author: `${ser.author.name} <${ser.author.email}>`,
          // Archive facts only: a series without a Date header is dated by its first message's.
          firstSeen: (ser.date ?? new Date(Number.isFinite(first) ? first * 1000 : 0)).toISOString(),
        });
        this.pages.record(reviewPage(s, { channel: "mail", place: this.mirror.name }));
        // Checks are recorded with the thread, in its transaction, so a crash cannot leave one behind.
        this.patchwork?.intend(s);
        for (const p of s.patches)
          for (const f of p.findings)
            this.state.recordFinding({
              seriesId: ser.id,
              patchId: p.message.messageId,
              fingerprint: f.fingerprint,
              rule: f.rule,
              severity: f.severity,
              file: f.file,
              line: f.line,
              message: f.message,
            });
      }
      // Every patch and cover letter read is done with, in a series or not (a series reviewed
      // before); one past what a review reads is skipped, or the thread would wait forever.
      for (const [id, seriesId] of t.rows) this.state.markReviewed(id, seriesId);
      const overflow = `too-large: the thread holds more than ${MAX_THREAD_SERIES_MESSAGES} patches and cover letters`;
      if (due.overflow) this.state.skipWaiting(t.thread, overflow);
      this.state.threadReviewed(t.thread);
      this.target.record(t.outgoing);
      this.recordTrackers(trackers, stats);
      this.state.trackerDue(this.source, owed);
    });
    stats.reviewed += t.series.length;
    stats.withheld += t.refused.length;
    stats.skipped.push(...t.skipped);
    for (const k of t.skipped) this.log.warn({ ...k }, "message skipped at review");
    for (const { review: s } of t.series) {
      const findings = s.patches.reduce((n, p) => n + p.findings.length, 0);
      this.log.info({ series: s.series.id, title: s.series.title, findings }, "series reviewed");
    }
    return t.outgoing.length > 0 || trackers.posts.some((p) => p.outgoing);
  }

  /**
   * A thread whose review failed outside any one series (reading it, grouping it): what waited
   * in it is skipped with the reason, so it does not rejoin every later batch. A later revision
   * posted into the thread is reviewed on its own.
   */
  private commitFailed(due: Due, err: Error, stats: PassStats): boolean {
    const reason = "review-failed";
    const detail = `the review of thread ${due.thread} failed: ${err.message}`;
    const fresh = due.members.filter((m) => m.status === "seen" && (m.kind === "patch" || m.kind === "cover"));
    this.ctx.store.transaction(() => {
      for (const m of fresh) this.state.skip(m.message_id, `${reason}: ${detail}`);
      this.state.threadReviewed(due.thread);
    });
    stats.skipped.push(...fresh.map((m) => ({ id: m.message_id, reason, detail })));
    this.log.error({ thread: due.thread, err: err.message, skipped: fresh.length }, "thread review failed; its messages skipped, the rest goes on");
    return false;
  }

  async close(): Promise<void> {
    await this.archive.close();
  }
}

/**
 * A series reviewed before its cover letter was read (an untagged cover archived after its
 * patches) is named by its first patch; reviewed again with the cover, it keeps that name, or
 * the store and the review pages would hold the same revision twice.
 */
function keptIdentity(ser: Series, rowOf: ReadonlyMap<string, { readonly series_id: string | null }>): Series {
  if (!ser.cover) return ser;
  const patches = new Set(ser.slots.flatMap((m) => (m ? [m.messageId] : [])));
  for (const id of patches) {
    const before = rowOf.get(id)?.series_id;
    if (before && before !== ser.id && patches.has(before)) return { ...ser, id: before };
  }
  return ser;
}

/**
 * The demo mirror: the bundled inbox under the data directory, answered in full. It is enabled
 * for the outbox only (its replies are files to read); with SMTP delivery it stays in shadow mode.
 */
export function demoMirror(dataDir: string, mode: MirrorMode = "send"): MirrorConfig {
  return { name: "demo", inbox: join(dataDir, "demo-inbox"), remote: undefined, pollSeconds: 300, policy: "all", threshold: "warning", list: undefined, history: "reply", mode, sending: { maxAgeSeconds: Number.MAX_SAFE_INTEGER } };
}

function countEml(dir: string): number {
  try {
    return readdirSync(dir).filter((f) => f.endsWith(".eml")).length;
  } catch {
    return 0;
  }
}

export interface MailChannelOptions {
  /** One pass over every mirror, then return (watch --once). */
  readonly once?: boolean;
  /** Where a human reads what the demo did (stderr by default). */
  readonly say?: (line: string) => void;
  /** Told after every pass over a mirror (/healthz). */
  readonly onPass?: (mirror: MirrorConfig, outcome: PassOutcome) => void;
  /** A progress display for one pass over a mirror (the CLI's bar or lines on stderr). */
  readonly progress?: (mirror: string) => { update(p: Progress): void; done(): void };
}

/** How a pass over a mirror ended. */
export type PassOutcome = { readonly ok: true; readonly stats: PassStats } | { readonly ok: false; readonly error: string };

/** The mailing-list channel: follow public-inbox mirrors, review series, reply by mail. */
export async function startMailChannel(ctx: ChannelContext, opts: MailChannelOptions = {}): Promise<Running> {
  const log = ctx.log.child({ channel: "mail" });
  const say = opts.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  const mirrors = [...ctx.config.mail.mirrors];
  if (ctx.config.mail.demo) {
    const demo = demoMirror(ctx.config.dataDir, ctx.config.mail.delivery === "outbox" ? "send" : "shadow");
    if (await ensureDemoInbox(demo.inbox)) log.info({ inbox: demo.inbox }, "demo inbox built from the fixtures");
    mirrors.push(demo);
  }
  if (mirrors.length === 0) {
    log.warn("no mirror configured (mail.mirrors) and the demo is off: the mail channel has nothing to follow");
    return { name: "mail", stop: async () => {} };
  }
  const target = mailTarget(ctx);
  // One review worker: the reading loop keeps a core, git and the worker share the other.
  const pool = await startReviewPool(1, ctx.review, log, { budgetMs: ctx.config.reviewBudgetMs });
  const engines = mirrors.map((m) => new MailMirror(ctx, m, target, pool));
  let stopping = false;
  let announced = false;
  const wakers = new Set<() => void>();
  const sleep = (seconds: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, seconds * 1000);
      wakers.add(done);
    });
  const passOnce = async (e: MailMirror) => {
    const shown = opts.progress?.(e.mirror.name);
    try {
      const onProgress = shown ? { onProgress: (p: Progress) => shown.update(p) } : {};
      const s = await e.pass({ reply: "new", shouldStop: () => stopping, ...onProgress }).finally(() => shown?.done());
      opts.onPass?.(e.mirror, { ok: true, stats: s });
      const mode = e.mirror.mode ?? "shadow";
      log.info({ mirror: e.mirror.name, mode, messages: s.messages, reviewed: s.reviewed, replies: s.replies, withheld: s.withheld, skipped: s.skipped.length, seconds: s.seconds }, "pass done");
      if (!announced && ctx.config.mail.demo && e.mirror.inbox === demoMirror(ctx.config.dataDir).inbox) {
        announced = true;
        if (ctx.config.mail.delivery === "outbox") {
          const n = countEml(ctx.config.mail.outbox);
          say(`dmabuf-review: demo: ${n} ${n === 1 ? "reply" : "replies"} in ${ctx.config.mail.outbox} (plain-text .eml files, one per reply; open them with any mail reader)`);
        }
        if (!opts.once) say("dmabuf-review: watching for new mail; Ctrl-C stops");
      }
    } catch (err) {
      log.error({ mirror: e.mirror.name, err: (err as Error).message }, "pass failed; trying again at the next poll");
      opts.onPass?.(e.mirror, { ok: false, error: (err as Error).message });
    }
  };
  const close = async () => {
    for (const e of engines) await e.close();
    target.close();
    await pool.close();
  };
  if (opts.once) {
    for (const e of engines) await passOnce(e);
    return { name: "mail", stop: close };
  }
  // Mirrors take turns: one loop, so two passes never flush the same pending reply at once.
  const next = new Map(engines.map((e) => [e, 0]));
  const loop = (async () => {
    while (!stopping) {
      const now = Date.now();
      for (const e of engines) {
        if (stopping) break;
        if (next.get(e)! > now) continue;
        await passOnce(e);
        next.set(e, Date.now() + e.mirror.pollSeconds * 1000);
      }
      if (stopping) break;
      const soonest = Math.min(...next.values());
      await sleep(Math.max(1, (soonest - Date.now()) / 1000));
    }
  })();
  return {
    name: "mail",
    stop: async () => {
      stopping = true;
      for (const w of [...wakers]) w();
      await loop;
      await close();
    },
  };
}
