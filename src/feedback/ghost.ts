import type { Message, Person } from "../patch/message.js";
import { normaliseTitle } from "../patch/revision-link.js";
import type { Series } from "../patch/series.js";
import { parseSubject, type Subject } from "../patch/subject.js";
import { quotedMessage, segmentReply } from "./reply-text.js";
import type { JudgedItem } from "./verdict.js";

/**
 * A revision known only from replies: its patches went to another list or were lost, while the
 * replies quoting them reached the archive. It has no diff; what the replies quote of it is all
 * that is known of its text.
 */
const ghosts = new WeakSet<Series>();

/** Whether a series was rebuilt from replies rather than read from its own messages. */
export function isGhost(s: Series): boolean {
  return ghosts.has(s);
}

/** What a tracker says of a revision known only from replies, before the evidence of its items. */
export function ghostNote(version: number): string {
  return `v${version} is known only from replies: its patches are not in the archive, so its text is what the replies quote`;
}

interface Slot {
  readonly index: number;
  readonly subject: Subject;
  readonly replies: Message[];
}

function time(m: Message): number {
  return m.date?.getTime() ?? Number.MAX_SAFE_INTEGER;
}

/** The message a reply answers when it answers the patch itself: the shallowest reply tells it. */
function patchIdOf(slot: Slot, root: string, orphanIds: ReadonlySet<string>): string {
  if (slot.index === 0 || (slot.subject.total ?? 1) === 1) return root;
  const direct = slot.replies
    .filter((m) => m.inReplyTo !== undefined && !orphanIds.has(m.inReplyTo))
    .sort((a, b) => a.references.length - b.references.length || time(a) - time(b))[0];
  return direct?.inReplyTo ?? root;
}

/** The patch's author: the attribution line of a direct reply, else whom that reply was sent to. */
function authorOf(replies: readonly Message[], patchId: string): Person | undefined {
  const direct = replies.filter((m) => m.inReplyTo === patchId).sort((a, b) => time(a) - time(b));
  for (const m of direct) {
    const q = quotedMessage(m.body);
    if (!q) continue;
    const same = (p: Person) => (q.email && p.email.toLowerCase() === q.email) || p.name.trim().toLowerCase() === q.name.toLowerCase();
    const named = [...m.to, ...m.cc].find(same);
    return named ?? { name: q.name, email: q.email ?? "" };
  }
  return direct[0]?.to[0];
}

/** The lines the direct replies quote of the patch, once each, in the order first quoted. */
function quotedLines(replies: readonly Message[], patchId: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const m of replies) {
    if (m.inReplyTo !== patchId) continue;
    for (const b of segmentReply(m.body)) {
      if (b.kind !== "quote" || b.depth !== 1) continue;
      for (const l of b.lines) {
        if (l.trim() === "" || seen.has(l)) continue;
        seen.add(l);
        out.push(l);
      }
    }
  }
  return out;
}

// Quoted patch lines, context lines included: they are code, not the commit message's words.
const DIFF_LINE = /^(@@ |diff --git |index [0-9a-f]|--- |\+\+\+ |[+-]| [\t ]|\t| $)/;

function ghostMessage(
  id: string,
  subject: Subject,
  author: Person,
  date: Date | undefined,
  quoted: readonly string[],
  replies: readonly Message[],
): Message {
  const clean = subject.clean;
  const prose = quoted.filter((l) => !DIFF_LINE.test(l));
  return {
    messageId: id,
    from: author,
    to: [],
    cc: [],
    date,
    subject: clean,
    inReplyTo: undefined,
    references: [],
    body: quoted.join("\n"),
    source: `reconstructed from replies ${replies.map((m) => `<${m.messageId}>`).join(" ")}`,
    kind: subject.index === 0 ? "cover" : "patch",
    parsedSubject: { ...parseSubject(clean), listTags: [] },
    commitMessage: prose.join("\n"),
    trailers: [],
    notes: "",
    files: [],
    baseCommit: undefined,
    changeId: undefined,
  };
}

/**
 * Revisions rebuilt from orphan replies (replies whose patch is not in the input), grouped by the
 * thread root their References name and the revision their subject names (`Re: [PATCH v2 3/5]
 * title`). A thread a known series already holds is left alone: its patches are known.
 */
export function ghostRevisions(orphans: readonly Message[], known: readonly Series[]): Series[] {
  const held = new Set<string>();
  for (const s of known) {
    for (const m of [s.cover, ...s.slots, ...s.duplicates]) {
      if (!m) continue;
      held.add(m.messageId);
      if (m.references[0]) held.add(m.references[0]);
    }
  }
  const orphanIds = new Set(orphans.map((m) => m.messageId));
  const threads = new Map<string, { root: string; slots: Map<number, Slot> }>();
  for (const m of orphans) {
    const subject = parseSubject(m.subject);
    if (!subject.isReply || !subject.isPatch || subject.title.trim() === "") continue;
    const root = m.references[0] ?? m.inReplyTo;
    if (!root || held.has(root)) continue;
    const key = `${root}|${subject.revision}|${normaliseTitle(subject.title)}`;
    // "[PATCH] title" is patch 1 of 1.
    const index = subject.index === undefined || (subject.total ?? 1) === 1 ? 1 : subject.index;
    const t = threads.get(root) ?? threads.set(root, { root, slots: new Map() }).get(root)!;
    // One thread, one revision: a reply titled for another revision in the same thread is a later posting's.
    const first = t.slots.values().next().value as Slot | undefined;
    if (first && first.subject.revision !== subject.revision) continue;
    const slot = t.slots.get(index);
    if (slot && `${root}|${slot.subject.revision}|${normaliseTitle(slot.subject.title)}` !== key) continue;
    if (slot) slot.replies.push(m);
    else t.slots.set(index, { index, subject, replies: [m] });
  }

  const out: Series[] = [];
  for (const { root, slots } of threads.values()) {
    const sorted = [...slots.values()].sort((a, b) => a.index - b.index);
    const total = Math.max(...sorted.map((s) => s.subject.total ?? 1), 1);
    const replies = new Map<string, Message[]>();
    const members: (Message | undefined)[] = Array.from({ length: total }, () => undefined);
    let cover: Message | undefined;
    let author: Person | undefined;
    let date: Date | undefined;
    for (const slot of sorted) {
      const id = patchIdOf(slot, root, orphanIds);
      author ??= authorOf(slot.replies, id);
      const earliest = slot.replies.reduce((a, b) => (time(b) < time(a) ? b : a));
      if (earliest.date && (!date || earliest.date < date)) date = earliest.date;
      const quoted = quotedLines(slot.replies, id);
      const message = ghostMessage(id, slot.subject, author ?? { name: "", email: "" }, earliest.date, quoted, slot.replies);
      if (slot.index === 0) cover = message;
      else if (slot.index <= total) members[slot.index - 1] = message;
      replies.set(id, [...slot.replies].sort((a, b) => time(a) - time(b)));
    }
    // Without a known author no revision-link rule but the thread may claim it: keep it anyway.
    const head = cover ?? members.find((m) => m !== undefined);
    if (!head) continue;
    const withAuthor = (m: Message | undefined) => (m && author ? { ...m, from: author } : m);
    const series: Series = {
      id: cover?.messageId ?? root,
      title: head.parsedSubject.title,
      revision: head.parsedSubject.revision,
      total,
      rfc: head.parsedSubject.rfc,
      cover: withAuthor(cover),
      slots: members.map(withAuthor),
      missing: members.flatMap((m, i) => (m ? [] : [i + 1])),
      duplicates: [],
      replies,
      changeId: undefined,
      author: author ?? head.from,
      date,
    };
    ghosts.add(series);
    out.push(series);
  }
  return out;
}

const withGhostsCache = new WeakMap<readonly Series[], { orphans: readonly Message[]; all: readonly Series[] }>();

/**
 * `known` and the revisions rebuilt from `orphans`, as one list the revision-link rules choose
 * from; the same list for the same input, so its link index is built once.
 */
export function withGhosts(known: readonly Series[], orphans: readonly Message[]): readonly Series[] {
  const hit = withGhostsCache.get(known);
  if (hit && hit.orphans === orphans) return hit.all;
  const all = [...known, ...ghostRevisions(orphans, known)];
  withGhostsCache.set(known, { orphans, all });
  return all;
}

/**
 * A point worth keeping from a revision known only from replies: an ack is for code nobody here can
 * see, and a snip marker or a one-word "yup" under a quote is no request.
 */
function reviewPoint(i: JudgedItem): boolean {
  if (i.kind === "ack") return false;
  return (i.body.match(/\b[a-z][a-z']+\b/gi) ?? []).length >= 2;
}

/** Items raised on a revision known only from replies say so first; acks and wordless points are left out. */
export function noteGhostItems(items: readonly JudgedItem[], revisions: readonly Series[]): JudgedItem[] {
  const ids = new Set(revisions.filter(isGhost).map((s) => s.id));
  return items.flatMap((i) => {
    if (!ids.has(i.seriesId)) return [i];
    return reviewPoint(i) ? [{ ...i, evidence: [ghostNote(i.version), ...i.evidence] }] : [];
  });
}
