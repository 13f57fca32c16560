import type { FileDiff, HunkLine } from "../../patch/diff.js";
import { buildMessage, type Message, type Person } from "../../patch/message.js";
import type { Series } from "../../patch/series.js";
import { FORGE_LIMITS, forgeSeries, type ForgeFile, type ForgeLimits } from "./revision.js";

/**
 * Review comments on a forge change, once the forge's field names are gone, and how they become
 * what the feedback tracker reads: each push a revision of a one-patch series, each comment a
 * reply to that patch. A line comment is written the way a kernel reviewer writes a mail: the
 * lines it sits on quoted (`> +\tif (...)`), the words under them; a reply in a thread answers
 * its parent, quoting the parent's words. The tracker then finds items, answers and anchors
 * exactly as it does on a mailing list.
 */

/** The lines a comment sits on, on one side of the diff of the push it was written on. */
export interface ForgePosition {
  /** The file as that side names it. */
  readonly path: string;
  /** "new": an added or context line, by its line in the new file; "old": a removed line. */
  readonly side: "new" | "old";
  readonly first: number;
  readonly last: number;
}

export interface ForgeComment {
  /** Unique on the change, and the Message-ID of the reply: `note:5012`, `comment:1003`. */
  readonly id: string;
  readonly author: Person;
  readonly date: Date | undefined;
  readonly body: string;
  /** The head of the push it was written on, when the forge says (line comments do). */
  readonly head: string | undefined;
  readonly position: ForgePosition | undefined;
  /** The forge's own excerpt of the diff ending at the line, for when the diff no longer shows it. */
  readonly hunk: string | undefined;
  /** The comment it answers in a thread. */
  readonly replyTo: string | undefined;
}

/** One push of the change: a revision. */
export interface ForgePush {
  readonly sha: string;
  readonly revision: number;
  /** When it became the head; comments without a head belong to the push current when written. */
  readonly since: Date | undefined;
  readonly files: readonly ForgeFile[];
}

/** The change itself, as it is now: one title, description and author for all its revisions. */
export interface ForgeChange {
  /** Prefix of revision ids, as the review names them: `github`, `gitlab`. */
  readonly forge: string;
  /** `owner/repo#2`, `group/project!7`: names the change across pushes. */
  readonly thread: string;
  readonly title: string;
  readonly description: string;
  readonly author: Person;
  readonly url: string;
}

export interface ForgeHistory {
  /** The latest push, with the comments written on it. */
  readonly current: Series;
  /** Every push read, oldest first, `current` among them. */
  readonly known: readonly Series[];
  /** Comments placed on a revision, and how many of them had their lines quoted. */
  readonly comments: number;
  readonly quoted: number;
}

/**
 * Every body the bot posts carries a hidden marker that starts like this (review/render:
 * findings, summaries, the tracker; the GitHub review body). The bot's words are not review.
 */
const OWN_MARKER = /<!-- dmabuf-review[\s:]/;

export function isOwnComment(body: string | null | undefined): boolean {
  return body !== null && body !== undefined && OWN_MARKER.test(body);
}

/** The id a forge revision has as a Series (the review names it the same way). */
export function revisionId(change: Pick<ForgeChange, "forge" | "thread">, sha: string): string {
  return `${change.forge}:${change.thread}@${sha}`;
}

/** The lines at a position in a diff, spelled as the patch spells them (`+\t...`), removed lines between included. */
export function quoteAt(files: readonly FileDiff[], pos: ForgePosition): string[] | undefined {
  const file = files.find((f) => (pos.side === "new" ? (f.newPath ?? f.path) : (f.oldPath ?? f.path)) === pos.path);
  if (!file) return undefined;
  const at = (l: HunkLine, n: number) => (pos.side === "new" ? l.type !== "-" && l.newLine === n : l.type !== "+" && l.oldLine === n);
  for (const h of file.hunks) {
    const i = h.lines.findIndex((l) => at(l, pos.first));
    const j = h.lines.findIndex((l) => at(l, pos.last));
    if (i >= 0 && j >= i) return h.lines.slice(i, j + 1).map((l) => `${l.type}${l.text}`);
  }
  return undefined;
}

/** The last lines of the forge's own excerpt: the commented lines, when the diff read does not show them. */
function quoteFromHunk(hunk: string | undefined, pos: ForgePosition | undefined): string[] | undefined {
  if (!hunk || !pos) return undefined;
  const lines = hunk.split("\n").filter((l) => !l.startsWith("@@") && /^[-+ ]/.test(l));
  if (lines.length === 0) return undefined;
  return lines.slice(-Math.max(1, Math.min(lines.length, pos.last - pos.first + 1)));
}

const quoted = (lines: readonly string[]) => lines.map((l) => (l === "" ? ">" : `> ${l}`)).join("\n");

/**
 * Build the revisions of a change from its pushes (oldest first; the last is the current one)
 * and hang each comment on the revision it was written on: a line comment on the push whose
 * head it names, anything else on the push that was the head when it was written, a reply on
 * the revision of the thread it answers. Pushes whose files are all beyond review are left out.
 */
export function forgeHistory(change: ForgeChange, pushes: readonly ForgePush[], comments: readonly ForgeComment[], limits: ForgeLimits = FORGE_LIMITS): ForgeHistory | undefined {
  const latest = pushes[pushes.length - 1];
  if (!latest) return undefined;
  const built: { push: ForgePush; series: Series; patch: Message }[] = [];
  for (const push of pushes) {
    const { series } = forgeSeries(
      {
        id: revisionId(change, push.sha),
        // The change's title now, on every revision: a retitled change is still the same patch.
        title: change.title,
        description: change.description,
        author: change.author,
        date: push.since,
        revision: push.revision,
        url: change.url,
        changeId: change.thread,
        // Only the latest push's description says what changed since the one before.
        ...(push === latest ? { notes: change.description } : {}),
      },
      push.files,
      limits,
    );
    if (series?.slots[0]) built.push({ push, series, patch: series.slots[0] });
  }
  const current = built.find((b) => b.push === latest);
  if (!current) return undefined;

  const byId = new Map(comments.map((c) => [c.id, c]));
  const rootOf = (c: ForgeComment): ForgeComment => {
    const seen = new Set<string>();
    let cur = c;
    while (cur.replyTo && byId.has(cur.replyTo) && !seen.has(cur.id)) {
      seen.add(cur.id);
      cur = byId.get(cur.replyTo)!;
    }
    return cur;
  };
  const time = (d: Date | undefined) => d?.getTime() ?? Number.NEGATIVE_INFINITY;
  const pushesBuilt = built.map((b) => b.push);
  const revisionOf = (c: ForgeComment) => {
    const at = placed(pushesBuilt, rootOf(c));
    return built.find((b) => b.push === at)!;
  };

  const replies = new Map<string, Message[]>();
  const messages = new Map<string, Message>();
  let quotedCount = 0;
  const ordered = [...comments].sort((a, b) => time(a.date) - time(b.date) || a.id.localeCompare(b.id));
  for (const c of ordered) {
    const { series, patch } = revisionOf(c);
    const parent = c.replyTo ? byId.get(c.replyTo) : undefined;
    let quote: string[] | undefined;
    if (parent) {
      // A reply answers the words above it, as a mail reply quotes them.
      quote = parent.body.trim().split("\n");
    } else if (c.position) {
      quote = quoteAt(patch.files, c.position) ?? quoteFromHunk(c.hunk, c.position);
      if (quote) quotedCount++;
    }
    const body = quote ? `${quoted(quote)}\n\n${c.body.trim()}\n` : `${c.body.trim()}\n`;
    const thread = threadOf(c, byId);
    const message = buildMessage({
      messageId: c.id,
      from: c.author,
      to: [],
      cc: [],
      date: c.date,
      subject: `Re: ${patch.subject}`,
      inReplyTo: parent ? parent.id : patch.messageId,
      references: [patch.messageId, ...thread],
      body,
      source: `${change.url} ${c.id}`,
    });
    messages.set(c.id, message);
    const list = replies.get(series.id) ?? [];
    list.push(message);
    replies.set(series.id, list);
  }
  const known = built.map(({ series, patch }) => {
    const list = replies.get(series.id);
    return list ? { ...series, replies: new Map([[patch.messageId, list]]) } : series;
  });
  return { current: known.find((s) => s.id === current.series.id)!, known, comments: messages.size, quoted: quotedCount };
}

/** The ids above a comment in its thread, root first. */
function threadOf(c: ForgeComment, byId: ReadonlyMap<string, ForgeComment>): string[] {
  const out: string[] = [];
  let cur = c.replyTo ? byId.get(c.replyTo) : undefined;
  while (cur && !out.includes(cur.id)) {
    out.unshift(cur.id);
    cur = cur.replyTo ? byId.get(cur.replyTo) : undefined;
  }
  return out;
}

/** The push a thread's first comment was written on: the head it names, else the head when it was written. */
function placed<T extends { readonly sha: string; readonly since: Date | undefined }>(heads: readonly T[], c: ForgeComment): T {
  const time = (d: Date | undefined) => d?.getTime() ?? Number.NEGATIVE_INFINITY;
  const named = c.head ? heads.find((h) => h.sha === c.head) : undefined;
  return named ?? [...heads].reverse().find((h) => time(h.since) <= time(c.date)) ?? heads[0]!;
}

/** Whether anything was said on a push before the latest: without that, a change has no feedback to track. */
export function saidOnEarlier<T extends { readonly sha: string; readonly since: Date | undefined }>(heads: readonly T[], comments: readonly ForgeComment[]): boolean {
  const latest = heads[heads.length - 1];
  return comments.some((c) => !c.replyTo && placed(heads, c) !== latest);
}

/** Pushes worth reading: the current one, the one before it, and any other a comment was written on. */
export function pushesToRead<T extends { readonly sha: string; readonly since: Date | undefined }>(heads: readonly T[], comments: readonly ForgeComment[]): T[] {
  if (heads.length <= 2) return [...heads];
  const wanted = new Set<T>([heads[heads.length - 1]!, heads[heads.length - 2]!]);
  for (const c of comments) if (!c.replyTo) wanted.add(placed(heads, c));
  return heads.filter((h) => wanted.has(h));
}

/** How much to read. */
export interface FeedbackOptions {
  /** The latest push's files, when the caller read them already. */
  readonly current?: { readonly sha: string; readonly files: readonly ForgeFile[] };
  /**
   * The change has a tracker already: read everything even when nothing was said on an earlier
   * push, since a new push alone changes verdicts. Without one, a change nobody commented on
   * before its latest push gets no tracker, and its diffs are not read.
   */
  readonly tracking?: boolean;
}

/** What loading a change's feedback came to. */
export type LoadedFeedback =
  | { readonly kind: "history"; readonly history: ForgeHistory }
  /** One push known: nothing to compare, and nothing else is done. */
  | { readonly kind: "no-previous"; readonly reason: string }
  | { readonly kind: "skip"; readonly reason: string };
