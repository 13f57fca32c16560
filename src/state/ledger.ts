import { now, type Db } from "./db.js";
import type { Statement } from "./sqlite.js";

export interface PostKey {
  readonly channel: string;
  readonly thread: string;
  /** A finding fingerprint, "summary", "tracker", ... */
  readonly what: string;
}

export interface Post extends PostKey {
  readonly target: string;
  readonly state: "pending" | "posted" | "failed";
  readonly location: string | null;
  readonly detail: string | null;
  /** Delivery attempts so far (mail); 0 for a post never tried or not delivered by a transport. */
  readonly attempts: number;
  /** When a post that failed for a while is due again; null: due now. */
  readonly next_try_at: string | null;
  readonly error_kind: FailureKind | null;
  readonly error_scope: FailureScope | null;
  readonly last_error: string | null;
  readonly last_error_at: string | null;
}

/**
 * Why a delivery failed: it may go later (temporary: a 4xx, the server away), it waits for the
 * operator (configuration: login, TLS, a sender the server will not take), or it never will
 * (final: the server refused this message or its recipients).
 */
export type FailureKind = "temporary" | "configuration" | "final";
/** Whether a failure stops every mail (server) or only this one (message). */
export type FailureScope = "server" | "message";

/** One delivery attempt of a post, as the transport answered it. */
export type Attempt =
  | { readonly kind: "sent"; readonly location: string }
  | {
      readonly kind: "temporary" | "configuration";
      readonly scope: FailureScope;
      readonly reason: string;
      readonly nextTry: string;
    }
  | { readonly kind: "final"; readonly reason: string };

/** The mail waiting to go out, for /healthz and the log. Counts are of mails, not of findings. */
export interface PendingMail {
  /** Recorded, not yet delivered nor refused. */
  readonly pending: number;
  /** Of those: never tried yet, or held back by a cap. */
  readonly queued: number;
  /** Of those: waiting after a temporary failure (4xx, server away). */
  readonly temporary: number;
  /** Of those: waiting after a configuration failure (login, TLS); the operator must act. */
  readonly configuration: number;
  /** Refused for good (final). */
  readonly failed: number;
  /** When the oldest pending mail was recorded. */
  readonly oldestPendingSince: string | null;
  /** The earliest time a deferred mail is tried again. */
  readonly nextTryAt: string | null;
  /** The newest error on a mail still pending or refused. */
  readonly lastError: MailError | null;
}

type Counts = Omit<PendingMail, "oldestPendingSince" | "nextTryAt" | "lastError"> & { oldest: string | null; nextTry: string | null };

export interface MailError {
  readonly kind: FailureKind;
  readonly scope: FailureScope | null;
  readonly reason: string;
  readonly at: string;
  /** The ledger thread of the mail: the Message-ID it answers. */
  readonly thread: string;
}

/**
 * Exactly-once posting: `intend` records a post before it is sent and refuses a key it has
 * seen; `posted` records where it landed. A crash between the two leaves a pending row,
 * which the channel resolves on restart (resend with the same deterministic id, or check).
 */
export class Ledger {
  constructor(private readonly db: Db) {}

  /** Statements are prepared once: the webhook path runs these for every delivery. */
  private readonly statements = new Map<string, Statement>();

  private sql(text: string): Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  get(key: PostKey): Post | undefined {
    return this.sql("SELECT * FROM posts WHERE channel = ? AND thread = ? AND what = ?").get(key.channel, key.thread, key.what) as Post | undefined;
  }

  /** True when this key is new and now recorded as pending; false when it exists already. */
  intend(key: PostKey, target: string, detail?: string, at = now()): boolean {
    const r = this.sql("INSERT OR IGNORE INTO posts (channel, thread, what, target, state, detail, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)")
      .run(key.channel, key.thread, key.what, target, detail ?? null, at);
    return r.changes === 1;
  }

  posted(key: PostKey, location: string, at = now()): void {
    this.sql("UPDATE posts SET state = 'posted', location = ?, posted_at = ? WHERE channel = ? AND thread = ? AND what = ?")
      .run(location, at, key.channel, key.thread, key.what);
  }

  /**
   * Record a delivery attempt of a pending post: sent, deferred until `nextTry`, or refused for
   * good. Counted, so that the backoff and the hourly cap survive a restart.
   */
  attempted(key: PostKey, a: Attempt, at = now()): void {
    const k = [key.channel, key.thread, key.what];
    if (a.kind === "sent") {
      this.sql(
        `UPDATE posts SET state = 'posted', location = ?, posted_at = ?, attempts = attempts + 1, next_try_at = NULL
         WHERE channel = ? AND thread = ? AND what = ? AND state = 'pending'`,
      ).run(a.location, at, ...k);
    } else if (a.kind === "final") {
      this.sql(
        `UPDATE posts SET state = 'failed', detail = ?, attempts = attempts + 1, next_try_at = NULL,
           error_kind = 'final', error_scope = 'message', last_error = ?, last_error_at = ?
         WHERE channel = ? AND thread = ? AND what = ? AND state = 'pending'`,
      ).run(a.reason, a.reason, at, ...k);
    } else {
      this.sql(
        `UPDATE posts SET attempts = attempts + 1, next_try_at = ?, error_kind = ?, error_scope = ?,
           last_error = ?, last_error_at = ?
         WHERE channel = ? AND thread = ? AND what = ? AND state = 'pending'`,
      ).run(a.nextTry, a.kind, a.scope, a.reason, at, ...k);
    }
  }

  /** A delivery went through: what waited only because the server failed is due now. */
  serverBack(channel: string): number {
    return this.sql(
      `UPDATE posts SET next_try_at = NULL
       WHERE channel = ? AND state != 'posted' AND state = 'pending' AND error_scope = 'server' AND next_try_at IS NOT NULL`,
    ).run(channel).changes;
  }

  /** Until when a failure of the server itself holds back every pending post of a channel (ISO time). */
  serverWaitUntil(channel: string): string | null {
    const st = this.sql(
      "SELECT MAX(next_try_at) FROM posts WHERE channel = ? AND state != 'posted' AND state = 'pending' AND error_scope = 'server'",
    );
    return (st.pluck().get(channel) as string | null) ?? null;
  }

  /** How many posts of a channel a transport delivered since `since` (ISO time). */
  sentSince(channel: string, since: string): number {
    const st = this.sql("SELECT COUNT(*) AS n FROM posts WHERE channel = ? AND attempts > 0 AND posted_at >= ?");
    return st.pluck().get(channel, since) as number;
  }

  /** Mails delivered to a list (the `list` of their stored envelope) after `since` (ISO time). */
  sentToListSince(list: string, since: string): number {
    const st = this.sql(
      `SELECT COUNT(*) FROM posts p JOIN mail_outgoing o ON o.channel = p.channel AND o.thread = p.thread AND o.what = p.what
       WHERE p.channel = 'mail' AND p.attempts > 0 AND p.state = 'posted' AND p.posted_at > ? AND json_extract(o.envelope, '$.list') = ?`,
    );
    return st.pluck().get(since, list) as number;
  }

  /** When the newest post on a thread whose key starts with `prefix` was recorded (ISO time), if any. */
  lastIntended(channel: string, thread: string, prefix: string): string | null {
    const st = this.sql("SELECT MAX(created_at) FROM posts WHERE channel = ? AND thread = ? AND substr(what, 1, length(?)) = ?");
    return (st.pluck().get(channel, thread, prefix, prefix) as string | null) ?? null;
  }

  /**
   * The mail channel's outgoing mail at a glance (what /healthz shows): pending mails by why
   * they wait, refused ones, the oldest pending and the next retry, the newest error. One row
   * per mail: the findings a mail carries have ledger rows of their own, not counted here.
   * Reads only the posts not yet done with (index posts_open; CROSS JOIN keeps SQLite starting
   * there), never the whole ledger nor every mail ever sent.
   */
  pendingMail(): PendingMail {
    const counts = this.sql(
      `SELECT
         COALESCE(SUM(p.state = 'pending'), 0) AS pending,
         COALESCE(SUM(p.state = 'pending' AND (p.error_kind IS NULL OR p.next_try_at IS NULL)), 0) AS queued,
         COALESCE(SUM(p.state = 'pending' AND p.error_kind = 'temporary' AND p.next_try_at IS NOT NULL), 0) AS temporary,
         COALESCE(SUM(p.state = 'pending' AND p.error_kind = 'configuration' AND p.next_try_at IS NOT NULL), 0)
           AS configuration,
         COALESCE(SUM(p.state = 'failed'), 0) AS failed,
         MIN(CASE WHEN p.state = 'pending' THEN p.created_at END) AS oldest,
         MIN(CASE WHEN p.state = 'pending' THEN p.next_try_at END) AS nextTry
       FROM posts p CROSS JOIN mail_outgoing o ON o.channel = p.channel AND o.thread = p.thread AND o.what = p.what
       WHERE p.channel = 'mail' AND p.state != 'posted'`,
    ).get() as Counts;
    const last = this.sql(
      `SELECT p.error_kind AS kind, p.error_scope AS scope, p.last_error AS reason, p.last_error_at AS at, p.thread AS thread
       FROM posts p CROSS JOIN mail_outgoing o ON o.channel = p.channel AND o.thread = p.thread AND o.what = p.what
       WHERE p.channel = 'mail' AND p.state != 'posted' AND p.last_error_at IS NOT NULL
       ORDER BY p.last_error_at DESC LIMIT 1`,
    ).get() as MailError | undefined;
    return {
      pending: counts.pending,
      queued: counts.queued,
      temporary: counts.temporary,
      configuration: counts.configuration,
      failed: counts.failed,
      oldestPendingSince: counts.oldest,
      nextTryAt: counts.nextTry,
      lastError: last ?? null,
    };
  }

  failed(key: PostKey, reason: string): void {
    this.sql("UPDATE posts SET state = 'failed', detail = ? WHERE channel = ? AND thread = ? AND what = ?").run(reason, key.channel, key.thread, key.what);
  }

  /** Forget a failed post so that it is tried again. */
  retry(key: PostKey): void {
    this.sql("DELETE FROM posts WHERE channel = ? AND thread = ? AND what = ? AND state = 'failed'").run(key.channel, key.thread, key.what);
  }

  pending(channel: string): Post[] {
    return this.sql("SELECT * FROM posts WHERE channel = ? AND state = 'pending' ORDER BY created_at").all(channel) as Post[];
  }

  forThread(channel: string, thread: string): Post[] {
    return this.sql("SELECT * FROM posts WHERE channel = ? AND thread = ? ORDER BY created_at").all(channel, thread) as Post[];
  }

  /** True the first time a webhook delivery id is seen on a channel. */
  firstDelivery(channel: string, deliveryId: string): boolean {
    const r = this.sql("INSERT OR IGNORE INTO deliveries (channel, delivery_id, received_at) VALUES (?, ?, ?)").run(channel, deliveryId, now());
    return r.changes === 1;
  }

  deliveryOutcome(channel: string, deliveryId: string, outcome: string): void {
    this.sql("UPDATE deliveries SET outcome = ? WHERE channel = ? AND delivery_id = ?").run(outcome, channel, deliveryId);
  }
}
