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

function isSeriesMember(m: Message): boolean {
  return m.kind === "patch" || m.kind === "cover";
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
 * total are joined. Replies hang off the nearest patch or cover letter above them.
 */
export function groupSeries(messages: readonly Message[]): Grouped {
  const byId = new Map<string, Message>();
  for (const m of messages) if (!byId.has(m.messageId)) byId.set(m.messageId, m);

  const rootOf = (m: Message): Message => {
    let cur = m;
    const seen = new Set<string>([m.messageId]);
    for (;;) {
      const parent = parentIds(cur)
        .map((id) => byId.get(id))
        .find((p): p is Message => p !== undefined);
      if (!parent || seen.has(parent.messageId) || !isSeriesMember(parent) || !sameRevision(parent, m)) return cur;
      seen.add(parent.messageId);
      cur = parent;
    }
  };

  const groups = new Map<string, Message[]>();
  for (const m of byId.values()) {
    if (!isSeriesMember(m)) continue;
    const root = rootOf(m);
    const list = groups.get(root.messageId) ?? [];
    list.push(m);
    groups.set(root.messageId, list);
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
    const sorted = [...list].sort((a, b) => (a.parsedSubject.index ?? 1) - (b.parsedSubject.index ?? 1));
    const first = sorted[0]!;
    const total = Math.max(1, ...sorted.map((m) => m.parsedSubject.total ?? 1));
    const cover = sorted.find((m) => m.kind === "cover");
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
      revision: head.parsedSubject.revision,
      total,
      rfc: head.parsedSubject.rfc,
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
    if (isSeriesMember(m)) continue;
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
      if (isSeriesMember(p)) target = p;
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
