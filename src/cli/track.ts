import { loadCatalog } from "../analysis/catalog/load.js";
import { loadRules } from "../analysis/rules/load.js";
import { InputError } from "../errors.js";
import { trackAll } from "../feedback/track.js";
import { loadMessages, loadOne, type Loaded } from "../ingest/mbox/messages.js";
import { EpochReader, listEpochs, type Epoch } from "../ingest/public-inbox/reader.js";
import type { Message } from "../patch/message.js";
import type { Skip } from "../review/review.js";
import { CParser } from "../patch/c-source.js";
import { groupSeries } from "../patch/series.js";
import { renderNoPrevious, renderTrackerText, renderTrackJson } from "../review/render/tracker.js";
import { startProgress } from "./progress.js";
import { keptSearches } from "../review/kept-searches.js";
import type { Io } from "./review.js";

export interface TrackOptions {
  readonly format: "text" | "json";
  /** Message-ID of a revision's cover letter or first patch, or its change-id. */
  readonly series?: string;
  readonly rules?: string;
}

/**
 * `dmabuf-review track <path|->`: `path` is an mbox, a message, a directory of messages, or a
 * public-inbox (v2 inbox directory or one epoch repository). For each latest revision in the
 * input with an earlier one, the review points made on the earlier revisions and what became
 * of them. A revision with no earlier one says so in one line and nothing else. Exit 0, or 2
 * for unusable input.
 */
export async function trackCommand(path: string, opts: TrackOptions, io: Io): Promise<number> {
  const source = path === "-" ? "stdin" : path;
  const epochs = inboxEpochs(path);
  // Reading a whole inbox and tracking every series in it takes a while: shown on stderr.
  const progress = startProgress({ label: `track ${source}`, unit: "messages", stream: io.stderr });
  let text: string;
  try {
    const read = (done: number, total: number, epoch?: string) => progress.update({ phase: epoch ? `reading epoch ${epoch}` : "reading", done, total });
    const [rules, catalog, parser, loaded] = await Promise.all([
      loadRules(opts.rules),
      loadCatalog(),
      CParser.load(),
      epochs ? loadInbox(epochs, read) : loadMessages(path, io.stdin, read),
    ]);
    for (const s of loaded.skipped) {
      io.stderr.write(`dmabuf-review: skipped ${s.source}${s.messageId ? ` <${s.messageId}>` : ""}: ${s.reason}: ${s.detail}\n`);
    }
    if (loaded.messages.length === 0) throw new InputError("not-a-patch", `none of the ${loaded.skipped.length} messages could be read`, source);
    const { series, orphanReplies } = groupSeries(loaded.messages);
    if (series.length === 0) throw new InputError("not-a-patch", "no patch series in the input", source);
    const step = (done: number, total: number) => progress.update({ phase: "tracking", done, total, unit: "series" });
    const searches = keptSearches(catalog.version);
    const results = trackAll(series, { rules, parser, model: { catalog, cache: searches.cache }, orphans: orphanReplies }, opts.series, step);
    searches.save();
    if (opts.series && results.length === 0) throw new InputError("not-a-patch", `no series ${opts.series} in the input`, source);
    text =
      opts.format === "json"
        ? renderTrackJson(results)
        : results.map((r) => (r.kind === "tracked" ? renderTrackerText(r.tracker) : renderNoPrevious(r))).join("\n");
  } finally {
    progress.done();
  }
  await new Promise<void>((resolve, reject) => io.stdout.write(text, (err) => (err ? reject(err) : resolve())));
  return 0;
}

/** The epochs when `path` is a public-inbox (v2 inbox or one epoch repository), else undefined. */
function inboxEpochs(path: string): Epoch[] | undefined {
  if (path === "-") return undefined;
  try {
    return listEpochs(path);
  } catch {
    return undefined; // a file, or a directory of messages
  }
}

/** Every message of an inbox, oldest first; one that cannot be read is a skip, as in an mbox. */
export async function loadInbox(epochs: readonly Epoch[], onProgress: (done: number, total: number, epoch: string) => void): Promise<Loaded> {
  const messages: Message[] = [];
  const skipped: Skip[] = [];
  for (const epoch of epochs) {
    const reader = new EpochReader(epoch);
    try {
      const list = await reader.list(undefined);
      let done = 0;
      for (let page = list.next(500); page.length > 0; page = list.next(500)) {
        for await (const e of reader.read(page)) {
          onProgress(++done, list.count, epoch.name);
          const source = `${epoch.dir}#${e.commit.commit}`;
          if (e.kind === "deleted") continue;
          if (e.kind !== "message") {
            skipped.push({ source, messageId: undefined, reason: e.kind, detail: e.kind === "unreadable" ? e.detail : `${e.size} bytes` });
            continue;
          }
          // The one decode path an mbox takes too: a message that cannot be read is a skip.
          const r = await loadOne({ bytes: e.bytes, source });
          if ("kind" in r) messages.push(r);
          else skipped.push(r);
        }
      }
    } finally {
      await reader.close();
    }
  }
  return { messages, skipped };
}
