import type { Logger } from "pino";
import type { SendingSettings } from "../config/config.js";
import type { Person } from "../patch/message.js";
import type { Review } from "../review/review.js";
import type { SeriesReview } from "../review/review-series.js";
import type { Post, PostKey } from "../state/ledger.js";
import { MailState, type OutgoingRow } from "../state/mail.js";
import type { Store } from "../state/store.js";
import type { PublishTarget, Receipt, ThreadRef } from "../publish/target.js";
import { CHANNEL, draftReplies, type Drafted, type ReplyOptions } from "../publish/mail/compose.js";
import { MAX_MAILS_PER_HOUR, MAX_MAILS_PER_PASS, MAX_RECIPIENTS } from "../publish/mail/limits.js";
import { SendingPolicy } from "../publish/mail/policy.js";
import { retryDelaySeconds } from "../publish/retry.js";
import { buildOutgoing, TransportError, type MailTransport, type Outgoing } from "../publish/mail/transport.js";

const IN_ARCHIVE = "already in the list archive";

/**
 * Replies on a mailing list, posted once: the mail channel's ledger and queue. Drafting
 * (publish/mail/compose.ts, under policy.ts) and delivering one message (transport.ts) are
 * publish's; what was intended, sent or refused is the channel's to record. Three steps, so that a channel can put the middle one
 * in the same transaction as its cursor move:
 *   prepare()  draft what the ledger has not seen and build the messages (async, no writes);
 *   record()   intend each one in the ledger and keep its bytes (synchronous, in a transaction);
 *   flush()    deliver everything pending and due, then mark it posted.
 * A crash after record() leaves pending rows: the next flush() sends the same bytes, same
 * Message-ID. A reply whose Message-ID the archive already holds went out: it is marked posted
 * without a second send. A delivery that fails stays pending unless the server refused the
 * message itself; it is tried again on a later flush() after a backoff kept in the ledger.
 * Mail beyond the hard caps (limits.ts) stays pending too, and goes out on a later flush().
 */
export class MailTarget implements PublishTarget {
  readonly name: string;
  private readonly state: MailState;
  /** Mails delivered since startPass() (or since this target was made: one CLI run). */
  private sentInPass = 0;
  /** Set once a delivery was tried: until then, mail held back by a server failure is tried at once. */
  private probed = false;
  /** The configuration error last logged at error level: logged again only when it changes. */
  private configurationError: string | undefined;
  /** The pending summary last logged: logged again only when it changes. */
  private pendingLogged = "";

  constructor(
    private readonly store: Store,
    private readonly transport: MailTransport,
    private readonly defaults: ReplyOptions,
    private readonly log?: Logger,
    /** The time now; tests move it instead of waiting for a backoff to pass. */
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.name = transport.name;
    this.state = new MailState(store.db);
  }

  /** A new pass over a mirror begins: the per-pass cap counts from here. */
  startPass(): void {
    this.sentInPass = 0;
  }

  get from(): Person {
    return this.defaults.from;
  }

  private isPosted = (key: PostKey): boolean => {
    const p = this.store.ledger.get(key);
    return p !== undefined && p.state !== "failed";
  };

  /** The sending settings of each list (by its cap key), for the daily cap at delivery. */
  private readonly lists = new Map<string, Partial<SendingSettings>>();

  /** The sending policy of a list, on this target's ledger and clock. */
  policy(list: string | undefined, sending: Partial<SendingSettings> | undefined): SendingPolicy {
    if (list !== undefined && sending) this.lists.set(list, sending);
    return new SendingPolicy(this.store.ledger, sending ?? (list !== undefined ? this.lists.get(list) : undefined), this.clock);
  }

  /** What a series earns under `options` (the list's policy), not yet built into messages. */
  draft(s: SeriesReview, options: Partial<ReplyOptions> = {}): Drafted {
    const o = { ...this.defaults, ...options };
    return draftReplies(s, o, this.policy(o.listKey, o.sending), (email) => this.state.isOptedOut(email));
  }

  /** Draft and build the replies a series earns under `options` (the list's policy). */
  async prepare(
    s: SeriesReview,
    options: Partial<ReplyOptions> = {},
    date = this.clock(),
  ): Promise<{ outgoing: Outgoing[]; refused: readonly Receipt[] }> {
    const o = { ...this.defaults, ...options };
    const drafted = this.draft(s, o);
    const outgoing: Outgoing[] = [];
    for (const d of drafted.drafts) outgoing.push(await buildOutgoing(d, o.from, date));
    return { outgoing, refused: drafted.refused };
  }

  /** Record the intent to post: call inside the transaction that moves the cursor. */
  record(outgoing: readonly Outgoing[]): void {
    const created = this.clock().toISOString();
    for (const o of outgoing) {
      if (o.envelope.to.length === 0) {
        const fields = { messageId: o.messageId, thread: o.key.thread };
        this.log?.warn(fields, "reply has nobody to go to (only the bot's own address); not recorded");
        continue;
      }
      // Drafted ahead while an earlier revision's thread was being committed: what the earlier
      // revision mailed meanwhile is not mailed again.
      const lineage = o.lineage;
      if (lineage && o.fingerprints.length > 0 && o.fingerprints.every((fp) => this.isPosted({ channel: CHANNEL, thread: lineage, what: fp }))) {
        this.log?.info({ messageId: o.messageId, thread: o.key.thread }, "reply dropped: its findings were mailed on an earlier revision");
        continue;
      }
      // A key seen before (a thread reviewed again after a crash) is not posted twice.
      if (!this.store.ledger.intend(o.key, this.name, o.messageId, created)) continue;
      if (o.leftOut > 0) {
        const fields = { messageId: o.messageId, thread: o.key.thread, recipients: o.envelope.to.length, leftOut: o.leftOut };
        this.log?.warn(fields, `reply addressed to the first ${MAX_RECIPIENTS} recipients only (hard cap)`);
      }
      for (const fp of o.fingerprints) {
        this.store.ledger.intend({ channel: CHANNEL, thread: o.key.thread, what: fp }, this.name, o.messageId, created);
        if (lineage) this.store.ledger.intend({ channel: CHANNEL, thread: lineage, what: fp }, this.name, o.messageId, created);
      }
      this.state.saveOutgoing({
        message_id: o.messageId,
        channel: o.key.channel,
        thread: o.key.thread,
        what: o.key.what,
        fingerprints: JSON.stringify(o.fingerprints),
        // The list and lineage ride in the stored envelope: the daily cap and a refusal need them.
        envelope: JSON.stringify({ ...o.envelope, list: o.list, lineage }),
        file_name: o.fileName,
        raw: o.raw,
        created_at: created,
      });
    }
  }

  /**
   * Deliver every pending reply that is due, oldest first, within the hard caps. A failure that
   * concerns the server (down, login refused) ends the round: the next mail would fail alike.
   */
  async flush(): Promise<Receipt[]> {
    const receipts: Receipt[] = [];
    const now = this.clock();
    // The outbox reaches nobody by itself; every transport that sends is capped.
    const capped = this.transport.name !== "outbox";
    const hourAgo = new Date(now.getTime() - 3600_000).toISOString();
    let sentInHour = capped ? this.store.ledger.sentSince(CHANNEL, hourAgo) : 0;
    let held = 0;
    const leftToday = new Map<string, number>();
    const heldByDay = new Map<string, number>();
    // A server that failed holds every mail back until its backoff ends (one probe excepted,
    // right after a restart, when its settings may have been fixed).
    const wait = this.store.ledger.serverWaitUntil(CHANNEL);
    let blocked = this.probed && wait !== null && wait > now.toISOString();
    for (const row of this.state.pendingOutgoing()) {
      const key = { channel: row.channel, thread: row.thread, what: row.what };
      const post = this.store.ledger.get(key);
      if (!post || post.state !== "pending") continue;
      if (this.state.has(row.message_id)) {
        this.delivered(row, post, IN_ARCHIVE, now);
        receipts.push({ target: this.name, ok: true, what: row.what, location: IN_ARCHIVE });
        continue;
      }
      if (blocked) continue;
      const due = post.next_try_at === null || post.next_try_at <= now.toISOString();
      // The probe after a restart: a mail held back by the server's failure is tried at once.
      const probe = !this.probed && post.error_scope === "server";
      if (!due && !probe) continue;
      if (capped && (this.sentInPass >= MAX_MAILS_PER_PASS || sentInHour >= MAX_MAILS_PER_HOUR)) {
        held++;
        continue;
      }
      const stored = JSON.parse(row.envelope) as Outgoing["envelope"] & { list?: string };
      const envelope = { from: stored.from, to: stored.to };
      // The list's daily cap: the rest waits, in order, and goes out on later days.
      if (stored.list !== undefined) {
        const left = leftToday.get(stored.list) ?? this.policy(stored.list, undefined).leftToday(stored.list);
        leftToday.set(stored.list, left);
        if (left <= 0) {
          heldByDay.set(stored.list, (heldByDay.get(stored.list) ?? 0) + 1);
          continue;
        }
      }
      this.probed = true;
      let location: string;
      try {
        // Built before the recipient cap existed: refused here rather than sent to all of them.
        if (envelope.to.length > MAX_RECIPIENTS) {
          const why = `${envelope.to.length} recipients, over the hard cap of ${MAX_RECIPIENTS}`;
          throw new TransportError(why, "final", "message");
        }
        const { message_id: messageId, file_name: fileName, raw } = row;
        location = await this.transport.deliver({ messageId, envelope, fileName, raw });
      } catch (err) {
        // Anything else (an outbox directory that cannot be written) waits like a server away.
        const failure = err instanceof TransportError ? err : new TransportError(String(err), "temporary", "server");
        receipts.push({ target: this.name, ok: false, what: row.what, reason: failure.message });
        this.failed(row, post, failure, now);
        blocked = failure.scope === "server";
        continue;
      }
      this.delivered(row, post, location, now);
      if (stored.list !== undefined) leftToday.set(stored.list, leftToday.get(stored.list)! - 1);
      this.sentInPass++;
      sentInHour++;
      receipts.push({ target: this.name, ok: true, what: row.what, location });
    }
    if (held > 0) {
      const byPass = this.sentInPass >= MAX_MAILS_PER_PASS;
      const cap = byPass ? `${MAX_MAILS_PER_PASS} mails per pass` : `${MAX_MAILS_PER_HOUR} mails per hour`;
      const what = `${held} ${held === 1 ? "reply" : "replies"}`;
      this.log?.warn({ held, cap }, `${what} held back by the hard cap of ${cap}; kept pending, sent later`);
    }
    for (const [list, n] of heldByDay) {
      const perDay = this.policy(list, undefined).settings.perDay;
      this.log?.info({ list, held: n, perDay }, `${n} mail${n === 1 ? "" : "s"} to ${list} held back by its cap of ${perDay} a day; kept pending, sent on a later day`);
    }
    this.logPending();
    return receipts;
  }

  private delivered(row: OutgoingRow, post: Post, location: string, now: Date): void {
    const at = now.toISOString();
    const fingerprints = JSON.parse(row.fingerprints) as string[];
    const key = { channel: row.channel, thread: row.thread, what: row.what };
    this.store.transaction(() => {
      if (location === IN_ARCHIVE) this.store.ledger.posted(key, location, at);
      else this.store.ledger.attempted(key, { kind: "sent", location }, at);
      const lineage = (JSON.parse(row.envelope) as { lineage?: string }).lineage;
      for (const fp of fingerprints) {
        this.store.ledger.posted({ ...key, what: fp }, row.message_id, at);
        if (lineage) this.store.ledger.posted({ channel: CHANNEL, thread: lineage, what: fp }, row.message_id, at);
      }
      // The server works again: what waited only for it is due now, not at its backoff's end.
      if (location !== IN_ARCHIVE) this.store.ledger.serverBack(CHANNEL);
    });
    if (post.error_kind === "configuration" || this.configurationError) {
      this.log?.info({ messageId: row.message_id }, "mail delivery works again");
      this.configurationError = undefined;
    }
    // Logged once the ledger says so: a line here means the reply will never be sent again.
    const attempts = post.attempts + 1;
    const { message_id: messageId, thread, what } = row;
    this.log?.info({ messageId, thread, what, location, attempts }, "reply posted");
  }

  private failed(row: OutgoingRow, post: Post, f: TransportError, now: Date): void {
    const at = now.toISOString();
    const key = { channel: row.channel, thread: row.thread, what: row.what };
    const attempts = post.attempts + 1;
    const fields = { messageId: row.message_id, thread: row.thread, reason: f.message, kind: f.kind, attempts };
    if (f.kind === "final") {
      const fingerprints = JSON.parse(row.fingerprints) as string[];
      this.store.transaction(() => {
        this.store.ledger.attempted(key, { kind: "final", reason: f.message }, at);
        const lineage = (JSON.parse(row.envelope) as { lineage?: string }).lineage;
        for (const fp of fingerprints) {
          this.store.ledger.failed({ ...key, what: fp }, f.message);
          if (lineage) this.store.ledger.failed({ channel: CHANNEL, thread: lineage, what: fp }, f.message);
        }
      });
      this.log?.warn(fields, "reply refused by the server for good; not tried again");
      return;
    }
    const nextTry = new Date(now.getTime() + retryDelaySeconds(attempts) * 1000).toISOString();
    this.store.ledger.attempted(key, { kind: f.kind, scope: f.scope, reason: f.message, nextTry }, at);
    if (f.kind === "configuration" && this.configurationError !== f.message) {
      // The operator must act: said loudly once, not on every retry.
      this.configurationError = f.message;
      const say = "mail delivery refused: check the SMTP settings (login, password, TLS, sender); every reply waits";
      this.log?.error({ ...fields, nextTry }, say);
    } else this.log?.warn({ ...fields, nextTry }, "reply not delivered; will retry");
  }

  /** The log says what waits, whenever that changes. */
  private logPending(): void {
    const p = this.store.ledger.pendingMail();
    const summary = JSON.stringify([p.pending, p.queued, p.temporary, p.configuration, p.nextTryAt]);
    if (summary === this.pendingLogged) return;
    this.pendingLogged = summary;
    if (p.pending === 0) return;
    this.log?.info(
      {
        pending: p.pending,
        queued: p.queued,
        temporary: p.temporary,
        configuration: p.configuration,
        failed: p.failed,
        oldest: p.oldestPendingSince,
        nextTry: p.nextTryAt,
        lastError: p.lastError?.reason,
      },
      "replies waiting to go out",
    );
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
