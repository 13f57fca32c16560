import type { Logger } from "pino";
import type { Person } from "../../patch/message.js";
import type { Review } from "../../review/review.js";
import type { SeriesReview } from "../../review/review-series.js";
import type { PostKey } from "../../state/ledger.js";
import { MailState } from "../../state/mail.js";
import type { Store } from "../../state/store.js";
import type { PublishTarget, Receipt, ThreadRef } from "../target.js";
import { CHANNEL, draftReplies, type Drafted, type ReplyOptions } from "./compose.js";
import { buildOutgoing, TransportError, type MailTransport, type Outgoing } from "./transport.js";

/**
 * Replies on a mailing list, posted once. Three steps, so that a channel can put the middle one
 * in the same transaction as its cursor move:
 *   prepare()  draft what the ledger has not seen and build the messages (async, no writes);
 *   record()   intend each one in the ledger and keep its bytes (synchronous, in a transaction);
 *   flush()    deliver everything pending, then mark it posted.
 * A crash after record() leaves pending rows: the next flush() sends the same bytes, same
 * Message-ID. A reply whose Message-ID the archive already holds went out: it is marked posted
 * without a second send.
 */
export class MailTarget implements PublishTarget {
  readonly name: string;
  private readonly state: MailState;

  constructor(
    private readonly store: Store,
    private readonly transport: MailTransport,
    private readonly defaults: ReplyOptions,
    private readonly log?: Logger,
  ) {
    this.name = transport.name;
    this.state = new MailState(store.db);
  }

  get from(): Person {
    return this.defaults.from;
  }

  private isPosted = (key: PostKey): boolean => {
    const p = this.store.ledger.get(key);
    return p !== undefined && p.state !== "failed";
  };

  /** What a series earns under `options` (the list's policy), not yet built into messages. */
  draft(s: SeriesReview, options: Partial<ReplyOptions> = {}): Drafted {
    return draftReplies(s, { ...this.defaults, ...options }, this.isPosted, (email) => this.state.isOptedOut(email));
  }

  /** Draft and build the replies a series earns under `options` (the list's policy). */
  async prepare(s: SeriesReview, options: Partial<ReplyOptions> = {}, date = new Date()): Promise<{ outgoing: Outgoing[]; refused: readonly Receipt[] }> {
    const o = { ...this.defaults, ...options };
    const drafted = this.draft(s, o);
    const outgoing: Outgoing[] = [];
    for (const d of drafted.drafts) outgoing.push(await buildOutgoing(d, o.from, date));
    return { outgoing, refused: drafted.refused };
  }

  /** Record the intent to post: call inside the transaction that moves the cursor. */
  record(outgoing: readonly Outgoing[]): void {
    const created = new Date().toISOString();
    for (const o of outgoing) {
      // A key seen before (a thread reviewed again after a crash) is not posted twice.
      if (!this.store.ledger.intend(o.key, this.name, o.messageId)) continue;
      for (const fp of o.fingerprints) this.store.ledger.intend({ channel: CHANNEL, thread: o.key.thread, what: fp }, this.name, o.messageId);
      this.state.saveOutgoing({
        message_id: o.messageId,
        channel: o.key.channel,
        thread: o.key.thread,
        what: o.key.what,
        fingerprints: JSON.stringify(o.fingerprints),
        envelope: JSON.stringify(o.envelope),
        file_name: o.fileName,
        raw: o.raw,
        created_at: created,
      });
    }
  }

  /** Deliver every pending reply, oldest first. A transport that is down stops the round. */
  async flush(): Promise<Receipt[]> {
    const receipts: Receipt[] = [];
    for (const row of this.state.pendingOutgoing()) {
      const key = { channel: row.channel, thread: row.thread, what: row.what };
      const fingerprints = JSON.parse(row.fingerprints) as string[];
      let location: string;
      if (this.state.has(row.message_id)) {
        location = "already in the list archive";
      } else {
        try {
          location = await this.transport.deliver({
            messageId: row.message_id,
            envelope: JSON.parse(row.envelope) as Outgoing["envelope"],
            fileName: row.file_name,
            raw: row.raw,
          });
        } catch (err) {
          const permanent = err instanceof TransportError && err.permanent;
          const reason = (err as Error).message;
          this.log?.warn({ messageId: row.message_id, reason, permanent }, permanent ? "reply refused" : "reply not delivered; will retry");
          receipts.push({ target: this.name, ok: false, what: row.what, reason });
          if (permanent) {
            this.store.transaction(() => {
              this.store.ledger.failed(key, reason);
              for (const fp of fingerprints) this.store.ledger.failed({ channel: row.channel, thread: row.thread, what: fp }, reason);
            });
            continue;
          }
          break;
        }
      }
      this.store.transaction(() => {
        this.store.ledger.posted(key, location);
        for (const fp of fingerprints) this.store.ledger.posted({ channel: row.channel, thread: row.thread, what: fp }, row.message_id);
      });
      // Logged once the ledger says so: a line here means the reply will never be sent again.
      this.log?.info({ messageId: row.message_id, thread: row.thread, what: row.what, location }, "reply posted");
      receipts.push({ target: this.name, ok: true, what: row.what, location });
    }
    return receipts;
  }

  /** The PublishTarget contract: every series of a review, posted once, now. */
  async publish(review: Review, _thread: ThreadRef): Promise<Receipt[]> {
    const receipts: Receipt[] = [];
    const all: Outgoing[] = [];
    for (const s of review.series) {
      const p = await this.prepare(s);
      all.push(...p.outgoing);
      receipts.push(...p.refused);
    }
    this.store.transaction(() => this.record(all));
    receipts.push(...(await this.flush()));
    return receipts;
  }

  close(): void {
    this.transport.close();
  }
}
