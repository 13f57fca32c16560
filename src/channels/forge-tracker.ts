import type { Logger } from "pino";
import { counts } from "../review/render/tracker.js";
import { renderTracker } from "../review/render/tracker.js";
import type { LoadedFeedback } from "../ingest/forge/feedback.js";
import { fitBody, publishTracker, TRACKER, type TrackerComments } from "../publish/forge/tracker.js";
import type { ThreadRef } from "../publish/target.js";
import { FeedbackStore } from "../state/feedback.js";
import type { Store } from "../state/store.js";
import type { Tracking } from "./review-pool.js";
import type { Serial } from "./server.js";

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
 * Comments arrive in bursts (a review of ten line comments is eleven deliveries). A refresh
 * waiting its turn reads everything anew when it runs, so a delivery arriving while one is
 * waiting joins it instead of queueing another.
 */
export class Refreshes<T> {
  private readonly waiting = new Map<string, Promise<T>>();

  constructor(private readonly serial: Serial) {}

  run(key: string, fn: () => Promise<T>): { joined: boolean; done: Promise<T> } {
    const queued = this.waiting.get(key);
    if (queued) return { joined: true, done: queued };
    const done = this.serial.run(key, () => {
      this.waiting.delete(key);
      return fn();
    });
    this.waiting.set(key, done);
    return { joined: false, done };
  }
}
