import { createHash } from "node:crypto";
import type { Severity } from "../../analysis/rules/schema.js";
import type { Person } from "../../patch/message.js";
import type { Finding } from "../../review/finding.js";
import { atOrAbove, renderCoverReply, renderPatchReply, replySubject } from "../../review/render/email.js";
import { modelSummary } from "../../review/render/text.js";
import { wrap } from "../../review/render/wrap.js";
import type { SeriesReview } from "../../review/review-series.js";
import type { PostKey } from "../../state/ledger.js";
import type { Receipt } from "../target.js";
import { distinct } from "./limits.js";

export const CHANNEL = "mail";

/** Who gets a reply on a list: everyone on the thread and the list, the author alone, or nobody. */
export type ReplyPolicy = "all" | "author" | "none";

export interface ReplyOptions {
  readonly policy: ReplyPolicy;
  readonly threshold: Severity;
  /** The list address, put in Cc under policy "all". */
  readonly list: string | undefined;
  /** The bot's own address: never a recipient. */
  readonly from: Person;
}

/** One reply, ready to be turned into a message: the ledger key it is posted under, and what it says. */
export interface Draft {
  readonly key: PostKey;
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

/** Short, says it is a machine, says how to make it stop. `-- ` is the signature delimiter. */
export const SIGNATURE: readonly string[] = [
  "-- ",
  "dmabuf-review: an automated review of dma-buf cache coherency; it can",
  "be wrong, and a human maintainer decides. To stop these replies to your",
  `patches, answer with a line "${OPT_OUT_LINE}" on its own.`,
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

function byFingerprint(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => (seen.has(f.fingerprint) ? false : (seen.add(f.fingerprint), true)));
}

export interface Drafted {
  readonly drafts: readonly Draft[];
  /** What was not written, and why (policy, opt-out). */
  readonly refused: readonly Receipt[];
}

/**
 * The replies a series earns: one inline reply to each patch with findings at or above the
 * threshold that were not posted before, and the model's summary in a reply to the cover letter
 * (or, with no cover letter, at the end of the first reply). A patch without such findings gets
 * no mail.
 */
export function draftReplies(s: SeriesReview, o: ReplyOptions, isPosted: (key: PostKey) => boolean, optedOut: (email: string) => boolean): Drafted {
  const drafts: Draft[] = [];
  const refused: Receipt[] = [];
  const target = "mail";
  const any = s.patches.some((p) => atOrAbove(p.findings, o.threshold).length > 0);
  if (!any) return { drafts, refused };
  if (o.policy === "none") return { drafts, refused: [{ target, ok: false, what: s.series.id, reason: "the list's policy is to send nothing" }] };
  // The list first, then the patch's To (usually the maintainers), then its Cc: the order in
  // which the hard recipient cap (limits.ts) keeps them.
  const address = (m: { from: Person; to: readonly Person[]; cc: readonly Person[] }) => ({
    to: [m.from],
    cc: o.policy === "all" ? distinct([...(o.list ? [{ name: o.list, email: o.list }] : []), ...m.to, ...m.cc], [m.from.email, o.from.email]) : [],
  });
  // A patch the bot's own address sent (a test mail, a loop through the list) gets no reply.
  const mine = (m: { from: Person }) => m.from.email.toLowerCase() === o.from.email.toLowerCase();
  const summary = modelSummary(s).map((l) => l.trim()).join(" ");
  const coverKey = s.series.cover ? { channel: CHANNEL, thread: s.series.cover.messageId, what: "summary" } : undefined;
  let summaryInline = !s.series.cover && summary !== "";
  for (const p of s.patches) {
    const m = p.message;
    if (mine(m)) {
      refused.push({ target, ok: false, what: m.messageId, reason: "sent from the bot's own address" });
      continue;
    }
    if (optedOut(m.from.email)) {
      refused.push({ target, ok: false, what: m.messageId, reason: `${m.from.email} opted out` });
      continue;
    }
    const fresh = byFingerprint(atOrAbove(p.findings, o.threshold)).filter((f) => !isPosted({ channel: CHANNEL, thread: m.messageId, what: f.fingerprint }));
    if (fresh.length === 0) continue;
    const fingerprints = fresh.map((f) => f.fingerprint).sort();
    const key = { channel: CHANNEL, thread: m.messageId, what: `reply:${createHash("sha256").update(fingerprints.join(",")).digest("hex").slice(0, 16)}` };
    if (isPosted(key)) continue;
    const signature = summaryInline ? ["For the series as a whole:", ...wrap(summary, 72, "  "), "", ...SIGNATURE] : SIGNATURE;
    summaryInline = false;
    drafts.push({
      key,
      fingerprints,
      messageId: postMessageId(key, o.from),
      inReplyTo: m.messageId,
      references: references(m.references, m.messageId),
      ...address(m),
      subject: replySubject(m),
      text: renderPatchReply(p, fresh, signature),
    });
  }
  const cover = s.series.cover;
  if (cover && coverKey && summary && !isPosted(coverKey)) {
    if (mine(cover)) refused.push({ target, ok: false, what: cover.messageId, reason: "sent from the bot's own address" });
    else if (optedOut(cover.from.email)) refused.push({ target, ok: false, what: cover.messageId, reason: `${cover.from.email} opted out` });
    else
      drafts.push({
        key: coverKey,
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
