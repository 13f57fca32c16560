import { createHash } from "node:crypto";
import { mayBeUntaggedCover } from "../patch/cover.js";
import type { FileDiff } from "../patch/diff.js";
import type { Message } from "../patch/message.js";
import { readProse } from "../patch/revision-link.js";
import { changedLines, type Series } from "../patch/series.js";

/*
 * A long input held as outlines: every message is needed to group series and link revisions,
 * but only the series being reviewed or tracked needs its text. Messages are kept as outlines
 * and read again in full, a series or a chain at a time.
 */

/**
 * What grouping and revision linking read of a message: its ids, author, date, subject, kind,
 * change-id, the files a patch touches and, for a possible series member, what linking reads of
 * its prose (the versions its changelog names, its lore links). Recipients are left out: only a
 * reply whose patch is missing is read for them, and those are read in full.
 * A patch's changed lines (what tells a repost from a copy) are kept as one digest line.
 */
export function outline(m: Message): Message {
  return copied(stripped(m), ownCopy);
}

/** The message with its text left out and, for a possible series member, what linking reads of its prose. */
function stripped(m: Message): Message {
  const member = m.kind === "patch" || m.kind === "cover" || mayBeUntaggedCover({ kind: m.kind, isReply: m.parsedSubject.isReply, isPatch: m.parsedSubject.isPatch, from: m.from.email });
  const digest = m.kind === "patch" && m.files.length > 0 ? createHash("sha256").update(changedLines(m)).digest("hex") : undefined;
  const files = m.files.map(
    (f, i): FileDiff => ({
      ...f,
      hunks: digest && i === 0 ? [{ oldStart: 0, oldLines: 0, newStart: 0, newLines: 0, heading: "", lines: [{ type: "+", text: digest }] }] : [],
    }),
  );
  // Linking reads a member's prose for two things alone (patch/revision-link.ts): read here, the text goes.
  return { ...m, to: [], cc: [], body: "", commitMessage: "", notes: "", ...(member ? { prose: readProse(m) } : {}), trailers: [], files };
}

/** A string of its own: one cut from a message's text (a name, a path, a Message-ID) would keep the whole text alive. */
function ownCopy(s: string): string {
  return s.length < 13 ? s : structuredClone(s);
}

/**
 * `outline` with one copy of each text across every outline it makes: a long input names the
 * same Message-IDs (each reply's References), paths, titles and authors thousands of times, and
 * each outline's copy would otherwise be its own. The texts are kept for as long as the outliner.
 */
export function outliner(): (m: Message) => Message {
  const kept = new Map<string, string>();
  const one = (s: string): string => {
    const k = kept.get(s);
    if (k !== undefined) return k;
    const c = ownCopy(s);
    kept.set(c, c);
    return c;
  };
  return (m) => copied(stripped(m), one);
}

// Most of an outline's lists are empty (recipients, trailers, a reply's files, subject tags): one
// frozen list stands for all of them, so that a write to one fails instead of reaching every outline.
const EMPTY: readonly never[] = Object.freeze([]);

/** A deep copy of `v` with each string as `text` gives it, each empty list as EMPTY and each date its own. */
function copied<T>(v: T, text: (s: string) => string): T {
  const copy = (x: unknown): unknown => {
    if (typeof x === "string") return text(x);
    if (Array.isArray(x)) return x.length === 0 ? EMPTY : x.map(copy);
    if (x instanceof Date) return new Date(x.getTime());
    if (x !== null && typeof x === "object") {
      const o: Record<string, unknown> = {};
      for (const key of Object.keys(x)) o[key] = copy((x as Record<string, unknown>)[key]);
      return o;
    }
    return x;
  };
  return copy(v) as T;
}

/**
 * `series` around its messages read again in full (`read`, by source). A message grouping made
 * a cover letter (an untagged one) stays one.
 */
export function wholeSeries(series: Series, read: ReadonlyMap<string, Message>): Series {
  const back = (m: Message): Message => {
    const f = read.get(m.source);
    if (!f) throw new Error(`${m.source}: not read again`);
    return f.kind === m.kind ? f : { ...f, kind: m.kind };
  };
  return {
    ...series,
    cover: series.cover && back(series.cover),
    slots: series.slots.map((m) => m && back(m)),
    duplicates: series.duplicates.map(back),
    replies: new Map([...series.replies].map(([id, list]) => [id, list.map(back)])),
  };
}

/** Every message a series holds: cover letter, patches, copies, replies. */
export function seriesMessages(s: Series): Message[] {
  return [s.cover, ...s.slots, ...s.duplicates, ...[...s.replies.values()].flat()].filter((m): m is Message => m !== undefined);
}
