import type { ListedReview, PageTracker, PageVerdict, ReviewPage } from "../review/review-page.js";
import { now, type Db } from "./db.js";
import type { Statement } from "./sqlite.js";

export interface PageSummary extends ListedReview {
  readonly verdict: PageVerdict;
  readonly reviewedAt: string;
}

export interface PageFilter {
  /** A mirror's name (mail) */
  readonly list?: string | undefined;
  /** mail, github, gitlab */
  readonly forge?: string | undefined;
  readonly verdict?: string | undefined;
  readonly limit?: number;
}

/** A feedback item's verdict on each revision it was judged against (series id → verdict). */
export type TrackerRow = PageTracker["items"][number];
export type RevisionRef = PageTracker["revisions"][number];

type Row = { series_id: string; channel: string; place: string; title: string; revision: number; author: string; verdict: PageVerdict; findings: number; dated: string; reviewed_at: string };

/** Pages of reviewed series: the channels write them, the HTTP server only reads them. */
export class ReviewPages {
  // Prepared once: a backfill records a page for every series it reviews, and SQLite compiling
  // the upsert each time cost more than running it.
  private writes: { readonly page: Statement; readonly link: Statement } | undefined;

  constructor(private readonly db: Db) {}

  /** The latest review of a series revision replaces the one before. */
  record(page: ReviewPage, at = now()): void {
    const findings = page.patches.reduce((n, p) => n + p.findings.length, 0);
    this.writes ??= {
      page: this.db.prepare(
        `INSERT INTO review_pages (series_id, channel, place, title, revision, author, verdict, findings, dated, reviewed_at, page)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(series_id) DO UPDATE SET channel = excluded.channel, place = excluded.place, title = excluded.title,
           revision = excluded.revision, author = excluded.author, verdict = excluded.verdict, findings = excluded.findings,
           dated = excluded.dated, reviewed_at = excluded.reviewed_at, page = excluded.page`,
      ),
      link: this.db.prepare("INSERT OR REPLACE INTO review_page_messages (message_id, series_id) VALUES (?, ?)"),
    };
    this.writes.page.run(page.seriesId, page.channel, page.place, page.title, page.revision, page.author, page.verdict, findings, page.date ?? at, at, JSON.stringify(page));
    for (const p of page.patches) this.writes.link.run(p.messageId, page.seriesId);
  }

  /** Newest first. */
  list(filter: PageFilter = {}): PageSummary[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.list) where.push("channel = 'mail' AND place = ?"), args.push(filter.list);
    if (filter.forge) where.push("channel = ?"), args.push(filter.forge);
    if (filter.verdict) where.push("verdict = ?"), args.push(filter.verdict);
    args.push(filter.limit ?? 500);
    const rows = this.db
      .prepare(
        `SELECT series_id, channel, place, title, revision, author, verdict, findings, dated, reviewed_at FROM review_pages
         ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY dated DESC, reviewed_at DESC, series_id LIMIT ?`,
      )
      .all(...args) as Row[];
    return rows.map((r) => ({
      seriesId: r.series_id,
      channel: r.channel,
      place: r.place,
      title: r.title,
      revision: r.revision,
      author: r.author,
      verdict: r.verdict,
      findings: r.findings,
      dated: r.dated,
      reviewedAt: r.reviewed_at,
    }));
  }

  /** The lists and forges pages exist for: what the list's filters offer. */
  places(): { channel: string; place: string }[] {
    return this.db.prepare("SELECT DISTINCT channel, place FROM review_pages ORDER BY channel, place").all() as { channel: string; place: string }[];
  }

  /** A page by its series id, or by the Message-ID of one of its patches. */
  get(id: string): ReviewPage | undefined {
    const direct = this.db.prepare("SELECT page FROM review_pages WHERE series_id = ?").pluck().get(id) as string | undefined;
    if (direct) return JSON.parse(direct) as ReviewPage;
    const series = this.db.prepare("SELECT series_id FROM review_page_messages WHERE message_id = ?").pluck().get(id) as string | undefined;
    const viaPatch = series && (this.db.prepare("SELECT page FROM review_pages WHERE series_id = ?").pluck().get(series) as string | undefined);
    return viaPatch ? (JSON.parse(viaPatch) as ReviewPage) : undefined;
  }

  /** The revisions before this one, oldest first, as the tracker linked them; the series itself last. */
  revisions(seriesId: string): RevisionRef[] {
    const chain: string[] = [seriesId];
    const seen = new Set(chain);
    const previous = this.db.prepare("SELECT previous_id FROM revision_links WHERE series_id = ? AND resend = 0 ORDER BY linked_at LIMIT 1").pluck();
    for (let id = seriesId; ; ) {
      const p = previous.get(id) as string | undefined;
      if (!p || seen.has(p)) break;
      chain.unshift(p);
      seen.add(p);
      id = p;
    }
    const revision = this.db.prepare("SELECT revision FROM review_pages WHERE series_id = ? UNION ALL SELECT revision FROM series WHERE id = ?").pluck();
    return chain.map((id) => ({ seriesId: id, revision: (revision.get(id, id) as number | undefined) ?? undefined }));
  }

  /** The feedback items judged against any of these revisions, with each revision's verdict. */
  tracker(revisions: readonly RevisionRef[]): TrackerRow[] {
    const items = new Map<string, { itemId: string; author: string; version: number; patch: string; kind: string; text: string; verdicts: Record<string, string> }>();
    const q = this.db.prepare("SELECT item_id, author, version, patch, kind, text, verdict FROM feedback_items WHERE series_id = ? ORDER BY item_id");
    for (const r of revisions) {
      for (const row of q.all(r.seriesId) as { item_id: string; author: string; version: number; patch: string; kind: string; text: string; verdict: string }[]) {
        const item = items.get(row.item_id) ?? { itemId: row.item_id, author: row.author, version: row.version, patch: row.patch, kind: row.kind, text: row.text, verdicts: {} };
        item.verdicts[r.seriesId] = row.verdict;
        items.set(row.item_id, item);
      }
    }
    return [...items.values()];
  }
}
