import { loadCatalog } from "../analysis/catalog/load.js";
import { loadRules } from "../analysis/rules/load.js";
import { InputError } from "../errors.js";
import { trackAll } from "../feedback/track.js";
import { loadMessages } from "../ingest/mbox/messages.js";
import { CParser } from "../patch/c-source.js";
import { groupSeries } from "../patch/series.js";
import { renderNoPrevious, renderTrackerText, renderTrackJson } from "../review/render/tracker.js";
import type { Io } from "./review.js";

export interface TrackOptions {
  readonly format: "text" | "json";
  /** Message-ID of a revision's cover letter or first patch, or its change-id. */
  readonly series?: string;
  readonly rules?: string;
}

/**
 * `dmabuf-review track <path|->`: for each latest revision in the input with an earlier one,
 * the review points made on the earlier revisions and what became of them. A revision with no
 * earlier one says so in one line and nothing else. Exit 0, or 2 for unusable input.
 */
export async function trackCommand(path: string, opts: TrackOptions, io: Io): Promise<number> {
  const [rules, catalog, parser, loaded] = await Promise.all([loadRules(opts.rules), loadCatalog(), CParser.load(), loadMessages(path, io.stdin)]);
  for (const s of loaded.skipped) {
    io.stderr.write(`dmabuf-review: skipped ${s.source}${s.messageId ? ` <${s.messageId}>` : ""}: ${s.reason}: ${s.detail}\n`);
  }
  const source = path === "-" ? "stdin" : path;
  if (loaded.messages.length === 0) throw new InputError("not-a-patch", `none of the ${loaded.skipped.length} messages could be read`, source);
  const { series } = groupSeries(loaded.messages);
  if (series.length === 0) throw new InputError("not-a-patch", "no patch series in the input", source);
  const results = trackAll(series, { rules, parser, model: { catalog, cache: new Map() } }, opts.series);
  if (opts.series && results.length === 0) throw new InputError("not-a-patch", `no series ${opts.series} in the input`, source);
  const text =
    opts.format === "json"
      ? renderTrackJson(results)
      : results.map((r) => (r.kind === "tracked" ? renderTrackerText(r.tracker) : renderNoPrevious(r))).join("\n");
  await new Promise<void>((resolve, reject) => io.stdout.write(text, (err) => (err ? reject(err) : resolve())));
  return 0;
}
