import { createHash } from "node:crypto";
import type { Statement } from "./sqlite.js";
import type { Tracker } from "../feedback/track.js";
import type { Verdict } from "../feedback/verdict.js";
import type { LinkHow } from "../patch/revision-link.js";
import { now, type Db } from "./db.js";

export interface LinkRow {
  readonly seriesId: string;
  readonly previousId: string;
  readonly how: LinkHow;
  readonly detail: string;
  readonly resend: boolean;
}

export interface ItemRow {
  readonly seriesId: string;
  readonly itemId: string;
  readonly source: string;
  readonly author: string;
  readonly version: number;
  readonly patch: string;
  readonly kind: string;
  readonly text: string;
  readonly verdict: Verdict;
  readonly evidence: readonly string[];
}

/** An item whose verdict differs from the one stored before: what an updated tracker reports. */
export interface VerdictChange {
  readonly itemId: string;
  readonly from: Verdict | undefined;
  readonly to: Verdict;
}

export interface TrackerRow {
  readonly channel: string;
  readonly thread: string;
  readonly seriesId: string;
  readonly digest: string;
  readonly body: string;
  readonly writes: number;
}

export function digestOf(body: string): string {
  return createHash("sha256").update(body).digest("hex");
}

/** Reviewed series with messages in a thread; `series_id IS NOT NULL` selects the partial index messages_reviewed_thread (migration 006). */
export const SERIES_IN_THREAD = "SELECT DISTINCT series_id FROM messages WHERE thread = ? AND series_id IS NOT NULL ORDER BY series_id";

/**
 * An author's patches and cover letters up to a revision, newest first, with their subjects.
 * Its `kind` term is the one of the partial index messages_author_patches (migrations 005,
 * 006): a query that drops it scans every message the list ever carried.
 */
export const EARLIER_BY_AUTHOR =
  "SELECT thread, subject FROM messages WHERE author = ? AND kind IN ('patch', 'cover') AND revision <= ? AND thread IS NOT NULL ORDER BY arrived_at DESC, rowid DESC";

/**
 * What tracking found, kept between runs: revision links, the judged items of each tracked
 * revision, and the tracker body last written to each thread. A channel asks `compareTracker`
 * before posting: "unchanged" means there is nothing to post, "updated" means edit the post
 * the ledger points at (key what="tracker") instead of posting again.
 */
export class FeedbackStore {
  // Statements prepared once per store: the tracker asks these for every series it looks at.
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Db) {}

  private sql(text: string): Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  /**
   * The items of `t` whose verdict differs from the one stored for the same point. A point is
   * found again by the reply it came from and its text, not by its number: numbers shift when a
   * late reply lands between earlier ones. A reply's one point left unmatched on both sides (its
   * sentence read differently since) is still the same point.
   */
  changes(t: Tracker): VerdictChange[] {
    const key = (source: string, text: string) => `${source}\n${text}`;
    const stored = new Map(this.items(t.series.id).map((r) => [key(r.source, r.text), r]));
    const found = new Map<string, ItemRow>();
    for (const i of t.items) {
      const r = stored.get(key(i.source, i.text));
      if (r) found.set(i.id, r);
    }
    const taken = new Set(found.values());
    const bySource = <T extends { source: string }>(list: readonly T[]) => {
      const out = new Map<string, T[]>();
      for (const x of list) out.set(x.source, [...(out.get(x.source) ?? []), x]);
      return out;
    };
    const oldLeft = bySource([...stored.values()].filter((r) => !taken.has(r)));
    for (const [source, items] of bySource(t.items.filter((i) => !found.has(i.id)))) {
      const rows = oldLeft.get(source);
      if (items.length === 1 && rows?.length === 1) found.set(items[0]!.id, rows[0]!);
    }
    return t.items.filter((i) => found.get(i.id)?.verdict !== i.verdict).map((i) => ({ itemId: i.id, from: found.get(i.id)?.verdict, to: i.verdict }));
  }

  /** Store links and items of a tracker in one transaction; returns the verdicts that changed. */
  saveTracking(t: Tracker): VerdictChange[] {
    const seriesId = t.series.id;
    const changed = this.changes(t);
    const at = now();
    const link = this.sql(
      "INSERT INTO revision_links (series_id, previous_id, how, detail, resend, linked_at) VALUES (?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT (series_id, previous_id) DO UPDATE SET how = excluded.how, detail = excluded.detail, resend = excluded.resend",
    );
    const item = this.sql(
      "INSERT INTO feedback_items (series_id, item_id, source, author, version, patch, kind, text, verdict, evidence, updated_at) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.db.transaction(() => {
      for (const l of t.links) link.run(l.series.id, l.previous.id, l.how, l.detail, l.resend ? 1 : 0, at);
      // Items are renumbered when a late reply lands between earlier ones: replace, not merge.
      this.sql("DELETE FROM feedback_items WHERE series_id = ?").run(seriesId);
      for (const i of t.items) {
        item.run(
          seriesId,
          i.id,
          i.source,
          `${i.author.name} <${i.author.email}>`,
          i.version,
          `${i.patch.index}/${i.patch.total}`,
          i.kind,
          i.text,
          i.verdict,
          JSON.stringify(i.evidence),
          at,
        );
      }
    })();
    return changed;
  }

  links(seriesId: string): LinkRow[] {
    const rows = this.sql("SELECT series_id, previous_id, how, detail, resend FROM revision_links WHERE series_id = ? ORDER BY linked_at, previous_id").all(
      seriesId,
    ) as { series_id: string; previous_id: string; how: LinkHow; detail: string; resend: number }[];
    return rows.map((r) => ({ seriesId: r.series_id, previousId: r.previous_id, how: r.how, detail: r.detail, resend: r.resend === 1 }));
  }

  /** The later revisions known to follow `previousId`. */
  followers(previousId: string): string[] {
    return (this.sql("SELECT series_id FROM revision_links WHERE previous_id = ? ORDER BY linked_at").all(previousId) as { series_id: string }[]).map(
      (r) => r.series_id,
    );
  }

  /** Series tracked under some thread: the ones whose tracker a new reply may change. */
  trackedThreads(seriesId: string): { channel: string; thread: string }[] {
    return this.sql("SELECT channel, thread FROM trackers WHERE series_id = ? ORDER BY channel, thread").all(seriesId) as { channel: string; thread: string }[];
  }

  /**
   * Where earlier revisions of a series may be, for a channel that keeps messages by thread
   * (tables `series` and `messages`, migrations 001 and 002): series with the same change-id,
   * and the newest threads holding a patch or cover letter by the same author at a lower
   * revision whose subject `related` accepts (a title in common: only such a thread can be
   * linked by title, and a prolific author's other work is not read again for nothing).
   */
  candidateThreads(changeId: string | undefined, authorEmail: string, revision: number, related: (subject: string) => boolean, limit = 20): string[] {
    const out = new Set<string>();
    if (changeId) {
      const rows = this.sql("SELECT m.thread FROM series s JOIN messages m ON m.message_id = s.id WHERE s.change_id = ? AND m.thread IS NOT NULL ORDER BY s.first_seen DESC LIMIT ?").all(
        changeId,
        limit,
      ) as { thread: string }[];
      for (const r of rows) out.add(r.thread);
    }
    const byAuthor = new Set<string>();
    for (const r of this.sql(EARLIER_BY_AUTHOR).iterate(authorEmail.toLowerCase(), revision) as IterableIterator<{ thread: string; subject: string | null }>) {
      if (byAuthor.size >= limit) break;
      if (!byAuthor.has(r.thread) && r.subject !== null && related(r.subject)) byAuthor.add(r.thread);
    }
    return [...out, ...[...byAuthor].filter((t) => !out.has(t))];
  }

  /** Series whose patches or cover letters sit in a thread (as the mail channel marks them reviewed). */
  seriesInThread(thread: string): string[] {
    return (this.sql(SERIES_IN_THREAD).all(thread) as { series_id: string }[]).map((r) => r.series_id);
  }

  items(seriesId: string): ItemRow[] {
    const rows = this.sql("SELECT * FROM feedback_items WHERE series_id = ?").all(seriesId) as {
      series_id: string;
      item_id: string;
      source: string;
      author: string;
      version: number;
      patch: string;
      kind: string;
      text: string;
      verdict: Verdict;
      evidence: string;
    }[];
    const order = (id: string) => id.split(".").map(Number);
    return rows
      .map((r) => ({
        seriesId: r.series_id,
        itemId: r.item_id,
        source: r.source,
        author: r.author,
        version: r.version,
        patch: r.patch,
        kind: r.kind,
        text: r.text,
        verdict: r.verdict,
        evidence: JSON.parse(r.evidence) as string[],
      }))
      .sort((a, b) => order(a.itemId)[0]! - order(b.itemId)[0]! || order(a.itemId)[1]! - order(b.itemId)[1]!);
  }

  tracker(channel: string, thread: string): TrackerRow | undefined {
    const r = this.sql("SELECT * FROM trackers WHERE channel = ? AND thread = ?").get(channel, thread) as
      | { channel: string; thread: string; series_id: string; digest: string; body: string; writes: number }
      | undefined;
    return r && { channel: r.channel, thread: r.thread, seriesId: r.series_id, digest: r.digest, body: r.body, writes: r.writes };
  }

  /**
   * What writing this tracker body to a thread would be: "new" (post it), "updated" (the content
   * changed: edit the post the ledger points at), "unchanged" (nothing to do). Read-only: call
   * `recordTracker` once the post or edit went through, so a failed one is tried again.
   */
  compareTracker(channel: string, thread: string, seriesId: string, body: string): "new" | "updated" | "unchanged" {
    const old = this.tracker(channel, thread);
    if (!old) return "new";
    return old.digest === digestOf(body) && old.seriesId === seriesId ? "unchanged" : "updated";
  }

  /** The body now on the thread. */
  recordTracker(channel: string, thread: string, seriesId: string, body: string): void {
    this.sql(
      "INSERT INTO trackers (channel, thread, series_id, digest, body, writes, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?) " +
        "ON CONFLICT (channel, thread) DO UPDATE SET series_id = excluded.series_id, digest = excluded.digest, body = excluded.body, " +
        "writes = trackers.writes + 1, updated_at = excluded.updated_at",
    ).run(channel, thread, seriesId, digestOf(body), body, now());
  }
}
