import type { Config, MirrorConfig, MirrorMode } from "../config/config.js";
import type { PendingMail } from "../state/ledger.js";
import { MailState } from "../state/mail.js";
import type { Store } from "../state/store.js";
import { demoMirror, type PassOutcome } from "./mail.js";

/** The last pass over a mirror, as /healthz shows it. */
export type LastPass =
  | {
      readonly at: string;
      readonly ok: true;
      readonly messages: number;
      readonly reviewed: number;
      readonly replies: number;
      readonly skipped: number;
      readonly seconds: number;
    }
  | { readonly at: string; readonly ok: false; readonly error: string };

export interface MirrorHealth {
  readonly name: string;
  readonly inbox: string;
  readonly pollSeconds: number;
  /** shadow: read, reviewed, recorded, nothing mailed; send: mail under the sending policy. */
  readonly mode: MirrorMode;
  /** null until the first pass over it has ended. */
  readonly lastPass: LastPass | null;
  /** The last commit read, per epoch ("0", "1", ...; "-" for an mbox). */
  readonly cursors: Readonly<Record<string, string>>;
  /** Threads on the dma-buf surface whose series waits for its missing patches or for series-wait. */
  readonly waitingThreads: number;
  readonly oldestWaitingSince: string | null;
}

export type MailReport =
  | { readonly on: false; readonly reason: string }
  | { readonly on: true; readonly mirrors: readonly MirrorHealth[]; readonly pendingMail: PendingMail };

/**
 * The mail channel beside the forges on /healthz: what the mail channel said after each pass,
 * and what the store says now (cursors, waiting threads, mail not yet out).
 */
export class MailHealth {
  private readonly passes = new Map<string, LastPass>();
  private readonly mirrors: readonly MirrorConfig[];
  private readonly state: MailState;

  constructor(
    private readonly store: Store,
    config: Config,
  ) {
    // The same list the mail channel follows: the configured mirrors, and the demo when it is on.
    this.mirrors = [...config.mail.mirrors, ...(config.mail.demo ? [demoMirror(config.dataDir, config.mail.delivery === "outbox" ? "send" : "shadow")] : [])];
    this.state = new MailState(store.db);
  }

  /** Called by the mail channel after each pass over a mirror. */
  passed(mirror: MirrorConfig, outcome: PassOutcome, at: Date = new Date()): void {
    const when = at.toISOString();
    this.passes.set(
      mirror.name,
      outcome.ok
        ? { at: when, ok: true, messages: outcome.stats.messages, reviewed: outcome.stats.reviewed, replies: outcome.stats.replies, skipped: outcome.stats.skipped.length, seconds: outcome.stats.seconds }
        : { at: when, ok: false, error: outcome.error },
    );
  }

  report(): MailReport {
    if (this.mirrors.length === 0) return { on: false, reason: "no mirror configured (mail.mirrors) and the demo is off" };
    const mirrors = this.mirrors.map((m): MirrorHealth => {
      const waiting = this.state.waitingThreads(m.inbox);
      const oldest = waiting[0]?.waiting_since;
      return {
        name: m.name,
        inbox: m.inbox,
        pollSeconds: m.pollSeconds,
        mode: m.mode ?? "shadow",
        lastPass: this.passes.get(m.name) ?? null,
        cursors: Object.fromEntries(this.store.cursors.all(m.inbox).map((c) => [c.epoch, c.lastCommit])),
        waitingThreads: waiting.length,
        oldestWaitingSince: oldest === undefined || oldest === null ? null : new Date(oldest * 1000).toISOString(),
      };
    });
    return { on: true, mirrors, pendingMail: this.store.ledger.pendingMail() };
  }
}
