import type { Message, Person } from "./message.js";
import type { Series } from "./series.js";

/**
 * How a series was found to be the next revision (or a resend) of another, strongest first:
 * b4's change-id; the new revision posted in reply to the old thread (`git send-email
 * --in-reply-to`); the `Link to v1:` line b4 writes into the cover letter; the same title and
 * author; or, for a renamed series, the same author and most patch titles; or, for a numbered
 * revision renamed outright, the same author changing the same files within a few weeks.
 */
export type LinkHow = "change-id" | "in-reply-to" | "link" | "subject" | "patch-subjects" | "files";

export interface RevisionLink {
  /** The later revision. */
  readonly series: Series;
  /** The revision before it, or the original when `series` is a RESEND of the same revision. */
  readonly previous: Series;
  readonly how: LinkHow;
  /** What matched, for the reader: the change-id, the Message-ID, the title. */
  readonly detail: string;
  /** `[RESEND]` of the same revision rather than a new one. */
  readonly resend: boolean;
  /**
   * The revision numbers the two postings have in their chain: what the subjects or changelogs
   * say, raised where they repeat or are missing, so untagged postings read v2, v3, not v1, v1.
   */
  readonly revision: number;
  readonly previousRevision: number;
}

/** A patch of a series with its place in it. */
export interface PatchRef {
  readonly message: Message;
  readonly index: number;
}

/** One patch of the older revision and what became of it in the newer one. */
export interface PatchPair {
  readonly old: PatchRef;
  /** One patch usually; several when it was split; several old patches share one when squashed. */
  readonly new: readonly PatchRef[];
  /** "subject": same title; "reworded": similar title, shared files; "files": only the files tell. */
  readonly how: "subject" | "reworded" | "files";
}

export interface PatchPairing {
  readonly pairs: readonly PatchPair[];
  /** Patches of the older revision with no counterpart: dropped (or merged upstream). */
  readonly dropped: readonly PatchRef[];
  /** Patches new in the later revision. */
  readonly added: readonly PatchRef[];
}

// Linking, pairing and the trackers ask for the same titles again and again: kept, up to a bound.
const normalised = new Map<string, string>();
const NORMALISED = 8192;

/** "dma-buf: Add the dma_coherent flag." and "dma-buf: add dma_coherent flag" are one title. */
export function normaliseTitle(title: string): string {
  let n = normalised.get(title);
  if (n === undefined) {
    if (normalised.size >= NORMALISED) normalised.clear();
    normalised.set(title, (n = readTitle(title)));
  }
  return n;
}

function readTitle(title: string): string {
  return title
    .replace(TITLE_VERSION, "")
    .replace(TITLE_TAG, "")
    .toLowerCase()
    .replace(/\b(the|a|an)\b/g, " ")
    .replace(/[^\w/:.+-]+/g, " ")
    .replace(/[.\s]+$/, "")
    .replace(/\s+/g, " ")
    .trim();
}

/** The keys one person is known by: address and accent-free name. */
function personKeys(p: Person): string[] {
  const name = p.name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  return [...(p.email ? [`e:${p.email.toLowerCase()}`] : []), ...(name ? [`n:${name}`] : [])];
}

function head(s: Series): Message | undefined {
  return s.cover ?? s.slots.find((m) => m !== undefined);
}

function isResend(s: Series): boolean {
  return head(s)?.parsedSubject.resend ?? false;
}

function patches(s: Series): PatchRef[] {
  return s.slots.flatMap((m, i) => (m ? [{ message: m, index: i + 1 }] : []));
}

/** Every Message-ID of a series' thread: cover, patches, resent copies, replies. */
function threadIds(s: Series): string[] {
  const ids: string[] = [];
  if (s.cover) ids.push(s.cover.messageId);
  for (const m of s.slots) if (m) ids.push(m.messageId);
  for (const m of s.duplicates) ids.push(m.messageId);
  for (const list of s.replies.values()) for (const m of list) ids.push(m.messageId);
  return ids;
}

// b4 writes "Link to v1: https://lore.kernel.org/r/<msgid>"; people also paste patch.msgid.link.
const LORE_LINK = /https?:\/\/(?:lore\.kernel\.org\/(?:r|all|[\w.-]+)|patch\.msgid\.link)\/([^\s/>]+(?:@|%40)[^\s/>]+)/g;

/** The Message-IDs the cover letter's lore links name (b4's `Link to v1:`). */
export function linkedIds(s: Series): readonly string[] {
  const c = s.cover;
  return c ? (c.prose?.links ?? loreLinks(c.commitMessage)) : [];
}

// "RFC: dma-buf: foo": a tag written into the title instead of the brackets, dropped on the next posting.
const TITLE_TAG = /^\s*(?:rfc|resend)\b\s*:?\s*/i;
// "mm: add foo v2", "drm: bar (v3)": authors who do not tag the subject number the title instead.
const TITLE_VERSION = /[\s([]v(\d{1,2})[)\]]?\s*$/i;
// Changelog lines: "v2:", "- v3: ...", "Changes in v4", "v1 -> v2:", "Changes since v2" (= v3).
const NOTES_VERSION = /^\s*(?:[-*]\s*)?(?:changes?\s+(in|for|since|from)\s+)?v(\d{1,2})(?:\s*(?:->|→|\.\.|to)\s*v?(\d{1,2}))?\s*(?::|$)/gim;

/**
 * The revision a series is, read as b4 would and beyond: the subject tag, a "vN" ending a title,
 * or the highest version its changelog describes. An untagged v3 is still later than a tagged v2.
 */
export function effectiveRevision(s: Series): number {
  return revisionOf(s);
}

function readRevision(s: Series): number {
  let n = s.revision;
  for (const m of [s.cover, ...s.slots]) {
    if (!m) continue;
    const t = TITLE_VERSION.exec(m.parsedSubject.title);
    if (t) n = Math.max(n, Number(t[1]));
    n = Math.max(n, m === s.cover ? (m.prose?.asCover ?? coverVersion(m)) : (m.prose?.asPatch ?? patchVersion(m)));
  }
  return n;
}

/**
 * What linking reads of a message's prose: the highest version its changelog names, read as a
 * cover letter's (the commit message) and as a patch's (with the notes below `---`), 0 for none;
 * and the Message-IDs its lore links name. A message is read either way, since grouping decides
 * which it is. An outline carries this in place of the text.
 */
export interface ProseReading {
  readonly asCover: number;
  readonly asPatch: number;
  readonly links: readonly string[];
}

export function readProse(m: Pick<Message, "commitMessage" | "notes">): ProseReading {
  return { asCover: coverVersion(m), asPatch: patchVersion(m), links: loreLinks(m.commitMessage) };
}

const coverVersion = (m: Pick<Message, "commitMessage">) => changelogVersion(`${m.commitMessage}\n`);
// Patches carry their changelog below `---` or, as often, at the end of the commit message.
const patchVersion = (m: Pick<Message, "commitMessage" | "notes">) => changelogVersion(`${m.commitMessage}\n${m.notes}`);

function loreLinks(text: string): string[] {
  return [...text.matchAll(LORE_LINK)].map((c) => unescaped(c[1]!).replace(/^<|>$/g, ""));
}

// A Message-ID may hold a bare `%` ("<1a%b@host>"): a link that does not decode is read as written.
function unescaped(id: string): string {
  try {
    return decodeURIComponent(id);
  } catch {
    return id;
  }
}

function changelogVersion(text: string): number {
  let n = 0;
  for (const c of text.matchAll(NOTES_VERSION)) {
    const v = Number(c[3] ?? c[2]) + (c[1] && /since|from/i.test(c[1]) && !c[3] ? 1 : 0);
    if (v < 50) n = Math.max(n, v);
  }
  return n;
}

/** Whether the subject numbers the revision: a `vN` tag, or a title ending in one. */
export function tagged(s: Series): boolean {
  return s.revision > 1 || [s.cover, ...s.slots].some((m) => m !== undefined && TITLE_VERSION.test(m.parsedSubject.title));
}

// Asked for every link tried and every step judged: a series' texts are read for it once.
const revisions = new WeakMap<Series, number>();

function revisionOf(s: Series): number {
  let n = revisions.get(s);
  if (n === undefined) {
    n = readRevision(s);
    revisions.set(s, n);
  }
  return n;
}

function time(s: Series): number {
  return s.date?.getTime() ?? 0;
}

function titleOf(s: Series): string {
  return normaliseTitle(head(s)?.parsedSubject.title ?? s.title);
}

/** Series by a key, each once, in the order added; a key naming one series holds it alone, as most do. */
class Lookup {
  private readonly map = new Map<string, Series | Series[]>();

  add(key: string, s: Series): void {
    const v = this.map.get(key);
    if (v === undefined) this.map.set(key, s);
    else if (!Array.isArray(v)) {
      if (v !== s) this.map.set(key, [v, s]);
    } else if (!v.includes(s)) v.push(s);
  }

  get(key: string): readonly Series[] {
    const v = this.map.get(key);
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  }
}

/** A Lookup per person key: a title or a path is kept as it is, not joined to each author's key. */
class PersonLookup {
  private readonly byPerson = new Map<string, Lookup>();

  add(person: string, key: string, s: Series): void {
    let l = this.byPerson.get(person);
    if (!l) this.byPerson.set(person, (l = new Lookup()));
    l.add(key, s);
  }

  get(person: string, key: string): readonly Series[] {
    return this.byPerson.get(person)?.get(key) ?? [];
  }
}

/** Lookups over the candidates, so linking a whole archive is not quadratic. */
class Index {
  readonly byChangeId = new Lookup();
  readonly byThreadId = new Lookup();
  readonly byTitle = new PersonLookup();
  readonly byPatchTitle = new PersonLookup();
  readonly byFile = new PersonLookup();
  /** Series whose first message answers a message of another series' thread, by that series' id. */
  readonly postedInto = new Lookup();

  constructor(all: readonly Series[]) {
    for (const s of all) {
      if (s.changeId) this.byChangeId.add(s.changeId, s);
      for (const id of threadIds(s)) this.byThreadId.add(id, s);
      const who = personKeys(s.author);
      for (const k of who) this.byTitle.add(k, titleOf(s), s);
      for (const p of patches(s)) for (const k of who) this.byPatchTitle.add(k, normaliseTitle(p.message.parsedSubject.title), s);
      for (const f of filesOf(s)) for (const k of who) this.byFile.add(k, f, s);
    }
    for (const s of all) {
      const first = head(s);
      const parents = first ? [first.inReplyTo, ...first.references].filter((x): x is string => x !== undefined) : [];
      for (const t of new Set(parents.flatMap((id) => this.byThreadId.get(id)))) if (t !== s) this.postedInto.add(t.id, s);
    }
  }
}

function filesOf(s: Series): Set<string> {
  return new Set(patches(s).flatMap((p) => p.message.files.map((f) => f.path)));
}

/** How far apart two postings of one series may be when only the files they change tie them. */
const FILES_WINDOW_MS = 60 * 24 * 3600 * 1000;

const indexes = new WeakMap<readonly Series[], Index>();

function indexOf(candidates: readonly Series[]): Index {
  let ix = indexes.get(candidates);
  if (!ix) {
    ix = new Index(candidates);
    indexes.set(candidates, ix);
  }
  return ix;
}

/**
 * Sent no later than `series`, when both carry a date. Revision numbers are not enough: a series
 * that is dropped and started again under a new title restarts at v1, and its "v1" is then
 * newer than the old v3 whose patch titles it shares.
 */
function notLater(c: Series, series: Series): boolean {
  return !c.date || !series.date || time(c) <= time(series);
}

/** The closest earlier revision among candidates; a resend of one revision links to its original. */
function closest(series: Series, candidates: readonly Series[], exclude: ReadonlySet<string>): Series | undefined {
  const resend = isResend(series);
  const rev = revisionOf(series);
  // The same number again is a revision too when it was posted earlier and is not a RESEND: a third
  // posting titled "v2" follows the second, and untitled postings are all "v1".
  const earlier = (c: Series) => c.date !== undefined && series.date !== undefined && time(c) < time(series);
  const sameNumber = (c: Series) => !isResend(c) && (resend || earlier(c));
  // A later posting without a number in its subject follows whatever came before it, whatever
  // number that one carried: a changelog's count is the patch's own, while the tags of the host
  // series it travelled in (a "v4 1/4" before an untagged "1/4" with a v3 changelog) are not.
  const unnumbered = !tagged(series) && !resend;
  const ok = candidates.filter(
    (c) =>
      c !== series &&
      c.id !== series.id &&
      !exclude.has(c.id) &&
      notLater(c, series) &&
      (revisionOf(c) < rev || (revisionOf(c) === rev && sameNumber(c)) || (unnumbered && earlier(c) && !isResend(c))),
  );
  if (unnumbered) return [...ok].sort((a, b) => time(b) - time(a) || revisionOf(b) - revisionOf(a))[0];
  return [...ok].sort((a, b) => revisionOf(b) - revisionOf(a) || time(b) - time(a))[0];
}

/**
 * Find the revision a series follows. Each method is tried in order of strength and the closest
 * earlier revision it finds wins: a v3 links to v2, not v1, even when both share the change-id.
 * `exclude` names series already placed in a chain.
 */
export function findPrevious(series: Series, candidates: readonly Series[], exclude: ReadonlySet<string> = new Set()): RevisionLink | undefined {
  const ix = indexOf(candidates);
  const resend = isResend(series);
  const make = (previous: Series | undefined, how: LinkHow, detail: (p: Series) => string): RevisionLink | undefined =>
    previous ? numbered({ series, previous, how, detail: detail(previous), resend: resend && revisionOf(previous) === revisionOf(series) }, revisionOf(previous)) : undefined;

  if (series.changeId) {
    const link = make(closest(series, ix.byChangeId.get(series.changeId), exclude), "change-id", () => `change-id ${series.changeId}`);
    if (link) return link;
  }

  const byIds = (ids: readonly string[], how: LinkHow, detail: (id: string) => string) => {
    const hits = new Map<Series, string>();
    for (const id of ids) for (const c of ix.byThreadId.get(id)) if (!hits.has(c)) hits.set(c, id);
    return make(closest(series, [...hits.keys()], exclude), how, (p) => detail(hits.get(p)!));
  };
  const first = head(series);
  const parents = first ? [first.inReplyTo, ...first.references].filter((x): x is string => x !== undefined) : [];
  // A thread or a link may point at v1 while v2 was posted in between: the closer one wins.
  const replied = byIds(parents, "in-reply-to", (id) => `In-Reply-To <${id}>`);
  if (replied) return rerolled(closer(replied, byContent(series, ix, exclude, make)), ix, exclude);
  const linked = byIds(linkedIds(series), "link", (id) => `cover letter links <${id}>`);
  if (linked) return rerolled(closer(linked, byContent(series, ix, exclude, make)), ix, exclude);
  const content = byContent(series, ix, exclude, make);
  return content && rerolled(content, ix, exclude);
}

/**
 * A revision sent as a few patches into the thread of the one before (`[PATCH v8]` answering
 * patch 33 of v7, b4's partial reroll) comes between them: v9 follows that v8, not v7, even when
 * its cover letter links v7, since the v8 never had a cover of its own.
 */
function rerolled(link: RevisionLink, ix: Index, exclude: ReadonlySet<string>): RevisionLink {
  let cur = link;
  for (let guard = 0; guard < 50; guard++) {
    const prev = cur.previous;
    const between = ix.postedInto.get(prev.id).filter(
      (r) =>
        r !== link.series &&
        r.id !== link.series.id &&
        !exclude.has(r.id) &&
        !isResend(r) &&
        sameAuthor(r, prev) &&
        r.date !== undefined && link.series.date !== undefined && time(prev) < time(r) && time(r) < time(link.series) &&
        revisionOf(r) > revisionOf(prev) &&
        (!tagged(link.series) || revisionOf(r) < revisionOf(link.series)),
    );
    const next = between.sort((a, b) => revisionOf(b) - revisionOf(a) || time(b) - time(a))[0];
    if (!next) return cur;
    cur = numbered({ ...cur, previous: next, detail: `${cur.detail}; v${revisionOf(next)} <${next.id}> was posted into that thread after it` }, revisionOf(next));
  }
  return cur;
}

function sameAuthor(a: Series, b: Series): boolean {
  const keys = new Set(personKeys(a.author));
  return personKeys(b.author).some((k) => keys.has(k));
}

/** A link given the number of its earlier posting: the later one is the next number unless it says more. */
function numbered(link: Omit<RevisionLink, "revision" | "previousRevision">, previousRevision: number): RevisionLink {
  const revision = link.resend ? previousRevision : Math.max(revisionOf(link.series), previousRevision + 1);
  return { ...link, revision, previousRevision };
}

function closer(strong: RevisionLink, weak: RevisionLink | undefined): RevisionLink {
  if (!weak || weak.previous === strong.previous) return strong;
  const [tw, ts, rw, rs] = [time(weak.previous), time(strong.previous), revisionOf(weak.previous), revisionOf(strong.previous)];
  const later = (tw > ts && rw >= rs) || (tw === ts && rw > rs);
  return later ? weak : strong;
}

type MakeLink = (previous: Series | undefined, how: LinkHow, detail: (p: Series) => string) => RevisionLink | undefined;

/** Links by what the series is rather than where it was posted: titles, patch titles, files. */
function byContent(series: Series, ix: Index, exclude: ReadonlySet<string>, make: MakeLink): RevisionLink | undefined {
  const who = personKeys(series.author);
  const sameTitle = who.flatMap((k) => ix.byTitle.get(k, titleOf(series)));
  const link = make(closest(series, sameTitle, exclude), "subject", () => `same title and author "${head(series)?.parsedSubject.title ?? series.title}"`);
  if (link) return link;

  // A renamed series: the cover letter got a new title, most patch titles did not.
  const mine = [...new Set(patches(series).map((p) => normaliseTitle(p.message.parsedSubject.title)))];
  const shared = new Map<Series, Set<string>>();
  for (const t of mine) {
    for (const c of who.flatMap((k) => ix.byPatchTitle.get(k, t))) {
      const set = shared.get(c) ?? new Set<string>();
      set.add(t);
      shared.set(c, set);
    }
  }
  const renamed = [...shared.entries()].filter(([c, set]) => set.size * 2 >= Math.min(mine.length, patches(c).length)).map(([c]) => c);
  const byTitles = make(closest(series, renamed, exclude), "patch-subjects", (p) => `${shared.get(p)!.size} patch titles in common, same author`);
  if (byTitles) return byTitles;

  // Renamed outright: only a numbered revision may claim an earlier posting by its files alone.
  if (revisionOf(series) < 2) return undefined;
  const mineFiles = filesOf(series);
  const near = new Set(who.flatMap((k) => [...mineFiles].flatMap((f) => ix.byFile.get(k, f))));
  const similar = [...near].filter((c) => {
    const theirs = filesOf(c);
    const common = [...mineFiles].filter((f) => theirs.has(f)).length;
    const close = c.date && series.date ? Math.abs(time(series) - time(c)) <= FILES_WINDOW_MS : false;
    return close && common * 2 >= Math.max(mineFiles.size, theirs.size) && revisionOf(c) < revisionOf(series);
  });
  return make(closest(series, similar, exclude), "files", (p) => `same author, ${[...filesOf(p)].filter((f) => mineFiles.has(f)).length} files in common`);
}

/**
 * The revisions of one series, oldest first, ending with `series`, and the links between them.
 * A RESEND is kept in the chain beside the revision it repeats (its replies count too).
 */
export function revisionChain(series: Series, candidates: readonly Series[]): { revisions: Series[]; links: RevisionLink[] } {
  const revisions: Series[] = [series];
  const links: RevisionLink[] = [];
  const used = new Set<string>([series.id]);
  let cur = series;
  for (;;) {
    const link = findPrevious(cur, candidates, used);
    if (!link) break;
    links.unshift(link);
    revisions.unshift(link.previous);
    used.add(link.previous.id);
    cur = link.previous;
  }
  // Numbers along the chain, oldest first: each link continues from the number its predecessor got.
  // The oldest keeps its subject's number unless the subject gives one in words: a changelog
  // naming v2 in the first posting is a forge's one description for every push, not a v2.
  const oldest = revisions[0]!;
  const numbers = new Map<Series, number>([[oldest, tagged(oldest) ? revisionOf(oldest) : oldest.revision]]);
  const renumbered = links.map((l) => {
    const n = numbered(l, numbers.get(l.previous) ?? revisionOf(l.previous));
    numbers.set(l.series, n.revision);
    return n;
  });
  return { revisions, links: renumbered };
}

/** The revision number of each posting of a chain, as its links give them. */
export function revisionNumbers(revisions: readonly Series[], links: readonly RevisionLink[]): Map<Series, number> {
  const out = new Map<Series, number>();
  for (const l of links) {
    if (!out.has(l.previous)) out.set(l.previous, l.previousRevision);
    out.set(l.series, l.revision);
  }
  for (const s of revisions) if (!out.has(s)) out.set(s, revisionOf(s));
  return out;
}

/** Series that no later revision in `all` follows: the ones worth tracking. */
export function latestRevisions(all: readonly Series[]): Series[] {
  const superseded = new Set<string>();
  for (const s of all) {
    const link = findPrevious(s, all);
    if (link) superseded.add(link.previous.id);
  }
  return all.filter((s) => !superseded.has(s.id));
}

function words(title: string): Set<string> {
  return new Set(normaliseTitle(title).split(/[\s:/]+/).filter((w) => w.length > 2));
}

function jaccard(a: Set<string>, b: Set<string>): number {
  let inter = 0;
  for (const w of a) if (b.has(w)) inter++;
  const union = a.size + b.size - inter;
  return union === 0 ? 0 : inter / union;
}

function files(m: Message): Set<string> {
  return new Set(m.files.map((f) => f.path));
}

/**
 * Pair the patches of two revisions: by title first (reordering does not matter), then by a
 * similar title over the same files (a reworded subject), then by files alone, where one old
 * patch whose files are now spread over several new ones was split.
 */
export function pairPatches(older: Series, newer: Series): PatchPairing {
  const olds = patches(older);
  const news = patches(newer);
  const used = new Set<PatchRef>();
  const pairs = new Map<PatchRef, PatchPair>();
  // Each new patch is looked at for every old one: its title and files are read once.
  const titles = new Map(news.map((x) => [x, normaliseTitle(x.message.parsedSubject.title)]));
  const fileSets = new Map(news.map((x) => [x, files(x.message)]));

  for (const o of olds) {
    const t = normaliseTitle(o.message.parsedSubject.title);
    const n = news.find((x) => !used.has(x) && titles.get(x) === t);
    if (n) {
      used.add(n);
      pairs.set(o, { old: o, new: [n], how: "subject" });
    }
  }
  for (const o of olds) {
    if (pairs.has(o)) continue;
    const ow = words(o.message.parsedSubject.title);
    const of = files(o.message);
    const best = news
      .filter((x) => !used.has(x) && [...fileSets.get(x)!].some((f) => of.has(f)))
      .map((x) => ({ x, score: jaccard(ow, words(x.message.parsedSubject.title)) }))
      .filter((c) => c.score >= 0.5)
      .sort((a, b) => b.score - a.score)[0];
    if (best) {
      used.add(best.x);
      pairs.set(o, { old: o, new: [best.x], how: "reworded" });
    }
  }
  for (const o of olds) {
    if (pairs.has(o)) continue;
    const of = files(o.message);
    if (of.size === 0) continue;
    // New patches that change only files this one changed: its parts after a split.
    const parts = news.filter((x) => !used.has(x) && x.message.files.length > 0 && [...fileSets.get(x)!].every((f) => of.has(f)));
    // Or a new patch that now holds all of it (squashed with another).
    const whole = news.find((x) => [...of].every((f) => fileSets.get(x)!.has(f)));
    if (parts.length > 0) {
      for (const p of parts) used.add(p);
      pairs.set(o, { old: o, new: parts, how: "files" });
    } else if (whole) {
      used.add(whole);
      pairs.set(o, { old: o, new: [whole], how: "files" });
    }
  }
  return {
    pairs: olds.flatMap((o) => (pairs.has(o) ? [pairs.get(o)!] : [])),
    dropped: olds.filter((o) => !pairs.has(o)),
    added: news.filter((n) => !used.has(n)),
  };
}
