import { createHash } from "node:crypto";
import type { MirrorConfig, SendingSettings } from "../../config/config.js";
import type { Message, Person } from "../../patch/message.js";
import type { Series } from "../../patch/series.js";
import type { Finding } from "../../review/finding.js";
import type { SeriesReview } from "../../review/review-series.js";
import type { PostKey } from "../../state/ledger.js";
import { distinct } from "./limits.js";

/*
 * What the bot mails to a list, decided in one place (issue 15): a list keeps a bot that says
 * only new things, to few people, a few times a day. The 0-day robot and syzbot mail only on a
 * concrete failure; this is the same etiquette for review findings.
 */

export const CHANNEL = "mail";

/** Lists every kernel patch may Cc that nobody reads for a review: never Cc'd unless configured. */
export const CATCH_ALL_LISTS: readonly string[] = ["linux-kernel@vger.kernel.org", "stable@vger.kernel.org"];

export const DEFAULT_SENDING: SendingSettings = {
  trackers: "author",
  maxCc: 10,
  ccCatchAll: false,
  perDay: 20,
  maxAgeSeconds: 14 * 86400,
  muteThreads: [],
};

const DAY_MS = 86400_000;

/** The model findings (review/model-findings.ts) that report each kind of model result on a patch. */
const MODEL_RULES = {
  falsePositives: ["model/false-positive"],
  userspace: ["model/userspace-regression", "model/import-refused-today"],
  newHazards: ["model/new-hazard", "model/userspace-hazard"],
  missed: ["model/hazard-left-open"],
  slower: ["model/slower"],
} as const;

/** Verdicts a reader can act on; `unclear` is the bot not knowing. */
const DEFINITE = new Set(["addressed", "not addressed", "answered", "obsolete"]);

/** What the policy asks of the channel's ledger (the channel owns it; the Ledger class has these). */
export interface PostedLookup {
  get(key: PostKey): { readonly state: string; readonly created_at?: string } | undefined;
  /** When the newest post on `thread` whose `what` starts with `prefix` was recorded (ISO), if any. */
  lastIntended(channel: string, thread: string, prefix: string): string | null;
  /** Mails to a list delivered since `since` (ISO). */
  sentToListSince(list: string, since: string): number;
}

/**
 * What a finding was mailed under, across revisions: the series' author. A revision's cover
 * title, its patches' titles and even b4's change-id change between revisions often enough
 * (a "v7" in the patch title, a renamed series, an RFC resent) that keying on them mails the
 * same finding again; the fingerprint already names the rule and the code, so one author is
 * not told the same thing about the same code twice, whichever series carries it.
 */
export function lineageOf(s: Pick<Series, "author">): string {
  return `series:${createHash("sha256").update(`author ${s.author.email.toLowerCase()}`).digest("hex").slice(0, 24)}`;
}

export class SendingPolicy {
  readonly settings: SendingSettings;

  constructor(
    readonly ledger: PostedLookup,
    settings: Partial<SendingSettings> = {},
    /** The time now; tests move it instead of waiting a day. */
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.settings = { ...DEFAULT_SENDING, ...settings };
  }

  /** Recorded in the ledger and not refused for good: it went out, or is on its way. */
  posted(key: PostKey): boolean {
    const p = this.ledger.get(key);
    return p !== undefined && p.state !== "failed";
  }

  /**
   * The findings a patch's reply may carry: those at or above the threshold (`found`), each once,
   * not already mailed on this patch nor on an earlier revision of its series.
   */
  fresh(found: readonly Finding[], patch: string, lineage: string): Finding[] {
    const seen = new Set<string>();
    return found.filter((f) => {
      if (seen.has(f.fingerprint)) return false;
      seen.add(f.fingerprint);
      return !this.posted({ channel: CHANNEL, thread: patch, what: f.fingerprint }) && !this.posted({ channel: CHANNEL, thread: lineage, what: f.fingerprint });
    });
  }

  /** At most one mail per patch per revision (a Message-ID is one revision's patch). */
  patchKey(patch: string): PostKey {
    return { channel: CHANNEL, thread: patch, what: "reply" };
  }

  /**
   * Whether the cover letter's reply says something the patch replies do not: a patch missing
   * from the archive, or a kind of model result (a configuration newly rejected, a hazard new or
   * left open, an import lost, a slower path) that no finding mailed at the threshold reports.
   * Hazards fixed are good news, not a reason to mail.
   */
  summaryAddsToReplies(s: SeriesReview, mailed: readonly Finding[]): boolean {
    // Patches that never reached the archive: no patch reply can say so.
    if (s.series.missing.length > 0) return true;
    if (!s.model) return false;
    const r = s.model.result;
    const said = new Set(mailed.map((f) => f.rule));
    return Object.entries(MODEL_RULES).some(([c, rules]) => r[c as keyof typeof MODEL_RULES].length > 0 && !rules.some((rule) => said.has(rule)));
  }

  /**
   * To the author; Cc the list it arrived on, then the people who took part in the thread
   * (those who replied, then the patch's To and Cc), capped. Catch-all lists only when
   * configured; never the bot, nor anyone who opted out.
   */
  recipients(
    m: Pick<Message, "from" | "to" | "cc">,
    list: string | undefined,
    participants: readonly Person[],
    bot: string,
    optedOut: (email: string) => boolean,
  ): { to: Person[]; cc: Person[] } {
    const catchAll = this.settings.ccCatchAll ? [] : CATCH_ALL_LISTS;
    const listPerson = list ? [{ name: list, email: list }] : [];
    const out = distinct([...listPerson, ...participants, ...m.to, ...m.cc], [m.from.email, bot, ...catchAll]);
    const cc = out.filter((p) => (list && p.email.toLowerCase() === list.toLowerCase()) || !optedOut(p.email));
    return { to: [m.from], cc: cc.slice(0, this.settings.maxCc) };
  }

  /** A tracker goes to the author alone when one item has a definite verdict; else, or when so configured, nowhere. */
  trackerGoesTo(author: Person, verdicts: readonly string[]): Person | undefined {
    if (this.settings.trackers === "none") return undefined;
    return verdicts.some((v) => DEFINITE.has(v)) ? author : undefined;
  }

  /** A tracker follow-up on `thread`: at most one a day per series. */
  followUpAllowed(thread: string): boolean {
    const last = this.ledger.lastIntended(CHANNEL, thread, "tracker");
    return last === null || this.clock().getTime() - Date.parse(last) >= DAY_MS;
  }

  /**
   * Why no mail goes out for a thread whose newest message arrived at `newest` (seconds), or
   * undefined. `reply` is what the run asks: "new" (what arrived after `firstRead`, or all when
   * the mirror's history is answered), "all" (backfill --reply), "none".
   */
  withheld(mirror: Pick<MirrorConfig, "mode" | "history">, reply: "new" | "all" | "none", newest: number, firstRead: number): string | undefined {
    // A list opts in: until its mirror says `mode: send`, the bot reads, reviews and records only.
    if (mirror.mode !== "send") return "shadow mode";
    if (reply === "none") return "not asked to reply";
    if (reply === "new" && mirror.history === "record" && newest < firstRead) return "history";
    // Even with --reply, a backfill does not answer threads long gone quiet.
    if (this.tooOld(newest)) return "older than max-age";
    return undefined;
  }

  /** A thread whose newest message arrived at `newest` (seconds) is too old to mail about. */
  tooOld(newest: number): boolean {
    return this.clock().getTime() / 1000 - newest > this.settings.maxAgeSeconds;
  }

  /** The list's maintainers muted this thread (any Message-ID in it, or one it refers to). */
  muted(messages: readonly (Pick<Message, "messageId" | "references" | "inReplyTo"> | undefined)[]): boolean {
    if (this.settings.muteThreads.length === 0) return false;
    const mute = new Set(this.settings.muteThreads);
    return messages.some((m) => m !== undefined && [m.messageId, m.inReplyTo, ...m.references].some((id) => id !== undefined && mute.has(id)));
  }

  /** How many more mails the list may get now: its per-day cap less what went in the last 24 hours. */
  leftToday(list: string): number {
    const since = new Date(this.clock().getTime() - DAY_MS).toISOString();
    return Math.max(0, this.settings.perDay - this.ledger.sentToListSince(list, since));
  }
}
