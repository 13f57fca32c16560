import type { CoverLookup, KnownMessage, UntaggedCover } from "../patch/thread.js";
import { now, type Db } from "./db.js";

/** One archived message as the mail channel records it (table `messages`, migration 002). */
export interface MessageRow {
  readonly messageId: string;
  readonly source: string;
  /** "git:<epoch>:<blob oid>": where to read it again. */
  readonly origin: string;
  readonly kind: "patch" | "cover" | "reply" | "other" | "skipped";
  readonly subject: string | null;
  readonly author: string | null;
  readonly date: string | null;
  readonly inReplyTo: string | null;
  readonly status: "seen" | "reviewed" | "skipped";
  readonly reason: string | null;
  readonly thread: string | null;
  readonly revision: number | null;
  readonly patchIndex: number | null;
  readonly patchTotal: number | null;
  readonly arrivedAt: number;
  /** The bytes, for a message that cannot be read again from its origin (an mbox mirror). */
  readonly raw?: Buffer | null;
}

export interface MemberRow {
  readonly message_id: string;
  readonly origin: string;
  readonly kind: string;
  readonly status: string;
  readonly revision: number | null;
  readonly patch_index: number | null;
  readonly patch_total: number | null;
  readonly arrived_at: number;
  /** The series a review put it in; null until then. */
  readonly series_id: string | null;
}

export interface PostRow {
  readonly message_id: string;
  readonly kind: string;
  readonly in_reply_to: string | null;
  readonly author: string | null;
}

export interface OutgoingRow {
  readonly message_id: string;
  readonly channel: string;
  readonly thread: string;
  readonly what: string;
  readonly fingerprints: string;
  readonly envelope: string;
  readonly file_name: string;
  readonly raw: Buffer;
  readonly created_at: string;
}

/** SET terms: a thread waits again, from `since` or from when it already waited, whichever is older. */
const waitsFrom = (since: string) => `waiting_since = CASE WHEN waiting = 1 THEN MIN(waiting_since, ${since}) ELSE ${since} END, waiting = 1`;

/**
 * The mail channel's bookkeeping: messages by thread, threads awaiting review, mail on its way
 * out, opt-outs. Every write is meant to run inside the caller's Store.transaction, next to the
 * cursor move it belongs with.
 */
/** Numbered patches of a series answering a message: only what the cover rule (patch/cover.ts) can accept, as migration 021's partial index holds them. */
export const ANSWERS_TO =
  "SELECT message_id AS messageId, kind, subject, author, revision, patch_index AS 'index', patch_total AS total FROM messages WHERE in_reply_to = ? AND kind = 'patch' AND patch_total >= 2 ORDER BY rowid LIMIT 200";

export class MailState implements CoverLookup {
  private readonly q;

  constructor(private readonly db: Db) {
    this.q = {
      threadOf: db.prepare("SELECT thread FROM messages WHERE message_id = ?").pluck(),
      has: db.prepare("SELECT 1 FROM messages WHERE message_id = ?").pluck(),
      message: db.prepare(
        "SELECT message_id AS messageId, kind, subject, author, revision, patch_index AS 'index', patch_total AS total FROM messages WHERE message_id = ?",
      ),
      answersTo: db.prepare(ANSWERS_TO),
      markCover: db.prepare(
        "UPDATE messages SET kind = 'cover', revision = ?, patch_index = 0, patch_total = ? WHERE message_id = ? AND kind IN ('other', 'reply')",
      ),
      raw: db.prepare("SELECT raw FROM messages WHERE message_id = ?").pluck(),
      insert: db.prepare(
        `INSERT OR IGNORE INTO messages (message_id, source, origin, kind, subject, author, date, in_reply_to, status, reason, seen_at,
           thread, revision, patch_index, patch_total, arrived_at, raw)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      wait: db.prepare(
        `INSERT INTO mail_threads (thread, source, relevant, waiting, waiting_since) VALUES (?, ?, ?, 1, ?)
         ON CONFLICT(thread) DO UPDATE SET relevant = MAX(relevant, excluded.relevant), ${waitsFrom("excluded.waiting_since")}`,
      ),
      touch: db.prepare(`UPDATE mail_threads SET ${waitsFrom("@since")} WHERE thread = @thread`),
      loose: db.prepare(
        `SELECT t.thread FROM mail_threads t WHERE t.thread >= ? AND t.thread < ? AND t.waiting = 1
           AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.thread = t.thread AND m.patch_index = ?)
         ORDER BY t.waiting_since DESC LIMIT 1`,
      ).pluck(),
      // Ties by thread: a batch's threads are committed in this order, the same after a restart.
      waitingThreads: db.prepare(
        "SELECT thread, waiting_since FROM mail_threads WHERE source = ? AND relevant = 1 AND waiting = 1 ORDER BY waiting_since, thread",
      ),
      members: db.prepare(
        "SELECT message_id, origin, kind, status, revision, patch_index, patch_total, arrived_at, series_id FROM messages WHERE thread = ? ORDER BY arrived_at, rowid LIMIT ?",
      ),
      posts: db.prepare("SELECT message_id, kind, in_reply_to, author FROM messages WHERE thread = ? ORDER BY arrived_at, rowid LIMIT ?"),
      seriesMembers: db.prepare(
        `SELECT message_id, origin, kind, status, revision, patch_index, patch_total, arrived_at, series_id FROM messages
         WHERE thread = ? AND kind IN ('patch', 'cover') ORDER BY arrived_at, rowid LIMIT ?`,
      ),
      skipWaiting: db.prepare(
        "UPDATE messages SET status = 'skipped', reason = ? WHERE thread = ? AND status = 'seen' AND kind IN ('patch', 'cover')",
      ),
      reviewed: db.prepare(
        `UPDATE mail_threads SET
           waiting = EXISTS (SELECT 1 FROM messages WHERE thread = @thread AND status = 'seen' AND kind IN ('patch', 'cover')),
           waiting_since = (SELECT MIN(arrived_at) FROM messages WHERE thread = @thread AND status = 'seen' AND kind IN ('patch', 'cover')),
           reviewed_at = @at
         WHERE thread = @thread`,
      ),
      markMessage: db.prepare("UPDATE messages SET status = ?, series_id = COALESCE(?, series_id) WHERE message_id = ? AND status != 'skipped'"),
      skip: db.prepare("UPDATE messages SET status = 'skipped', reason = ? WHERE message_id = ?"),
      series: db.prepare(
        `INSERT INTO series (id, title, revision, total, change_id, author, first_seen, state, reviewed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'reviewed', ?)
         ON CONFLICT(id) DO UPDATE SET total = excluded.total, state = 'reviewed', reviewed_at = excluded.reviewed_at`,
      ),
      finding: db.prepare(
        "INSERT OR IGNORE INTO findings (series_id, patch_id, fingerprint, rule, severity, file, line, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      source: db.prepare("INSERT OR IGNORE INTO mail_sources (source, first_read) VALUES (?, ?)"),
      firstRead: db.prepare("SELECT first_read FROM mail_sources WHERE source = ?").pluck(),
      optOut: db.prepare("INSERT OR IGNORE INTO opt_out (email, origin, at) VALUES (?, ?, ?)"),
      optedOut: db.prepare("SELECT 1 FROM opt_out WHERE email = ?").pluck(),
      outgoing: db.prepare(
        `INSERT OR IGNORE INTO mail_outgoing (message_id, channel, thread, what, fingerprints, envelope, file_name, raw, created_at)
         VALUES (@message_id, @channel, @thread, @what, @fingerprints, @envelope, @file_name, @raw, @created_at)`,
      ),
      pending: db.prepare(
        `SELECT o.* FROM mail_outgoing o JOIN posts p ON p.channel = o.channel AND p.thread = o.thread AND p.what = o.what
         WHERE p.state = 'pending' ORDER BY o.created_at, o.rowid`,
      ),
      archiveError: db.prepare("INSERT INTO archive_errors (source, epoch, reason, detail, at) VALUES (?, ?, ?, ?, ?)"),
      trackerDue: db.prepare("INSERT OR IGNORE INTO tracker_due (source, series_id) VALUES (?, ?)"),
      // In the order they were first owed (rowid): a pass resumed after a stop tracks in the same order.
      dueTrackers: db.prepare("SELECT series_id FROM tracker_due WHERE source = ? ORDER BY rowid").pluck(),
      trackerDone: db.prepare("DELETE FROM tracker_due WHERE source = ? AND series_id = ?"),
    };
  }

  threadOf(messageId: string): string | undefined {
    return (this.q.threadOf.get(messageId) as string | null | undefined) ?? undefined;
  }

  message(messageId: string): KnownMessage | undefined {
    return this.q.message.get(messageId) as KnownMessage | undefined;
  }

  answersTo(messageId: string): KnownMessage[] {
    return this.q.answersTo.all(messageId) as KnownMessage[];
  }

  /** A message read before its numbered patches turned out to be their cover letter (patch/cover.ts). */
  markCover(c: UntaggedCover): boolean {
    return this.q.markCover.run(c.revision, c.total, c.messageId).changes === 1;
  }

  /** The bytes kept for a message (an mbox mirror's). */
  raw(messageId: string): Buffer | undefined {
    return (this.q.raw.get(messageId) as Buffer | null | undefined) ?? undefined;
  }

  has(messageId: string): boolean {
    return this.q.has.get(messageId) !== undefined;
  }

  /** False when the Message-ID is known already (a cross-post, a resend, a re-read after a crash). */
  insert(r: MessageRow, seenAt = now()): boolean {
    const { changes } = this.q.insert.run(r.messageId, r.source, r.origin, r.kind, r.subject, r.author, r.date, r.inReplyTo, r.status, r.reason, seenAt, r.thread, r.revision, r.patchIndex, r.patchTotal, r.arrivedAt, r.raw ?? null);
    return changes === 1;
  }

  /** A patch or cover letter arrived in `thread`: it waits for review from `since` on. */
  wait(thread: string, source: string, relevant: boolean, since: number): void {
    this.q.wait.run(thread, source, relevant ? 1 : 0, since);
  }

  /**
   * A patch or cover letter no review needs on its own arrived in `thread`: the thread waits
   * again if it is known (a thread that touches the dma-buf surface reviews all it holds);
   * nothing is written for the rest of a list's traffic.
   */
  touch(thread: string, since: number): void {
    this.q.touch.run({ thread, since });
  }

  /** An open group of unthreaded patches (`loose:<key>|...`) with slot `index` still free. */
  openLoose(key: string, index: number): string | undefined {
    const prefix = `loose:${key}|`;
    return (this.q.loose.get(prefix, `${prefix}\uffff`, index) as string | undefined) ?? undefined;
  }

  waitingThreads(source: string): { thread: string; waiting_since: number }[] {
    return this.q.waitingThreads.all(source) as { thread: string; waiting_since: number }[];
  }

  members(thread: string, limit = 2000): MemberRow[] {
    return this.q.members.all(thread, limit) as MemberRow[];
  }

  /** Who wrote what in a thread, and in answer to which message, oldest first. */
  posts(thread: string, limit = 2000): PostRow[] {
    return this.q.posts.all(thread, limit) as PostRow[];
  }

  /** The patches and cover letters of a thread, oldest first: what a review reads. */
  seriesMembers(thread: string, limit: number): MemberRow[] {
    return this.q.seriesMembers.all(thread, limit) as MemberRow[];
  }

  /** Every patch and cover letter of a thread still awaiting review, skipped with `reason`. */
  skipWaiting(thread: string, reason: string): void {
    this.q.skipWaiting.run(reason, thread);
  }

  /** Reviewed: the thread waits again only if a patch or cover letter arrived meanwhile. */
  threadReviewed(thread: string): void {
    this.q.reviewed.run({ thread, at: now() });
  }

  markReviewed(messageId: string, seriesId: string | undefined): void {
    this.q.markMessage.run("reviewed", seriesId ?? null, messageId);
  }

  skip(messageId: string, reason: string): void {
    this.q.skip.run(reason, messageId);
  }

  recordSeries(s: { id: string; title: string; revision: number; total: number; changeId: string | undefined; author: string; firstSeen: string }): void {
    this.q.series.run(s.id, s.title, s.revision, s.total, s.changeId ?? null, s.author, s.firstSeen, now());
  }

  recordFinding(f: { seriesId: string; patchId: string; fingerprint: string; rule: string; severity: string; file: string; line: number; message: string }): void {
    this.q.finding.run(f.seriesId, f.patchId, f.fingerprint, f.rule, f.severity, f.file, f.line, f.message);
  }

  /** When the bot first read `source`; recorded on the first call. */
  firstRead(source: string, at: number): number {
    this.q.source.run(source, at);
    return this.q.firstRead.get(source) as number;
  }

  optOut(email: string, origin: string): boolean {
    return this.q.optOut.run(email.toLowerCase(), origin, now()).changes === 1;
  }

  isOptedOut(email: string): boolean {
    return this.q.optedOut.get(email.toLowerCase()) !== undefined;
  }

  saveOutgoing(row: OutgoingRow): void {
    this.q.outgoing.run(row);
  }

  pendingOutgoing(): OutgoingRow[] {
    return this.q.pending.all() as OutgoingRow[];
  }

  archiveError(source: string, epoch: string, reason: string, detail: string): void {
    this.q.archiveError.run(source, epoch, reason, detail, now());
  }

  /** Series whose tracker is owed, to be tracked at the end of the pass (migration 022). */
  trackerDue(source: string, seriesIds: Iterable<string>): void {
    for (const id of seriesIds) this.q.trackerDue.run(source, id);
  }

  dueTrackers(source: string): string[] {
    return this.q.dueTrackers.all(source) as string[];
  }

  /** A tracker owed was tracked: call in the transaction that records it. */
  trackerDone(source: string, seriesId: string): void {
    this.q.trackerDone.run(source, seriesId);
  }
}
