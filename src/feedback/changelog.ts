import type { Message } from "../patch/message.js";
import { effectiveRevision } from "../patch/revision-link.js";
import type { Series } from "../patch/series.js";
import { concernOf, type ConcernId } from "./concerns.js";
import type { Item } from "./items.js";
import { contentWords, identifiers, mentions, overlap } from "./words.js";

/** One line of what an author says changed, and where they said it. */
export interface ChangelogEntry {
  /** The revision the entry describes ("Changes in v2" → 2). */
  readonly revision: number;
  readonly text: string;
  /** 0 for the cover letter, else the patch index in the revision that carries it. */
  readonly patch: number;
  readonly total: number;
  readonly messageId: string;
}

// "Changes in v2:", "Changes since v1:", "v1 -> v2:", "Changelog:", "Changes:".
const HEADING = /^\s*(?:changes|changelog|change log)(?:\s+(in|for|since|from))?(?:\s+v(\d+)(?:\s*(?:->|→|\.\.|to)\s*v?(\d+))?)?\s*:?\s*$|^\s*v(\d+)\s*(?:->|→|\.\.|to)\s*v?(\d+)\s*:\s*$|^\s*v(\d+)\s*:\s*$/i;
// "v2: ...", "- v2: ...", "v1 -> v2: ..."
const INLINE = /^\s*(?:[-*]\s*)?v(\d+)(?:\s*(?:->|→|\.\.)\s*v?(\d+))?\s*[:-]\s+(\S.*)$/i;
const BULLET = /^(\s*)[-*•]\s+(\S.*)$/;
// Where notes stop: a diffstat, a shortlog, git's own separators.
const STOP = /^\s*(\S+\s+\|\s+\d+|\d+ files? changed|---\s*$|base-commit:|[^\s].*\(\d+\):$)/;

interface Parsed {
  readonly revision: number;
  readonly text: string;
}

/**
 * The changelog in a cover letter or in the notes below `---`, in the forms kernel authors
 * write it: a "Changes in vN:" heading with bullets, or "vN: text" lines; continuation lines
 * are indented. b4's "Link to vN" bullets are links, not changes.
 */
export function parseChangelog(text: string, revision: number): Parsed[] {
  const out: Parsed[] = [];
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  let section: number | undefined;
  let cur: { revision: number; parts: string[]; indent: number } | undefined;
  const flush = () => {
    if (cur) {
      const t = cur.parts.join(" ").replace(/\s+/g, " ").trim();
      if (t && !/^link to v\d+\b/i.test(t)) out.push({ revision: cur.revision, text: t });
    }
    cur = undefined;
  };
  for (const line of lines) {
    if (STOP.test(line) && !BULLET.test(line)) {
      flush();
      section = undefined;
      continue;
    }
    const h = HEADING.exec(line);
    if (h) {
      flush();
      // A bare "v2:" line heads the changes made in v2.
      const [, how, a, b, c, d, e] = h;
      const n = Number(d ?? b ?? a ?? e ?? NaN);
      section = Number.isNaN(n) ? revision : d || b ? n : how && /since|from/i.test(how) ? n + 1 : n;
      continue;
    }
    const inline = INLINE.exec(line);
    if (inline) {
      flush();
      cur = { revision: Number(inline[2] ?? inline[1]), parts: [inline[3]!], indent: 1 };
      continue;
    }
    if (line.trim() === "") {
      flush();
      continue;
    }
    const bullet = BULLET.exec(line);
    if (bullet && section !== undefined) {
      flush();
      cur = { revision: section, parts: [bullet[2]!], indent: bullet[1]!.length + 1 };
      continue;
    }
    if (cur && /^\s+\S/.test(line)) {
      cur.parts.push(line.trim());
      continue;
    }
    if (section !== undefined && !cur) {
      // Prose under a heading: one entry per line group.
      cur = { revision: section, parts: [line.trim()], indent: 0 };
      continue;
    }
    if (cur && cur.indent === 0) {
      cur.parts.push(line.trim());
      continue;
    }
    flush();
    section = undefined;
  }
  flush();
  return out;
}

function entriesOf(m: Message, text: string, revision: number, patch: number, total: number): ChangelogEntry[] {
  return parseChangelog(text, revision).map((e) => ({ ...e, patch, total, messageId: m.messageId }));
}

/** Every changelog entry a revision carries: its cover letter, then the notes of each patch. */
export function readChangelog(series: Series): ChangelogEntry[] {
  const out: ChangelogEntry[] = [];
  const revision = effectiveRevision(series);
  if (series.cover) out.push(...entriesOf(series.cover, series.cover.commitMessage, revision, 0, series.total));
  series.slots.forEach((m, i) => {
    if (m) out.push(...entriesOf(m, m.notes, revision, i + 1, series.total));
  });
  return out;
}

/** Changelog prose about documentation, and about a patch that left the series. */
const ABOUT_DOCS = /\b(kernel-?doc|doc(s|umentation|umented)?|comments?)\b/i;
const ABOUT_DROP = /\b(drop(ped)?|removed?|gone|no longer (part|in))\b/i;
const COMMENT_LINE = /^[+\- ]\s*(\/\*|\*|\/\/)/;

export interface MatchContext {
  /** The index a v-older patch has in the revision carrying the entry, if it survived. */
  counterpart(item: Item): number | undefined;
  dropped(item: Item): boolean;
}

/** Struct members spelled through a pointer ("priv->index"): as telling as an identifier, though they have no underscore. */
function members(text: string): Set<string> {
  return new Set([...text.matchAll(/\b[A-Za-z_]\w*->[A-Za-z_]\w*\b/g)].map((m) => m[0].toLowerCase()));
}

/** What an entry is compared by, read once per entry or item: each entry is scored against every item, on every step. */
interface Words {
  readonly ids: ReadonlySet<string>;
  readonly members: ReadonlySet<string>;
  readonly words: ReadonlySet<string>;
}

/** An entry's words and what it says whatever the item: its concern, whether it is about docs or a drop. */
interface EntryWords extends Words {
  readonly concern: ConcernId | undefined;
  readonly aboutDocs: boolean;
  readonly aboutDrop: boolean;
}

const entryWords = new WeakMap<ChangelogEntry, EntryWords>();
const itemWords = new WeakMap<Item, Words>();

function wordsOfEntry(e: ChangelogEntry): EntryWords {
  let w = entryWords.get(e);
  if (!w) {
    w = { ids: identifiers(e.text), members: members(e.text), words: contentWords(e.text), concern: concernOf(e.text), aboutDocs: ABOUT_DOCS.test(e.text), aboutDrop: ABOUT_DROP.test(e.text) };
    entryWords.set(e, w);
  }
  return w;
}

function wordsOfItem(item: Item): Words {
  let w = itemWords.get(item);
  if (!w) {
    w = {
      ids: identifiers([item.body, ...item.anchor.quoted, item.anchor.function ?? ""].join("\n")),
      members: members(item.body),
      words: contentWords([item.body, ...item.anchor.quoted].join("\n")),
    };
    itemWords.set(item, w);
  }
  return w;
}

/** How strongly an entry speaks about an item: the reviewer named, the code named, the same words. */
export function entryScore(e: ChangelogEntry, item: Item, ctx: MatchContext): number {
  let score = 0;
  if (mentions(e.text, item.author)) score += 3;
  const [ew, iw] = [wordsOfEntry(e), wordsOfItem(item)];
  if (overlap(ew.ids, iw.ids) > 0 || overlap(ew.members, iw.members) > 0) score += 2;
  const shared = overlap(ew.words, iw.words);
  score += shared >= 2 ? 2 : shared;
  if (ew.concern && ew.concern === item.concern) score += 2;
  if (e.patch === ctx.counterpart(item)) score += 1;
  if (ew.aboutDocs) {
    const doc = item.anchor.kind === "code" && item.anchor.quoted.every((l) => COMMENT_LINE.test(l));
    score += doc ? 2 : -1;
  }
  if (ew.aboutDrop && ctx.dropped(item)) score += 2;
  return score;
}

/**
 * Give each changelog entry to the item(s) it speaks about best, when it speaks about one at
 * all: an entry usually answers one point, and a sentence naming two reviewers answers both.
 * Acks are not answered by changelogs.
 */
export function matchChangelog(entries: readonly ChangelogEntry[], items: readonly Item[], ctx: MatchContext): Map<string, ChangelogEntry[]> {
  const out = new Map<string, ChangelogEntry[]>();
  const points = items.filter((i) => i.kind !== "ack");
  for (const e of entries) {
    const scored = points.map((i) => ({ i, s: entryScore(e, i, ctx) }));
    const best = Math.max(3, ...scored.map((x) => x.s));
    const tied = scored.filter((x) => x.s === best).map((x) => x.i);
    // Points of one reply under one quote tie on the quote's words: the point's own words decide.
    const own = (i: Item) => overlap(contentWords(e.text), contentWords(i.body));
    const kept = tied.filter((i) => !tied.some((o) => o !== i && o.source === i.source && own(o) > own(i)));
    for (const i of kept) out.set(i.id, [...(out.get(i.id) ?? []), e]);
  }
  return out;
}
