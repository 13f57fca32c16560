import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { loadConfig, type MirrorConfig } from "../config/config.js";
import { lazyReviewDeps, makeLogger, type ChannelContext } from "../channels/context.js";
import { mailTarget, MailMirror, type PassStats } from "../channels/mail.js";
import { backfillReviews } from "../channels/review-pool.js";
import { listEpochs } from "../ingest/public-inbox/reader.js";
import { DEFAULT_SENDING } from "../publish/mail/policy.js";
import { Store } from "../state/store.js";
import { mailFacts, pastDailyCap, renderReport } from "./report.js";
import { mirrorProgress } from "./progress.js";
import type { Io } from "./review.js";

export interface BackfillOptions {
  readonly config?: string;
  readonly db?: string;
  readonly outbox?: string;
  readonly since?: Date;
  readonly limit?: number;
  readonly reply?: boolean;
  readonly format: "text" | "json";
  /** Send nothing: write what the policy would send, as .eml files and a report, into this directory. */
  readonly dryRun?: string;
}

const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });

/** Why replies were withheld, said the way an operator changes it. */
function withheld(opts: BackfillOptions, mirror: MirrorConfig, stats: PassStats): string {
  if (mirror.mode !== "send") return ` (shadow mode, set mode: send on the mirror to mail: ${fmt(stats.withheld)} withheld)`;
  return opts.reply ? "" : ` (no --reply: ${fmt(stats.withheld)} withheld)`;
}

/**
 * `dmabuf-review backfill <inbox>`: read an archive from its cursor (or the start) to its head,
 * recording and reviewing everything, with progress on stderr. Nothing is sent unless --reply
 * is given: a first run over years of a list must not answer old mail.
 */
export async function backfillCommand(inbox: string, opts: BackfillOptions, io: Io): Promise<number> {
  listEpochs(inbox); // not an inbox: one line and exit 2, before anything is created
  if (opts.dryRun !== undefined) return dryRun(inbox, opts, opts.dryRun, io);
  const config = await loadConfig(opts.config);
  const path = resolve(inbox);
  const store = Store.open(opts.db ?? join(config.dataDir, "state.db"));
  try {
    const log = makeLogger({ level: "warn", stream: io.stderr });
    const ctx: ChannelContext = { config, store, review: lazyReviewDeps(), log };
    const mirror: MirrorConfig = config.mail.mirrors.find((m) => resolve(m.inbox) === path) ?? {
      name: basename(path),
      inbox: path,
      remote: undefined,
      pollSeconds: 300,
      policy: "all",
      threshold: "warning",
      list: undefined,
      history: "record",
      mode: "shadow",
    };
    const target = mailTarget(ctx, opts.outbox ? { outbox: resolve(opts.outbox) } : {});
    const pool = await backfillReviews(ctx.review, log, { budgetMs: ctx.config.reviewBudgetMs });
    const engine = new MailMirror(ctx, mirror, target, pool);
    const before = (store.db.prepare("SELECT COALESCE(MAX(rowid), 0) FROM messages").pluck().get() as number) ?? 0;
    const progress = mirrorProgress(`backfill ${mirror.name}`, io.stderr);
    let stats: PassStats;
    try {
      stats = await engine.pass({
        reply: opts.reply ? "all" : "none",
        ...(opts.since ? { since: opts.since } : {}),
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        onProgress: (p) => progress.update(p),
      });
    } finally {
      progress.done();
      await engine.close();
      target.close();
      await pool.close();
    }
    // Series are counted from what this run recorded: one per thread, revision and size.
    const series = store.db
      .prepare("SELECT COUNT(DISTINCT thread || '|' || revision || '|' || patch_total) FROM messages WHERE source = ? AND rowid > ? AND kind IN ('patch', 'cover')")
      .pluck()
      .get(path, before) as number;
    if (opts.format === "json") {
      io.stdout.write(
        `${JSON.stringify({
          messages: stats.messages,
          patches: stats.patches,
          series,
          reviewed: stats.reviewed,
          replies: stats.replies,
          skipped: stats.skipped.map((s) => ({ id: s.id, reason: s.reason })),
          seconds: Number(stats.seconds.toFixed(3)),
          withheld: stats.withheld,
          deleted: stats.deleted,
          duplicates: stats.duplicates,
        })}\n`,
      );
    } else {
      const reasons = new Map<string, number>();
      for (const s of stats.skipped) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
      const lines = [
        `backfill ${path}: ${fmt(stats.messages)} messages (${fmt(stats.patches)} patches) in ${stats.seconds.toFixed(1)} s, ${fmt(stats.messages / Math.max(stats.seconds, 0.001))} msg/s`,
        `  series: ${fmt(series)}, reviewed: ${fmt(stats.reviewed)}, replies sent: ${fmt(stats.replies)}${withheld(opts, mirror, stats)}`,
        `  skipped: ${fmt(stats.skipped.length)}${reasons.size > 0 ? ` (${[...reasons].map(([r, n]) => `${r} ${n}`).join(", ")})` : ""}; deleted by the archive: ${fmt(stats.deleted)}; already known: ${fmt(stats.duplicates)}`,
      ];
      io.stdout.write(`${lines.join("\n")}\n`);
    }
    return 0;
  } finally {
    store.close();
  }
}

/**
 * `backfill <inbox> --dry-run DIR`: what the bot would have sent over the archive under the
 * configured policy, had the list enabled it (mode: send) while the archive was written. A
 * store of its own in DIR, nothing delivered: every mail the policy lets through is written to
 * DIR/eml, and the report (kinds, months, threads, recipients, every mail) to DIR/report.txt
 * and stdout. max-age is not applied (each thread was new when it was written).
 */
async function dryRun(inbox: string, opts: BackfillOptions, dir: string, io: Io): Promise<number> {
  const config = await loadConfig(opts.config);
  const path = resolve(inbox);
  const out = resolve(dir);
  mkdirSync(join(out, "eml"), { recursive: true });
  const dbPath = join(out, "state.db");
  rmSync(dbPath, { force: true });
  rmSync(`${dbPath}.created`, { force: true });
  const store = Store.open(dbPath);
  try {
    const log = makeLogger({ level: "warn", stream: io.stderr });
    const ctx: ChannelContext = { config: { ...config, mail: { ...config.mail, delivery: "outbox" } }, store, review: lazyReviewDeps(), log };
    const configured = config.mail.mirrors.find((m) => resolve(m.inbox) === path);
    const base: MirrorConfig = configured ?? { name: basename(path), inbox: path, remote: undefined, pollSeconds: 300, policy: "all", threshold: "warning", list: undefined, history: "reply" };
    const sending = { ...DEFAULT_SENDING, ...base.sending, maxAgeSeconds: Number.MAX_SAFE_INTEGER };
    const mirror: MirrorConfig = { ...base, remote: undefined, history: "reply", mode: "send", sending };
    const target = mailTarget(ctx, { outbox: mkdtempSync(join(tmpdir(), "dmabuf-review-dry-run-")) });
    const pool = await backfillReviews(ctx.review, log, { budgetMs: ctx.config.reviewBudgetMs });
    const engine = new MailMirror(ctx, mirror, target, pool);
    const progress = mirrorProgress(`dry run ${mirror.name}`, io.stderr);
    try {
      await engine.pass({ reply: "all", ...(opts.since ? { since: opts.since } : {}), ...(opts.limit !== undefined ? { limit: opts.limit } : {}), onProgress: (p) => progress.update(p) });
    } finally {
      progress.done();
      await engine.close();
      target.close();
      await pool.close();
    }
    // Every mail the policy let through, sent to the outbox or still queued by a cap.
    const rows = store.db.prepare("SELECT file_name, envelope, raw FROM mail_outgoing ORDER BY created_at, rowid").all() as { file_name: string; envelope: string; raw: Buffer }[];
    for (const r of rows) writeFileSync(join(out, "eml", r.file_name), r.raw);
    const mails = rows.map((r) => ({ raw: r.raw.toString("utf8"), recipients: (JSON.parse(r.envelope) as { to: string[] }).to.length }));
    const facts = mailFacts(mails, store.db);
    const cap = pastDailyCap(facts, sending.perDay);
    const notes = [
      `policy: threshold ${mirror.threshold}, recipients ${mirror.policy}, max-cc ${sending.maxCc}, cc-catch-all ${sending.ccCatchAll}, trackers ${sending.trackers}, per-day ${sending.perDay}`,
      `per-day cap: ${cap.mails} mails would wait a day or more (${cap.days} days over ${sending.perDay}); none is dropped`,
      `the .eml files: ${join(out, "eml")}`,
    ];
    const report = renderReport(`dry run of ${path} (${mirror.name}): what the bot would send`, facts, notes);
    writeFileSync(join(out, "report.txt"), report);
    io.stdout.write(report);
    return 0;
  } finally {
    store.close();
  }
}
