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
  intend(key: PostKey, target: string, detail?: string): boolean {
    const r = this.sql("INSERT OR IGNORE INTO posts (channel, thread, what, target, state, detail, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)")
      .run(key.channel, key.thread, key.what, target, detail ?? null, now());
    return r.changes === 1;
  }

  posted(key: PostKey, location: string): void {
    this.sql("UPDATE posts SET state = 'posted', location = ?, posted_at = ? WHERE channel = ? AND thread = ? AND what = ?")
      .run(location, now(), key.channel, key.thread, key.what);
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
