import { isUntaggedCover, mayBeUntaggedCover } from "./cover.js";
import type { MessageKind, Person } from "./message.js";
import { parseSubject } from "./subject.js";

/*
 * Threads as an archive is read one message at a time: which thread a message joins, when a
 * thread's series are complete enough to review, and who took part in it. groupSeries
 * (series.ts) works on a thread in full; these work on what the store already knows of it,
 * through lookups the caller provides, so they stay pure.
 */

/** The headers a message is threaded by. */
export interface ThreadHeaders {
  readonly messageId: string;
  /** Sender address, lower case. */
  readonly from: string;
  readonly kind: MessageKind;
  readonly inReplyTo: string | undefined;
  readonly references: readonly string[];
  readonly revision: number;
  readonly index: number | undefined;
  readonly total: number | undefined;
}

/** What is known of the threads read so far. */
export interface ThreadLookup {
  /** The thread a known message went to. */
  threadOf(messageId: string): string | undefined;
  /** An open group of unthreaded patches under `key` whose slot `index` is free. */
  openLoose(key: string, index: number): string | undefined;
}

/** Prefix of a thread gathered from numbered patches sent without threading headers. */
export const LOOSE_PREFIX = "loose:";

/**
 * The thread a message belongs to: its parent's when the parent is known, else the root its
 * References name (the parent may come later, the root id is the same). Numbered patches
 * sent without threading are gathered per author, revision and count while slots are free.
 */
export function assignThread(m: ThreadHeaders, known: ThreadLookup): string {
  const parents = [m.inReplyTo, m.references[m.references.length - 1], m.references[0]];
  for (const id of parents) {
    const t = id ? known.threadOf(id) : undefined;
    if (t) return t;
  }
  const root = m.references[0] ?? m.inReplyTo;
  if (root) return root;
  if (m.kind === "patch" && (m.total ?? 1) > 1) {
    const key = `${m.from}|v${m.revision}|${m.total}`;
    return known.openLoose(key, m.index ?? 1) ?? `${LOOSE_PREFIX}${key}|${m.messageId}`;
  }
  return m.messageId;
}

/** A message as the store keeps it, for the cover-letter rule. */
export interface KnownMessage {
  readonly messageId: string;
  readonly kind: string;
  readonly subject: string | null;
  /** Sender address, lower case; null when unknown. */
  readonly author: string | null;
  readonly revision: number | null;
  readonly index: number | null;
  readonly total: number | null;
}

/** What the store knows, for the cover-letter rule. */
export interface CoverLookup {
  message(messageId: string): KnownMessage | undefined;
  /** The known numbered patches of a series of two or more whose In-Reply-To is `messageId`. */
  answersTo(messageId: string): readonly KnownMessage[];
}

/** A cover letter sent without `[PATCH 0/N]`, and the slot it takes: 0 of `total`, of `revision`. */
export interface UntaggedCover {
  readonly messageId: string;
  readonly revision: number;
  readonly total: number;
}

/**
 * The untagged cover letter a message shows, by the rule groupSeries uses (cover.ts), in either
 * order of arrival: a numbered patch shows the parent it answers; a message without a diff is
 * one itself when a numbered patch already read answers it. Undefined otherwise.
 */
export function untaggedCoverFor(m: ThreadHeaders & { readonly subject: string }, known: CoverLookup): UntaggedCover | undefined {
  if (m.kind === "patch") {
    const parentId = m.inReplyTo ?? m.references[m.references.length - 1];
    const p = parentId === undefined ? undefined : known.message(parentId);
    if (!p || !isUntaggedCover(candidateOf(p), { kind: m.kind, index: m.index, total: m.total, from: m.from })) return undefined;
    return { messageId: p.messageId, revision: m.revision, total: m.total! };
  }
  const self = candidateOf({ kind: m.kind, subject: m.subject, author: m.from });
  // Most of a list is neither: the store is asked only for what could be a cover letter.
  if (!mayBeUntaggedCover(self)) return undefined;
  for (const a of known.answersTo(m.messageId)) {
    if (isUntaggedCover(self, { kind: a.kind, index: a.index ?? undefined, total: a.total ?? undefined, from: a.author ?? "" })) {
      return { messageId: m.messageId, revision: a.revision ?? 1, total: a.total! };
    }
  }
  return undefined;
}

function candidateOf(m: Pick<KnownMessage, "kind" | "subject" | "author">) {
  const s = parseSubject(m.subject ?? "");
  return { kind: m.kind, isReply: s.isReply, isPatch: s.isPatch, from: m.author ?? "" };
}

/** A patch or cover letter of a thread as the store keeps it. */
export interface SlotMember {
  readonly kind: string;
  /** "seen": awaiting review; "reviewed"; "skipped" (never counted). */
  readonly status: string;
  readonly revision: number | null;
  readonly patchIndex: number | null;
  readonly patchTotal: number | null;
  /** Archive time, seconds. */
  readonly arrivedAt: number;
}

/**
 * A thread is due when every revision in it awaiting review is complete, or the oldest of its
 * messages has waited `waitSeconds` by `clock` (archive time while catching up, wall time after).
 */
export function isThreadDue(members: readonly SlotMember[], clock: number, waitSeconds: number): boolean {
  const groups = new Map<string, { total: number; have: Set<number>; waiting: boolean; since: number }>();
  for (const m of members) {
    if ((m.kind !== "patch" && m.kind !== "cover") || m.status === "skipped") continue;
    const key = `${m.revision ?? 1}|${m.patchTotal ?? 1}`;
    const g = groups.get(key) ?? { total: m.patchTotal ?? 1, have: new Set<number>(), waiting: false, since: m.arrivedAt };
    // Counted, not allocated: a stored count may be anything an old version let through.
    const index = m.patchIndex ?? 1;
    if (m.kind === "patch" && index >= 1 && index <= g.total) g.have.add(index);
    if (m.status === "seen") g.waiting = true;
    g.since = Math.min(g.since, m.arrivedAt);
    groups.set(key, g);
  }
  return [...groups.values()].filter((g) => g.waiting).every((g) => clock - g.since >= waitSeconds || g.have.size >= g.total);
}

/** A message of a thread as the store keeps it, for who answered what. */
export interface ThreadPost {
  readonly messageId: string;
  readonly kind: string;
  readonly inReplyTo: string | null;
  /** Sender address, lower case; null when unknown. */
  readonly author: string | null;
}

/**
 * Who replied to each patch and cover letter of a thread, keyed by its Message-ID: a reply
 * counts for the nearest patch or cover letter it answers, through replies to replies, as
 * groupSeries files replies. The store keeps addresses only: a person's name is the address.
 */
export function repliersOf(posts: readonly ThreadPost[]): Map<string, Person[]> {
  const byId = new Map(posts.map((p) => [p.messageId, p]));
  const out = new Map<string, Person[]>();
  for (const p of posts) {
    if (p.kind !== "reply" || !p.author) continue;
    const seen = new Set<string>([p.messageId]);
    let parent = p.inReplyTo ? byId.get(p.inReplyTo) : undefined;
    // A reply loop in broken headers ends where it comes back.
    while (parent && parent.kind !== "patch" && parent.kind !== "cover" && !seen.has(parent.messageId)) {
      seen.add(parent.messageId);
      parent = parent.inReplyTo ? byId.get(parent.inReplyTo) : undefined;
    }
    if (!parent || (parent.kind !== "patch" && parent.kind !== "cover")) continue;
    const list = out.get(parent.messageId) ?? [];
    if (!list.some((q) => q.email === p.author)) list.push({ name: p.author, email: p.author });
    out.set(parent.messageId, list);
  }
  return out;
}
