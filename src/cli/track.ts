import { loadCatalog } from "../analysis/catalog/load.js";
import { loadRules } from "../analysis/rules/load.js";
import { InputError } from "../errors.js";
import { ghostRevisions, isGhost } from "../feedback/ghost.js";
import { trackSeries, trackTargets, type Chain, type TrackDeps, type TrackResult } from "../feedback/track.js";
import { loadMessages, type Loaded } from "../ingest/mbox/messages.js";
import { seriesMessages, wholeSeries } from "../ingest/outline.js";
import { InboxOutline } from "../ingest/public-inbox/outline.js";
import { listEpochs, type Epoch } from "../ingest/public-inbox/reader.js";
import type { Message } from "../patch/message.js";
import { revisionChain } from "../patch/revision-link.js";
import type { Skip } from "../review/review.js";
import { CParser } from "../patch/c-source.js";
import { groupSeries, type Series } from "../patch/series.js";
import { ReviewCache } from "../review/review-cache.js";
import { renderNoPrevious, renderTrackerText, trackJsonStream } from "../review/render/tracker.js";
import { boundHeapGrowth, OUTLINED_INPUT_GROWTH } from "../heap.js";
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
  if (epochs) boundHeapGrowth(OUTLINED_INPUT_GROWTH);
  // Reading a whole inbox and tracking every series in it takes a while: shown on stderr.
  const progress = startProgress({ label: `track ${source}`, unit: "messages", stream: io.stderr });
  let input: TrackInput | undefined;
  try {
    const read = (done: number, total: number, epoch?: string) => progress.update({ phase: epoch ? `reading epoch ${epoch}` : "reading", done, total });
    const [rules, catalog, parser, opened] = await Promise.all([
      loadRules(opts.rules),
      loadCatalog(),
      CParser.load(),
      epochs ? InboxOutline.read(epochs, read).then(inboxInput) : loadMessages(path, io.stdin, read).then(mboxInput),
    ]);
    input = opened;
    for (const s of input.skipped) {
      io.stderr.write(`dmabuf-review: skipped ${s.source}${s.messageId ? ` <${s.messageId}>` : ""}: ${s.reason}: ${s.detail}\n`);
    }
    const searches = keptSearches(catalog.version);
    const reviews = new ReviewCache();
    const deps: TrackDeps = { rules, parser, model: { catalog, cache: searches.cache }, reviews };
    const json = trackJsonStream();
    const render = (r: TrackResult, i: number) =>
      opts.format === "json" ? json.add(r) : `${i > 0 ? "\n" : ""}${r.kind === "tracked" ? renderTrackerText(r.tracker) : renderNoPrevious(r)}`;
    const steps: (Step | undefined)[] = await plan(input, opts.series, source, deps, render);
    // A revision's review is kept while a chain still to come holds it (a resend, a fork).
    const uses = new Map<Series, number>();
    for (const step of steps) if (typeof step === "object") for (const s of step.chain.revisions) uses.set(s, (uses.get(s) ?? 0) + 1);
    for (const [i, step] of steps.entries()) {
      steps[i] = undefined;
      let text = typeof step === "string" ? step : "";
      if (typeof step === "object") {
        // Each chain is read in full while it is tracked, then let go; its tracker is written at once.
        const chain = step.chain.revisions;
        const full = await input.full(chain);
        text = render(trackSeries(full.get(step.target) ?? step.target, [], deps, inFull(step.chain, full)), i);
        for (const s of chain) {
          const left = uses.get(s)! - 1;
          uses.set(s, left);
          if (left === 0) reviews.forget(s);
        }
      }
      if (text) await write(io.stdout, text);
      progress.update({ phase: "tracking", done: i + 1, total: steps.length, unit: "series" });
    }
    searches.save();
    if (opts.format === "json") await write(io.stdout, json.end());
  } finally {
    progress.done();
    await input?.close();
  }
  return 0;
}

/** A target with earlier revisions, to track; or what was written for one without (empty for JSON, which lists those at its end). */
type Step = { readonly target: Series; readonly chain: Chain } | string;

/**
 * What tracking does for each latest revision, in order. Grouping and linking need every
 * message; once each target's chain is found, only the chains with an earlier revision are
 * kept, so that the rest of the input goes before the tracking starts.
 */
async function plan(input: TrackInput, select: string | undefined, source: string, deps: TrackDeps, render: (r: TrackResult, i: number) => string): Promise<Step[]> {
  const { targets, known } = await targetsOf(input, select, source);
  // Linked once over the outlines, which hold all that linking reads: one index for every target.
  return targets.map((target, i): Step => {
    const chain = revisionChain(target, known);
    return chain.revisions.length > 1 ? { target, chain } : render(trackSeries(target, known, deps, chain), i);
  });
}

/**
 * The latest revisions to track and every revision they may link to. A function of its own so
 * that the grouping is let go once `known` is made.
 */
async function targetsOf(input: TrackInput, select: string | undefined, source: string): Promise<{ targets: Series[]; known: readonly Series[] }> {
  const messages = input.take();
  if (messages.length === 0) throw new InputError("not-a-patch", `none of the ${input.skipped.length} messages could be read`, source);
  const { series, orphanReplies } = groupSeries(messages);
  if (series.length === 0) throw new InputError("not-a-patch", "no patch series in the input", source);
  const targets = trackTargets(series, select);
  if (select && targets.length === 0) throw new InputError("not-a-patch", `no series ${select} in the input`, source);
  // Replies whose patch is missing stand for revisions of their own (feedback/ghost.ts): read
  // whole, and kept only when they do.
  const ghosts = ghostRevisions(await input.whole(orphanReplies), series);
  // Without ghosts, the very list targets were found in: linking reuses the index built over it.
  const known = ghosts.length > 0 ? [...series, ...ghosts] : series;
  return { targets, known };
}

/** A chain found among outlines, around its series read in full. */
function inFull(chain: Chain, full: ReadonlyMap<Series, Series>): Chain {
  const whole = (s: Series) => full.get(s) ?? s;
  return {
    revisions: chain.revisions.map(whole),
    links: chain.links.map((l) => ({ ...l, series: whole(l.series), previous: whole(l.previous) })),
  };
}

function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise<void>((resolve, reject) => out.write(text, (err) => (err ? reject(err) : resolve())));
}

/** The messages tracking reads, and the way to the full text of a chain's revisions. */
interface TrackInput {
  /** The messages, handed over once: the input does not keep them. */
  take(): readonly Message[];
  readonly skipped: readonly Skip[];
  /** These messages in full, in order (an mbox's are already). */
  whole(messages: readonly Message[]): Promise<Message[]>;
  /** Each series of a chain with its messages in full. */
  full(chain: readonly Series[]): Promise<Map<Series, Series>>;
  close(): Promise<void>;
}

function mboxInput(loaded: Loaded): TrackInput {
  let messages: readonly Message[] | undefined = loaded.messages;
  return {
    skipped: loaded.skipped,
    take() {
      const m = messages;
      if (!m) throw new Error("the messages were taken already");
      messages = undefined;
      return m;
    },
    whole: async (messages) => [...messages],
    full: async (chain) => new Map(chain.map((s) => [s, s])),
    close: async () => {},
  };
}

/** An inbox read as outlines: a chain's series are rebuilt around their messages read again. */
function inboxInput(inbox: InboxOutline): TrackInput {
  return {
    take: () => inbox.take(),
    skipped: inbox.skipped,
    async whole(messages) {
      const read = await inbox.full(messages);
      return messages.map((m) => read.get(m.source)!);
    },
    async full(chain) {
      // A revision rebuilt from replies (a ghost) was made from full messages already.
      const real = chain.filter((s) => !isGhost(s));
      const read = await inbox.full(real.flatMap(seriesMessages));
      return new Map(real.map((s) => [s, wholeSeries(s, read)]));
    },
    close: () => inbox.close(),
  };
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

/** Every message of an inbox in full, oldest first (the evaluation reads them so); one that cannot be read is a skip, as in an mbox. */
export async function loadInbox(epochs: readonly Epoch[], onProgress: (done: number, total: number, epoch: string) => void): Promise<Loaded> {
  const inbox = await InboxOutline.read(epochs, onProgress, (m) => m);
  return { messages: inbox.take(), skipped: inbox.skipped };
}
