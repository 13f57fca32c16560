import { loadCatalog } from "../analysis/catalog/load.js";
import { loadRules } from "../analysis/rules/load.js";
import { SEVERITY_RANK, type Severity } from "../analysis/rules/schema.js";
import { InputError } from "../errors.js";
import { decodeAll, loadOne, type Loaded } from "../ingest/mbox/messages.js";
import { readMessages } from "../ingest/mbox/reader.js";
import { outliner, seriesMessages, wholeSeries } from "../ingest/outline.js";
import type { Message } from "../patch/message.js";
import { CParser } from "../patch/c-source.js";
import { groupSeries, type Series } from "../patch/series.js";
import { stdoutWriter, type OutputFormat } from "../publish/stdout.js";
import { worstOf } from "../review/finding.js";
import { worstSeverity, type Skip } from "../review/review.js";
import { reviewSeries, type SeriesReview } from "../review/review-series.js";
import { keptSearches } from "../review/kept-searches.js";
import { boundHeapGrowth, OUTLINED_INPUT_GROWTH } from "../heap.js";
import { startProgress } from "./progress.js";

export interface ReviewOptions {
  readonly format: OutputFormat;
  readonly failOn: Severity;
  readonly rules?: string;
}

export interface Io {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** How one series is reviewed; the tests put a failing one in to see the others go on. */
export type SeriesReviewer = (series: Series) => SeriesReview;

function skipLine(s: Skip): string {
  return `dmabuf-review: skipped ${s.source}${s.messageId ? ` <${s.messageId}>` : ""}: ${s.reason}: ${s.detail}\n`;
}

/**
 * `dmabuf-review review <path|->`: exit 0 clean, 1 findings at or above --fail-on, 2 unusable
 * input (nothing in it could be reviewed). Each series is reviewed and written before the next
 * one starts; a series whose review fails is reported and skipped like a bad message.
 */
export async function reviewCommand(path: string, opts: ReviewOptions, io: Io, review?: SeriesReviewer): Promise<number> {
  const source = path === "-" ? "stdin" : path;
  // A large mbox takes seconds to decode and more to review: both are shown on stderr.
  const progress = startProgress({ label: `review ${source}`, unit: "messages", stream: io.stderr });
  try {
    return await reviewWithProgress(path, source, opts, io, progress, review);
  } finally {
    progress.done();
  }
}

async function reviewWithProgress(
  path: string,
  source: string,
  opts: ReviewOptions,
  io: Io,
  progress: ReturnType<typeof startProgress>,
  review: SeriesReviewer | undefined,
): Promise<number> {
  const read = (done: number, total: number) => progress.update({ phase: "reading", done, total });
  CParser.preload();
  const [rules, catalog, loaded] = await Promise.all([loadRules(opts.rules), loadCatalog(), readInput(path, io.stdin, read)]);
  for (const s of loaded.skipped) io.stderr.write(skipLine(s));
  if (loaded.messages.length === 0) {
    // Each skip is already on stderr with its reason; the closing line only counts them.
    throw new InputError("not-a-patch", `none of the ${loaded.skipped.length} messages could be reviewed`, source);
  }
  const grouped = groupSeries(loaded.messages);
  if (grouped.series.length === 0 && grouped.orphanReplies.length === 0 && loaded.skipped.length === 0) {
    const onlyOther = loaded.messages.every((m) => m.kind === "other");
    if (onlyOther) throw new InputError("not-a-patch", "no patch, cover letter or reply in the input", source);
  }
  const parser = await CParser.loadFor(loaded.messages.flatMap((m) => m.files));
  const searches = keptSearches(catalog.version);
  const model = { catalog, cache: searches.cache };
  const reviewOne = review ?? ((s: Series) => reviewSeries(s, rules, parser, model));
  const writer = stdoutWriter(opts.format, io.stdout);
  const skipped = [...loaded.skipped];
  // The severities found in every series: the exit status follows the worst of them.
  const found: { severity: Severity }[] = [];
  let reviewed = 0;
  for (const [i, series] of grouped.series.entries()) {
    progress.update({ phase: "reviewing", done: i, total: grouped.series.length, unit: "series" });
    let r: SeriesReview;
    try {
      r = reviewOne(await loaded.whole(series));
    } catch (err) {
      const e = err as Error;
      const failed: Skip = { source, messageId: series.id, reason: "review-failed", detail: `series "${series.title}" (v${series.revision}): ${e.message}` };
      skipped.push(failed);
      io.stderr.write(skipLine(failed));
      if (process.env["DMABUF_REVIEW_DEBUG"]) io.stderr.write(`${e.stack ?? ""}\n`);
      continue;
    }
    reviewed++;
    const w = worstSeverity({ series: [r], skipped: [], orphanReplies: [] });
    if (w !== undefined) found.push({ severity: w });
    await writer.series(r);
  }
  progress.update({ phase: "reviewing", done: grouped.series.length, total: grouped.series.length, unit: "series" });
  await writer.end({ skipped, orphanReplies: grouped.orphanReplies });
  searches.save();
  if (reviewed === 0 && grouped.series.length > 0) {
    io.stderr.write(`dmabuf-review: ${source}: none of the ${grouped.series.length} series could be reviewed\n`);
    return 2;
  }
  const worst = worstOf(found);
  return worst !== undefined && SEVERITY_RANK[worst] >= SEVERITY_RANK[opts.failOn] ? 1 : 0;
}

/**
 * The input's messages. Several are held as outlines beside their raw text, and each series is
 * decoded again when its turn comes: a long mbox holds its bytes, not every message decoded.
 */
async function readInput(path: string, stdin: NodeJS.ReadableStream, onProgress: (done: number, total: number) => void): Promise<Loaded & { whole(s: Series): Promise<Series> }> {
  const raws = await readMessages(path, stdin);
  const bySource = new Map(raws.map((r) => [r.source, r]));
  if (raws.length <= 1 || bySource.size < raws.length) return { ...(await decodeAll(raws, onProgress)), whole: async (s) => s };
  boundHeapGrowth(OUTLINED_INPUT_GROWTH);
  const loaded = await decodeAll(raws, onProgress, outliner());
  return {
    ...loaded,
    async whole(series) {
      const read = new Map<string, Message>();
      for (const m of seriesMessages(series)) {
        if (read.has(m.source)) continue;
        const r = await loadOne(bySource.get(m.source)!);
        // It was read once already: the same bytes read the same way.
        if (!("kind" in r)) throw new Error(`${m.source} could not be read again: ${r.detail}`);
        read.set(m.source, r);
      }
      return wholeSeries(series, read);
    },
  };
}
