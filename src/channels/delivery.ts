import type { Logger } from "pino";
import type { Receipt } from "../publish/target.js";
import type { Store } from "../state/store.js";
import { ReviewTimeout } from "./review-pool.js";

/*
 * The way every forge delivery flows once its transport has verified it: parse, dedupe,
 * serialise per pull or merge request, run, record, count, log. A channel only says what an
 * event is (its Parsed) and what to do for it (its Work); this file does the bookkeeping.
 */

/** What a delivery came to, recorded with it in the store. */
export type Outcome = { readonly kind: "posted" | "partial" | "skipped" | "duplicate" | "failed"; readonly detail: string };

/** Counters one channel keeps for /healthz and /metrics; `published` folds a publish's receipts into them. */
export class ChannelStats {
  received = 0;
  rejected = 0;
  malformed = 0;
  ignored = 0;
  duplicates = 0;
  reviewed = 0;
  skipped = 0;
  failed = 0;
  inFlight = 0;
  posted = 0;
  resolved = 0;
  postFailures = 0;
  /** Tracker comments written (posted or edited), and trackers read again without a change. */
  trackerWrites = 0;
  trackerUnchanged = 0;

  published(receipts: readonly Receipt[]): Outcome {
    const count = (p: (r: Receipt) => boolean) => receipts.filter(p).length;
    const findings = (r: Receipt) => r.what !== "summary" && r.what !== "check-run";
    const posted = count((r) => r.ok && r.reason === undefined && findings(r));
    const resolved = count((r) => r.ok && r.reason === "resolved");
    const reopened = count((r) => r.ok && r.reason === "reopened");
    const kept = count((r) => r.ok && r.reason === "already posted" && findings(r));
    const failed = receipts.filter((r) => !r.ok);
    this.posted += posted;
    this.resolved += resolved;
    this.postFailures += failed.length;
    const detail = `${posted} posted, ${resolved} resolved, ${reopened} reopened, ${kept} already posted${failed.length > 0 ? `, ${failed.length} failed (${failed[0]!.reason})` : ""}`;
    // Some of it landed: the ledger keeps a redelivery from posting that twice, and lets it post the rest.
    return { kind: failed.length === 0 ? "posted" : failed.length === receipts.length ? "failed" : "partial", detail };
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(Object.entries(this).filter(([, v]) => typeof v === "number")) as Record<string, number>;
  }
}

/** One review at a time per pull or merge request: two pushes in quick succession must not both post. */
export class Serial {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}

/**
 * Comments arrive in bursts (a review of ten line comments is eleven deliveries). A refresh
 * waiting its turn reads everything anew when it runs, so a delivery arriving while one is
 * waiting joins it instead of queueing another.
 */
export class Refreshes<T> {
  private readonly waiting = new Map<string, Promise<T>>();

  constructor(private readonly serial: Serial) {}

  run(key: string, fn: () => Promise<T>): { joined: boolean; done: Promise<T> } {
    const queued = this.waiting.get(key);
    if (queued) return { joined: true, done: queued };
    const done = this.serial.run(key, () => {
      this.waiting.delete(key);
      return fn();
    });
    this.waiting.set(key, done);
    return { joined: false, done };
  }
}

/**
 * Webhook delivery ids in the store: the same delivery twice is handled once, unless the first
 * attempt failed (wholly or in part), in which case a redelivery is exactly what should retry it.
 */
export class DeliveryGate {
  /** Claimed and not yet done: what a shutdown records as failed when it cannot wait for them. */
  private readonly open = new Map<string, { channel: string; id: string }>();
  private abandoned = false;

  constructor(private readonly store: Store) {}

  claim(channel: string, id: string): boolean {
    if (this.abandoned) return false;
    if (!this.claimInStore(channel, id)) return false;
    this.open.set(`${channel}\n${id}`, { channel, id });
    return true;
  }

  private claimInStore(channel: string, id: string): boolean {
    if (this.store.ledger.firstDelivery(channel, id)) return true;
    const row = this.store.db.prepare("SELECT outcome FROM deliveries WHERE channel = ? AND delivery_id = ?").get(channel, id) as { outcome: string | null } | undefined;
    if (!row?.outcome || !/^(failed|partial):/.test(row.outcome)) return false;
    // Claim the retry atomically: only one of two concurrent redeliveries flips it back.
    return this.store.db.prepare("UPDATE deliveries SET outcome = NULL WHERE channel = ? AND delivery_id = ? AND outcome = ?").run(channel, id, row.outcome).changes === 1;
  }

  /**
   * A claimed delivery's work: counted in flight, a throw turned into a failed outcome, the
   * outcome recorded with the delivery. Never throws.
   */
  async run(channel: string, id: string, counters: ChannelStats, work: () => Promise<Outcome>): Promise<Outcome> {
    counters.inFlight++;
    let outcome: Outcome;
    try {
      outcome = await work();
    } catch (err) {
      // A review past its time budget would run as long on a redelivery: skipped, with its reason.
      outcome = err instanceof ReviewTimeout ? { kind: "skipped", detail: err.message } : { kind: "failed", detail: (err as Error).message };
    } finally {
      counters.inFlight--;
    }
    this.done(channel, id, outcome);
    return outcome;
  }

  done(channel: string, id: string, outcome: Outcome): void {
    // After a shutdown gave up on it, the store already says failed and may be closed.
    if (this.abandoned) return;
    this.open.delete(`${channel}\n${id}`);
    this.store.ledger.deliveryOutcome(channel, id, `${outcome.kind}: ${outcome.detail}`.slice(0, 500));
  }

  /**
   * At shutdown, when the grace time is over: every delivery still in hand is recorded as failed,
   * so that the forge's redelivery retries it (the ledger keeps what did land from posting twice).
   * Nothing is claimed or recorded after this. Returns the deliveries given up.
   */
  abandon(detail: string): { channel: string; id: string }[] {
    this.abandoned = true;
    const given = [...this.open.values()];
    for (const d of given) this.store.ledger.deliveryOutcome(d.channel, d.id, `failed: ${detail}`.slice(0, 500));
    this.open.clear();
    return given;
  }
}

/** What a channel does for one event: a review of the change, or a refresh of its tracker. */
export interface Work {
  /** The pull or merge request, as `owner/repo#7` or `group/project!7`: the unit of serialisation. */
  readonly thread: string;
  /**
   * `review` waits its turn on the thread; `tracker` joins a refresh of the thread already
   * waiting, since that one reads everything anew when it runs.
   */
  readonly what: "review" | "tracker";
  /** Log fields beside the delivery's own (the event, a note's id, the head). */
  readonly fields?: Readonly<Record<string, unknown>>;
  run(log: Logger): Promise<Outcome>;
}

/** A verified delivery as its channel reads it. */
export type Parsed =
  | { readonly kind: "work"; readonly work: Work }
  /** An event the channel does not handle (a label added, a ping): acknowledged, nothing done. */
  | { readonly kind: "ignore"; readonly reason: string; readonly fields?: Readonly<Record<string, unknown>> }
  /** A payload that is not what the event promises: refused with its reason. */
  | { readonly kind: "malformed"; readonly reason: string; readonly detail: string }
  /** A handled event that cannot be acted on (no installation to act as); `say` is the log line. */
  | { readonly kind: "skip"; readonly detail: string; readonly say: string; readonly thread?: string };

/** What the envelope made of a delivery: an Outcome, or why no work was done. */
export type Delivered =
  | { readonly kind: "malformed"; readonly reason: string; readonly detail: string }
  | { readonly kind: "ignored"; readonly detail: string }
  | (Outcome & { readonly what?: Work["what"]; readonly thread?: string });

export interface EnvelopeDeps {
  readonly log: Logger;
  readonly counters: ChannelStats;
  readonly serial: Serial;
  readonly deliveries: DeliveryGate;
}

/**
 * One forge channel's deliveries: each is parsed, claimed once, run in its turn on its thread,
 * recorded with its outcome, counted and logged, the same way for GitHub and GitLab. Never throws
 * for a delivery's sake.
 */
export class DeliveryEnvelope {
  private readonly refreshes: Refreshes<Outcome>;

  constructor(
    readonly channel: string,
    private readonly deps: EnvelopeDeps,
  ) {
    this.refreshes = new Refreshes<Outcome>(deps.serial);
  }

  /** `parse` runs with the delivery's own logger; it reads the payload and says what to do. */
  async deliver(id: string, parse: (log: Logger) => Parsed): Promise<Delivered> {
    const { counters } = this.deps;
    const ch = this.channel;
    const log = this.deps.log.child({ channel: ch, delivery: id });
    const p = parse(log);
    if (p.kind === "malformed") {
      counters.malformed++;
      log.warn({ reason: p.reason, detail: p.detail }, `${ch}: payload skipped`);
      return p;
    }
    if (p.kind === "ignore") {
      counters.ignored++;
      log.info({ ...p.fields, reason: p.reason }, `${ch}: event not reviewed, skipped`);
      return { kind: "ignored", detail: p.reason };
    }
    if (p.kind === "skip") {
      counters.skipped++;
      log.warn({ thread: p.thread }, `${ch}: ${p.say}`);
      return { kind: "skipped", detail: p.detail };
    }
    const w = p.work;
    const fields = { thread: w.thread, ...w.fields };
    if (!this.deps.deliveries.claim(ch, id)) {
      counters.duplicates++;
      log.info(fields, `${ch}: delivery already handled, nothing posted`);
      return { kind: "duplicate", detail: id, what: w.what, thread: w.thread };
    }
    const outcome = await this.deps.deliveries.run(ch, id, counters, () => this.queue(w, log, fields));
    if (outcome.kind === "failed" || outcome.kind === "partial") {
      counters.failed++;
      const failed = w.what === "review" ? `review ${outcome.kind === "failed" ? "failed" : "partly posted"}` : "tracker not updated";
      log.error({ ...fields, err: outcome.detail }, `${ch}: ${failed}`);
    } else if (outcome.kind === "skipped") {
      counters.skipped++;
      log.info({ ...fields, reason: outcome.detail }, `${ch}: ${w.what === "review" ? "skipped" : "read, no tracker"}`);
    } else {
      if (w.what === "review") counters.reviewed++;
      log.info({ ...fields, outcome: outcome.detail }, `${ch}: ${w.what === "review" ? "reviewed" : "tracker read again"}`);
    }
    return { ...outcome, what: w.what, thread: w.thread };
  }

  private queue(w: Work, log: Logger, fields: Readonly<Record<string, unknown>>): Promise<Outcome> {
    if (w.what === "review") return this.deps.serial.run(w.thread, () => w.run(log));
    const { joined, done } = this.refreshes.run(w.thread, () => w.run(log));
    if (joined) log.info(fields, `${this.channel}: a tracker refresh is already waiting; this event is read by it`);
    return done;
  }
}
