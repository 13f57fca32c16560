import { isUntaggedCover } from "./cover.js";
import type { Message } from "./message.js";

/** Cover letter and patches of one revision of a series; a missing patch is an empty slot. */
export interface Series {
  /** Message-ID of the thread root of this revision (cover letter, or first patch). */
  readonly id: string;
  readonly title: string;
  readonly revision: number;
  readonly total: number;
  readonly rfc: boolean;
  readonly cover: Message | undefined;
  /** slots[i] is patch i+1 of total; undefined when it never arrived. */
  readonly slots: readonly (Message | undefined)[];
  readonly missing: readonly number[];
  /** Extra copies of a slot or of the cover letter (a resend inside the same thread): reported, not reviewed. */
  readonly duplicates: readonly Message[];
  /** Replies keyed by the Message-ID of the patch or cover letter they answer. */
  readonly replies: ReadonlyMap<string, readonly Message[]>;
  readonly changeId: string | undefined;
  readonly author: Message["from"];
  readonly date: Date | undefined;
}

export interface Grouped {
  readonly series: readonly Series[];
  /** Replies whose patch is not in the input. */
  readonly orphanReplies: readonly Message[];
  /** Messages that are neither patches nor replies. */
  readonly other: readonly Message[];
}

function parentIds(m: Message): string[] {
  const refs = [...m.references].reverse();
  return m.inReplyTo ? [m.inReplyTo, ...refs.filter((r) => r !== m.inReplyTo)] : refs;
}

function isSeriesMember(m: Message, untagged: ReadonlySet<string>): boolean {
  return m.kind === "patch" || m.kind === "cover" || untagged.has(m.messageId);
}

function sameAuthor(a: Message, b: Message): boolean {
  return a.from.email.toLowerCase() === b.from.email.toLowerCase();
}

/** The untagged cover letters of a thread (patch/cover.ts): what a numbered patch answers directly. */
function untaggedCovers(byId: ReadonlyMap<string, Message>): Set<string> {
  const out = new Set<string>();
  for (const m of byId.values()) {
    const parentId = parentIds(m)[0];
    const p = parentId === undefined ? undefined : byId.get(parentId);
    if (!p) continue;
    const candidate = { kind: p.kind, isReply: p.parsedSubject.isReply, isPatch: p.parsedSubject.isPatch, from: p.from.email };
    if (isUntaggedCover(candidate, { kind: m.kind, index: m.parsedSubject.index, total: m.parsedSubject.total, from: m.from.email })) out.add(p.messageId);
  }
  return out;
}

/** Slot of a message in its series: 0 for a cover letter, tagged or not. */
function slotOf(m: Message, untagged: ReadonlySet<string>): number {
  return m.kind === "cover" || untagged.has(m.messageId) ? 0 : (m.parsedSubject.index ?? 1);
}

/**
 * Messages of one thread whose tags disagree (`[PATCH 1/2]` beside `[PATCH v2 2/2]`) belong
 * together when neither group takes a slot the other holds; a new revision posted into the old
 * thread brings its own 0..N and stays apart. A `[RESEND]` copy in the thread repeats slots on
 * purpose: it joins, and its patches become duplicates, never a second set of findings.
 */
function fits(a: readonly Message[], b: readonly Message[], untagged: ReadonlySet<string>): boolean {
  const total = (l: readonly Message[]) => new Set(l.filter((m) => !untagged.has(m.messageId)).map((m) => m.parsedSubject.total ?? 1));
  const ta = total(a);
  const tb = total(b);
  if (ta.size > 1 || tb.size > 1 || [...ta].some((t) => tb.size > 0 && !tb.has(t))) return false;
  if (!b.every((m) => sameAuthor(m, a[0]!))) return false;
  if (b.every((m) => m.parsedSubject.resend)) return true;
  const taken = new Set(a.map((m) => slotOf(m, untagged)));
  return b.every((m) => !taken.has(slotOf(m, untagged)));
}

/** The changed lines of a patch, blanks ignored, as `git patch-id` sees it: equal for a re-sent copy. */
export function changedLines(m: Message): string {
  return m.files
    .map((f) => `${f.path}\n${f.hunks.flatMap((h) => h.lines.filter((l) => l.type !== " ").map((l) => `${l.type}${l.text.replace(/\s+/g, "")}`)).join("\n")}`)
    .join("\n");
}

/**
 * A patch answering the patch in its own slot with a different diff is the next posting sent
 * with `--in-reply-to` and no new tag (several untagged revisions of one patch in one thread),
 * not part of that series; an identical copy stays a duplicate.
 */
function repostOf(m: Message, parent: Message, untagged: ReadonlySet<string>): boolean {
  return m.kind === "patch" && parent.kind === "patch" && slotOf(m, untagged) === slotOf(parent, untagged) && changedLines(m) !== changedLines(parent);
}

function sameRevision(a: Message, b: Message): boolean {
  const sa = a.parsedSubject;
  const sb = b.parsedSubject;
  return sa.revision === sb.revision && (sa.total ?? 1) === (sb.total ?? 1);
}

/**
 * Regroup messages into series the way b4 does: follow In-Reply-To/References up to the root of
 * this revision (shallow threading: patches answer the cover; deep: each answers the previous),
 * then fill slots by `[PATCH n/m]`. Unthreaded numbered patches of one author, revision and
 * total are joined. Series as real senders post them are read too: a cover letter without
 * `[PATCH 0/N]`, mixed tags inside one thread, `[RESEND]` copies. Replies hang off the nearest
 * patch or cover letter above them.
 */
export function groupSeries(messages: readonly Message[]): Grouped {
  const byId = new Map<string, Message>();
  for (const m of messages) if (!byId.has(m.messageId)) byId.set(m.messageId, m);
  const untagged = untaggedCovers(byId);
  const member = (m: Message) => isSeriesMember(m, untagged);

  const parentOf = (m: Message): Message | undefined =>
    parentIds(m)
      .map((id) => byId.get(id))
      .find((p): p is Message => p !== undefined);
  const rootOf = (m: Message): Message => {
    let cur = m;
    const seen = new Set<string>([m.messageId]);
    // An untagged cover letter carries no revision to compare: it is the root of its patches.
    while (!untagged.has(cur.messageId)) {
      const parent = parentOf(cur);
      if (!parent || seen.has(parent.messageId) || !member(parent)) return cur;
      if (!untagged.has(parent.messageId) && !sameRevision(parent, m)) return cur;
      if (repostOf(cur, parent, untagged)) return cur;
      seen.add(parent.messageId);
      cur = parent;
    }
    return cur;
  };

  const groups = new Map<string, Message[]>();
  const groupOf = new Map<string, Message[]>();
  for (const m of byId.values()) {
    if (!member(m)) continue;
    const root = rootOf(m);
    const list = groups.get(root.messageId) ?? [];
    list.push(m);
    groups.set(root.messageId, list);
    groupOf.set(m.messageId, list);
  }
  // A group whose root answers a series member of another revision: mixed tags in one thread.
  for (const [rootId, list] of groups) {
    const parent = parentOf(byId.get(rootId)!);
    const into = parent && member(parent) ? groupOf.get(parent.messageId) : undefined;
    if (!into || into === list || !fits(into, list, untagged)) continue;
    into.push(...list);
    for (const m of list) groupOf.set(m.messageId, into);
    groups.delete(rootId);
  }

  // Unthreaded numbered patches (git format-patch output read from files, or sent without
  // --thread): join groups with one author, revision and total whose slots do not collide.
  const keyOf = (list: Message[]) => {
    const first = list[0]!;
    const s = first.parsedSubject;
    const rootHasParent = parentIds(first).some((id) => byId.has(id));
    if ((s.total ?? 1) <= 1 || rootHasParent) return undefined;
    return `${first.from.email}|${s.revision}|${s.total}|${s.prefixes.join(",")}`;
  };
  const merged: Message[][] = [];
  const open = new Map<string, Message[]>();
  for (const list of groups.values()) {
    const key = keyOf(list);
    const existing = key ? open.get(key) : undefined;
    const taken = new Set(existing?.map((m) => m.parsedSubject.index));
    if (existing && list.every((m) => !taken.has(m.parsedSubject.index))) {
      existing.push(...list);
      continue;
    }
    merged.push(list);
    if (key) open.set(key, list);
  }

  const seriesList: Series[] = [];
  const owner = new Map<string, string>();
  for (const list of merged) {
    const sorted = [...list].sort((a, b) => slotOf(a, untagged) - slotOf(b, untagged));
    const first = sorted[0]!;
    const total = Math.max(1, ...sorted.map((m) => m.parsedSubject.total ?? 1));
    const found = sorted.find((m) => m.kind === "cover" || untagged.has(m.messageId));
    const cover = found && found.kind !== "cover" ? { ...found, kind: "cover" as const } : found;
    const slots: (Message | undefined)[] = Array.from({ length: total }, () => undefined);
    const duplicates: Message[] = [];
    for (const m of sorted) {
      // A cover letter sent again in the same thread is a duplicate too, never silently dropped.
      if (m.kind === "cover" && m !== cover) duplicates.push(m);
      if (m.kind !== "patch") continue;
      const i = (m.parsedSubject.index ?? 1) - 1;
      if (i < 0 || i >= total || slots[i]) duplicates.push(m);
      else slots[i] = m;
    }
    const missing = slots.flatMap((s, i) => (s ? [] : [i + 1]));
    const head = cover ?? slots.find((s) => s) ?? first;
    const id = (cover ?? first).messageId;
    for (const m of sorted) owner.set(m.messageId, id);
    seriesList.push({
      id,
      title: head.parsedSubject.title,
      // The highest tag: a `v2` on some patches of a thread names the revision of all of them.
      revision: Math.max(...sorted.map((m) => m.parsedSubject.revision)),
      total,
      rfc: sorted.some((m) => m.parsedSubject.rfc),
      cover,
      slots,
      missing,
      duplicates,
      replies: new Map(),
      changeId: cover?.changeId ?? slots.find((s) => s?.changeId)?.changeId,
      author: head.from,
      date: head.date,
    });
  }

  const orphanReplies: Message[] = [];
  const other: Message[] = [];
  const replyMaps = new Map(seriesList.map((s) => [s.id, s.replies as Map<string, Message[]>]));
  for (const m of byId.values()) {
    if (member(m)) continue;
    if (m.kind !== "reply") {
      other.push(m);
      continue;
    }
    // The nearest ancestor that is a patch or cover letter; replies to replies climb up.
    let target: Message | undefined;
    const queue = parentIds(m);
    const seen = new Set<string>();
    while (queue.length > 0 && !target) {
      const id = queue.shift()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const p = byId.get(id);
      if (!p) continue;
      if (member(p)) target = p;
      else queue.unshift(...parentIds(p));
    }
    const seriesId = target ? owner.get(target.messageId) : undefined;
    if (!target || !seriesId) {
      orphanReplies.push(m);
      continue;
    }
    const map = replyMaps.get(seriesId)!;
    const list = map.get(target.messageId) ?? [];
    list.push(m);
    map.set(target.messageId, list);
  }
  seriesList.sort((a, b) => (a.date?.getTime() ?? 0) - (b.date?.getTime() ?? 0));
  return { series: seriesList, orphanReplies, other };
}
