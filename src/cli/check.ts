import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { loadCatalog } from "../analysis/catalog/load.js";
import { loadRules } from "../analysis/rules/load.js";
import { InputError, MAX_INPUT_BYTES } from "../errors.js";
import { loadMessages, loadOne } from "../ingest/mbox/messages.js";
import { readMessages, splitMbox } from "../ingest/mbox/reader.js";
import { CParser } from "../patch/c-source.js";
import type { Message } from "../patch/message.js";
import { groupSeries, type Series } from "../patch/series.js";
import { patchCheck, seriesCheck, type CheckResult } from "../publish/check-result.js";
import { patchPageUrl, reviewPageUrl } from "../publish/pages/url.js";
import { keptSearches } from "../review/kept-searches.js";
import { reviewSeries, type SeriesReview } from "../review/review-series.js";
import type { Io } from "./review.js";

/**
 * `dmabuf-review check`: a check command for `b4 review`, written against b4's own source
 * (src/b4/review/checks.py, `_run_external_cmd`, and misc/review-ci-example.py):
 *
 * - b4 runs the command (shell-split, no shell) once per patch for `review-perpatch-check-cmd`,
 *   and once per series for `review-series-check-cmd`, where the message is the cover letter, or
 *   the first patch when there is none. Either way stdin holds one RFC 2822 message as bytes.
 * - stdout must be a JSON array of objects {tool, status, summary?, url?, details?}; status is
 *   one of pass, warn, fail (anything else reads as fail); details is plain multi-line text.
 *   An empty array means nothing to report. A single object is accepted but we never send one.
 * - b4 ignores the exit status when stdout has JSON; a non-zero exit with an empty stdout shows
 *   as an execution failure. So every outcome we can name, bad input included, is a result on
 *   stdout with exit 0; only a bad option exits 2 (commander), before any message is read.
 * - B4_TRACKING_FILE may name b4's tracking JSON (src/b4/review_tui/_common.py); its
 *   series["thread-blob"] is a git blob, in the repository b4 runs us in, holding the whole
 *   thread as an mboxrd mbox (tracking.py, get_thread_mbox). That is how the series-wide mode
 *   finds the patches behind the cover letter.
 * - b4 caches results by (Message-ID, tool) until the maintainer forces a re-run.
 *
 * `b4 prep --check` is a different contract (checkpatch-style text lines); it is not served.
 */
export interface CheckOptions {
  /** Report on the whole series the message belongs to, not only on this patch. */
  readonly series?: boolean;
  /** The rest of the thread (anything `review` reads), for series context and series mode. */
  readonly thread?: string;
  /** The service's public base URL; each result links to the review page under it. */
  readonly url?: string;
  readonly rules?: string;
}

/** The name of our column in b4's results matrix. */
export const CHECK_TOOL = "dmabuf-review";

interface B4Result {
  readonly tool: string;
  readonly status: CheckResult["status"];
  readonly summary: string;
  readonly url?: string;
  readonly details?: string;
}

function print(io: Io, results: readonly B4Result[]): number {
  io.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  return 0;
}

/** A message we could not review is a failed check with its reason: b4 shows it in the column. */
function notChecked(io: Io, reason: string, detail: string): number {
  return print(io, [{ tool: CHECK_TOOL, status: "fail", summary: `not checked: ${reason}: ${detail}` }]);
}

export async function checkCommand(opts: CheckOptions, io: Io): Promise<number> {
  let target: Message;
  const context: Message[] = [];
  CParser.preload();
  try {
    const raws = await readMessages("-", io.stdin);
    const first = await loadOne(raws[0]!);
    if (!("kind" in first)) return notChecked(io, first.reason, first.detail);
    target = first;
    // An mbox on stdin is the message first and its thread after it.
    for (const raw of raws.slice(1)) {
      const m = await loadOne(raw);
      if ("kind" in m) context.push(m);
    }
    if (opts.thread) context.push(...(await loadMessages(opts.thread)).messages);
    context.push(...(await b4Thread(process.env["B4_TRACKING_FILE"])));
  } catch (err) {
    if (err instanceof InputError) return notChecked(io, err.reason, `${err.source ? `${err.source}: ` : ""}${err.detail}`);
    throw err;
  }
  if (target.kind === "reply" || target.kind === "other") {
    // b4 hands patches and cover letters; a cover without [PATCH 0/N] is found through its thread.
    if (!context.some((m) => m.inReplyTo === target.messageId || m.references.includes(target.messageId))) {
      return notChecked(io, "not-a-patch", `<${target.messageId}> has no diff and no patches answer it`);
    }
  }
  const others = context.filter((m) => m.messageId !== target.messageId);
  const series = groupSeries([target, ...others]).series.find((s) => holds(s, target.messageId));
  if (!series) return notChecked(io, "not-a-patch", `<${target.messageId}> is not part of a series`);

  const [rules, catalog, parser] = await Promise.all([loadRules(opts.rules), loadCatalog(), CParser.loadFor([target, ...others].flatMap((m) => m.files))]);
  let review: SeriesReview;
  try {
    const searches = keptSearches(catalog.version);
    review = reviewSeries(series, rules, parser, { catalog, cache: searches.cache });
    searches.save();
  } catch (err) {
    // Our bug, on this series alone: b4 shows it in the column and goes on with the next patch.
    return notChecked(io, "review-failed", (err as Error).message.split("\n")[0]!);
  }
  if (review.patches.length === 0) {
    return print(io, [{ tool: CHECK_TOOL, status: "warn", summary: `not checked: none of the ${series.total} patches of "${series.title}" is at hand (no thread from b4 or --thread)` }]);
  }
  const patch = review.patches.find((p) => p.message.messageId === target.messageId);
  const wholeSeries = opts.series || target.kind !== "patch" || !patch;
  const check = wholeSeries ? seriesCheck(review) : patchCheck(patch);
  // The page is found by any of the series' Message-IDs, so the message b4 gave names it.
  const url = opts.url ? (wholeSeries ? reviewPageUrl(opts.url, target.messageId) : patchPageUrl(opts.url, patch.message.messageId, patch.index)) : undefined;
  return print(io, [
    {
      tool: CHECK_TOOL,
      status: check.status,
      summary: check.summary,
      ...(url ? { url } : {}),
      ...(check.details ? { details: check.details } : {}),
    },
  ]);
}

function holds(s: Series, messageId: string): boolean {
  return s.id === messageId || s.cover?.messageId === messageId || s.slots.some((m) => m?.messageId === messageId);
}

/**
 * The thread b4 cached for the series, when b4 says where: none is not an error (a series b4
 * does not track yet has no tracking file), and neither is a blob git has since pruned.
 */
async function b4Thread(trackingFile: string | undefined): Promise<Message[]> {
  if (!trackingFile) return [];
  let blob: unknown;
  try {
    blob = (JSON.parse(await readFile(trackingFile, "utf8")) as { series?: { "thread-blob"?: unknown } }).series?.["thread-blob"];
  } catch {
    return [];
  }
  if (typeof blob !== "string" || !/^[0-9a-f]{7,64}$/.test(blob)) return [];
  let mbox: Buffer;
  try {
    mbox = (await promisify(execFile)("git", ["cat-file", "blob", blob], { encoding: "buffer", maxBuffer: MAX_INPUT_BYTES })).stdout;
  } catch {
    return [];
  }
  const out: Message[] = [];
  for (const raw of splitMbox(mbox, `thread-blob ${blob}`)) {
    const m = await loadOne(raw);
    if ("kind" in m) out.push(m);
  }
  return out;
}
