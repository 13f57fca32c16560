import { createHash } from "node:crypto";
import type { Severity } from "../../analysis/rules/schema.js";
import type { SendingSettings } from "../../config/config.js";
import type { Message, Person } from "../../patch/message.js";
import { atOrAbove, renderCoverReply, renderPatchReply, replySubject } from "../../review/render/email.js";
import { modelSummary } from "../../review/render/text.js";
import { wrap } from "../../review/render/wrap.js";
import type { SeriesReview } from "../../review/review-series.js";
import type { PostKey } from "../../state/ledger.js";
import type { Receipt } from "../target.js";
import { CHANNEL, lineageOf, type SendingPolicy } from "./policy.js";

export { CHANNEL } from "./policy.js";

/** Who gets a reply on a list: everyone on the thread and the list, the author alone, or nobody. */
export type ReplyPolicy = "all" | "author" | "none";

export interface ReplyOptions {
  readonly policy: ReplyPolicy;
  readonly threshold: Severity;
  /** The list address, put in Cc under policy "all". */
  readonly list: string | undefined;
  /** The bot's own address: never a recipient. */
  readonly from: Person;
  /** The key the per-list daily cap counts under (the mirror's name). */
  readonly listKey?: string;
  /** The list's sending settings; those left out take the policy's defaults. */
  readonly sending?: Partial<SendingSettings>;
  /**
   * Who replied to each patch or cover letter, by its Message-ID, besides the replies the series
   * holds: a channel that reviews the series without its discussion knows them from its store.
   */
  readonly repliers?: ReadonlyMap<string, readonly Person[]>;
}

/** One reply, ready to be turned into a message: the ledger key it is posted under, and what it says. */
export interface Draft {
  readonly key: PostKey;
  /** The series across revisions (lineageOf): its findings are recorded under it too. */
  readonly lineage?: string;
  /** The key of the list's daily cap. */
  readonly list?: string;
  /** Findings carried: each is also recorded under (mail, thread, fingerprint). */
  readonly fingerprints: readonly string[];
  readonly messageId: string;
  readonly inReplyTo: string;
  readonly references: readonly string[];
  readonly to: readonly Person[];
  readonly cc: readonly Person[];
  readonly subject: string;
  readonly text: string;
}

export const OPT_OUT_LINE = "dmabuf-review: opt-out";

/**
 * Short, says it is a machine, says how to make it stop: anyone on the thread, in a reply to
 * the list or privately to the bot's address. `-- ` is the signature delimiter.
 */
export const SIGNATURE: readonly string[] = [
  "-- ",
  "dmabuf-review: an automated review of dma-buf cache coherency; it can",
  "be wrong, and a human maintainer decides. To get no more of these mails,",
  `answer with a line "${OPT_OUT_LINE}" on its own, to the list or`,
  "privately to the sender of this mail.",
];

/**
 * The Message-ID of a post follows from its ledger key alone, so a reply sent again after a
 * crash carries the same id: mail clients and public-inbox see one message, and the bot
 * recognises its own reply when the list archive brings it back.
 */
export function postMessageId(key: PostKey, from: Person): string {
  const hash = createHash("sha256").update(`${key.channel}\0${key.thread}\0${key.what}`).digest("hex").slice(0, 24);
  const domain = from.email.split("@")[1] || "localhost";
  return `dmabuf-review.${hash}@${domain}`;
}

// A very deep thread would give a References header of hundreds of ids; the root and the
// nearest ancestors are what threading needs (RFC 5322 3.6.4 allows trimming the middle).
function references(refs: readonly string[], parent: string): string[] {
  const all = [...refs.filter((r) => r !== parent), parent];
  return all.length <= 20 ? all : [all[0]!, ...all.slice(-19)];
}

export interface Drafted {
  readonly drafts: readonly Draft[];
  /** What was not written, and why (policy, opt-out). */
  readonly refused: readonly Receipt[];
}

/**
 * The replies a series earns under the sending policy (policy.ts): one inline reply to each patch
 * with findings at or above the threshold that were mailed neither on it nor on an earlier
 * revision of the series, and the model's summary in a reply to the cover letter (or, with no
 * cover letter, at the end of the first reply) only when it says something those findings do
 * not. A patch without such findings gets no mail.
 */
export function draftReplies(s: SeriesReview, o: ReplyOptions, policy: SendingPolicy, optedOut: (email: string) => boolean): Drafted {
  const drafts: Draft[] = [];
  const refused: Receipt[] = [];
  const target = "mail";
  const found = new Map(s.patches.map((p) => [p, atOrAbove(p.findings, o.threshold)]));
  if (![...found.values()].some((f) => f.length > 0)) return { drafts, refused };
  if (o.policy === "none") return { drafts, refused: [{ target, ok: false, what: s.series.id, reason: "the list's policy is to send nothing" }] };
  if (policy.muted([s.series.cover, ...s.series.slots])) return { drafts, refused: [{ target, ok: false, what: s.series.id, reason: "thread muted by the list's maintainers" }] };
  const lineage = lineageOf(s.series);
  const isPosted = (key: PostKey) => {
    const p = policy.ledger.get(key);
    return p !== undefined && p.state !== "failed";
  };
  // Those who wrote in the thread of a message take part in it, after the list.
  const participants = (m: Message) => [...(s.series.replies.get(m.messageId) ?? []).map((r) => r.from), ...(o.repliers?.get(m.messageId) ?? [])];
  const address = (m: Message) =>
    o.policy === "all" ? policy.recipients(m, o.list, participants(m), o.from.email, optedOut) : { to: [m.from], cc: [] };
  // A patch the bot's own address sent (a test mail, a loop through the list) gets no reply.
  const mine = (m: { from: Person }) => m.from.email.toLowerCase() === o.from.email.toLowerCase();
  const fresh = new Map(s.patches.map((p) => [p, policy.fresh(found.get(p)!, p.message.messageId, lineage)]));
  const anyFresh = [...fresh.values()].some((f) => f.length > 0);
  const said = modelSummary(s).map((l) => l.trim()).join(" ");
  // The summary counts the model's configurations; the findings at the threshold count theirs.
  const adds = anyFresh && policy.summaryAddsToReplies(s, [...found.values()].flat());
  const summary = adds ? said : "";
  const coverKey = s.series.cover ? { channel: CHANNEL, thread: s.series.cover.messageId, what: "summary" } : undefined;
  let summaryInline = !s.series.cover && summary !== "";
  const common = { lineage, list: o.listKey };
  for (const p of s.patches) {
    const m = p.message;
    const mail = fresh.get(p)!;
    if (mail.length === 0) continue;
    if (mine(m)) {
      refused.push({ target, ok: false, what: m.messageId, reason: "sent from the bot's own address" });
      continue;
    }
    if (optedOut(m.from.email)) {
      refused.push({ target, ok: false, what: m.messageId, reason: `${m.from.email} opted out` });
      continue;
    }
    const key = policy.patchKey(m.messageId);
    if (isPosted(key)) continue;
    const signature = summaryInline ? ["For the series as a whole:", ...wrap(summary, 72, "  "), "", ...SIGNATURE] : SIGNATURE;
    summaryInline = false;
    drafts.push({
      key,
      ...common,
      fingerprints: mail.map((f) => f.fingerprint).sort(),
      messageId: postMessageId(key, o.from),
      inReplyTo: m.messageId,
      references: references(m.references, m.messageId),
      ...address(m),
      subject: replySubject(m),
      text: renderPatchReply(p, mail, signature),
    });
  }
  const cover = s.series.cover;
  if (cover && coverKey && adds && !isPosted(coverKey)) {
    if (mine(cover)) refused.push({ target, ok: false, what: cover.messageId, reason: "sent from the bot's own address" });
    else if (optedOut(cover.from.email)) refused.push({ target, ok: false, what: cover.messageId, reason: `${cover.from.email} opted out` });
    else
      drafts.push({
        key: coverKey,
        ...common,
        fingerprints: [],
        messageId: postMessageId(coverKey, o.from),
        inReplyTo: cover.messageId,
        references: references(cover.references, cover.messageId),
        ...address(cover),
        subject: replySubject(cover),
        text: renderCoverReply(s, o.threshold, SIGNATURE),
      });
  }
  return { drafts, refused };
}
