import type { Logger } from "pino";
import { counts } from "../review/render/tracker.js";
import { renderTracker } from "../review/render/tracker.js";
import type { LoadedFeedback } from "../ingest/forge/feedback.js";
import { fitBody, publishTracker, TRACKER, type TrackerComments } from "../publish/forge/tracker.js";
import type { ThreadRef } from "../publish/target.js";
import { FeedbackStore } from "../state/feedback.js";
import type { Store } from "../state/store.js";
import type { Tracking } from "./review-pool.js";
import type { ChannelStats, Outcome } from "./delivery.js";

/** What keeping a change's tracker came to; `failed` makes the delivery fail, so it is retried. */
export interface TrackerOutcome {
  readonly kind: "posted" | "edited" | "unchanged" | "no-previous" | "skipped" | "failed";
  readonly detail: string;
}

export interface ForgeTrackerDeps {
  readonly store: Store;
  readonly track: Tracking;
  readonly log: Logger;
}

/**
 * The tracker on a forge, after normalising: judge every item raised on earlier pushes against
 * the latest, render the table, and write it only when it differs from what is on the change:
 * the first time as one comment, afterwards by editing that comment. A change with one push
 * known says so and nothing else happens.
 */
export async function keepTracker(loaded: LoadedFeedback, thread: ThreadRef, comments: TrackerComments, maxBody: number, deps: ForgeTrackerDeps): Promise<TrackerOutcome> {
  if (loaded.kind === "no-previous") return { kind: "no-previous", detail: loaded.reason };
  if (loaded.kind === "skip") return { kind: "skipped", detail: loaded.reason };
  const { current, known } = loaded.history;
  const r = await deps.track(current, known, `the earlier pushes of ${thread.id}`);
  if (r.kind === "no-previous") return { kind: "no-previous", detail: r.reason };
  const t = r.tracker;
  const body = fitBody(renderTracker(t, "markdown"), maxBody);
  const feedback = new FeedbackStore(deps.store.db);
  const tally = Object.entries(counts(t))
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${v}`)
    .join(", ");
  const summary = `${t.items.length} points on v${[...new Set(t.revisions.filter((s) => s.revision < t.series.revision).map((s) => s.revision))].join(", v")}${tally ? ` (${tally})` : ""}`;
  const state = feedback.compareTracker(thread.channel, thread.id, t.series.id, body);
  if (state === "unchanged") return { kind: "unchanged", detail: `tracker unchanged: ${summary}` };
  // "Thanks!" on an earlier push is no review point: a tracker of nothing would be noise.
  if (state === "new" && t.items.length === 0 && !deps.store.ledger.get({ channel: thread.channel, thread: thread.id, what: TRACKER })) {
    return { kind: "skipped", detail: `no review points among ${t.replies} replies to earlier pushes; no tracker` };
  }
  const receipt = await publishTracker(comments, body, deps.store.ledger, { channel: thread.channel, thread: thread.id, what: TRACKER });
  if (!receipt.ok) return { kind: "failed", detail: receipt.reason ?? "tracker not written" };
  const changed = deps.store.transaction(() => {
    const c = feedback.saveTracking(t);
    feedback.recordTracker(thread.channel, thread.id, t.series.id, body);
    return c;
  });
  const moved = changed.filter((c) => c.from !== undefined).map((c) => `${c.itemId} ${c.from} → ${c.to}`);
  const kind = receipt.reason === undefined ? "posted" : receipt.reason === "unchanged" ? "unchanged" : "edited";
  const where = receipt.reason && receipt.reason !== "edited" && receipt.reason !== "unchanged" ? ` (${receipt.reason})` : "";
  return { kind, detail: `tracker ${kind} at ${receipt.location ?? "?"}${where}: ${summary}${moved.length > 0 ? `; ${moved.join(", ")}` : ""}` };
}

/**
 * A delivery's outcome with the tracker's folded in: a tracker that could not be written makes
 * the delivery partial, so the forge's redelivery retries it (the ledger keeps the rest from
 * being posted twice). Without a review (a comment arrived), the tracker's outcome is the outcome.
 */
export function withTracker(published: Outcome | undefined, t: TrackerOutcome, counters: ChannelStats): Outcome {
  if (t.kind === "posted" || t.kind === "edited") counters.trackerWrites++;
  if (t.kind === "unchanged") counters.trackerUnchanged++;
  if (!published) {
    const kind = t.kind === "failed" ? "failed" : t.kind === "no-previous" || t.kind === "skipped" ? "skipped" : "posted";
    return { kind, detail: t.detail };
  }
  const kind = t.kind !== "failed" ? published.kind : published.kind === "failed" ? "failed" : "partial";
  return { kind, detail: `${published.detail}; ${t.detail}` };
}
