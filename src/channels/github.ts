import type { ApplicationFunction, Context, Logger } from "probot";
import { loadPullRequestSeries, pullRequestThread, readPullRequestEvent, REVIEWED_ACTIONS } from "../ingest/github/pull-request.js";
import { describeSkipped, type ForgeLimits } from "../ingest/forge/revision.js";
import { githubReviewTarget } from "../publish/github/review.js";
import type { Reviewer } from "./review-pool.js";
import type { Store } from "../state/store.js";
import type { ChannelStats, DeliveryGate, Outcome, Serial } from "./server.js";

export const GITHUB_WEBHOOK_PATH = "/api/github/webhooks";

export interface GithubChannelDeps {
  readonly store: Store;
  /** reviewSeries with the loaded rules, catalog and parser, on a worker thread. */
  readonly review: Reviewer;
  readonly log: Logger;
  readonly counters: ChannelStats;
  readonly serial: Serial;
  readonly deliveries: DeliveryGate;
  readonly limits: ForgeLimits;
}

/**
 * The GitHub channel as a Probot app: a pull request opened, pushed to or reopened is one call
 * into `reviewPullRequest`; every other event is acknowledged and left alone.
 */
export function githubApp(deps: GithubChannelDeps): ApplicationFunction {
  return (app) => {
    app.on(
      REVIEWED_ACTIONS.map((a) => `pull_request.${a}` as const),
      async (context) => {
        await reviewPullRequest(context, deps);
      },
    );
    app.onAny(async (event) => {
      const action = (event.payload as { action?: string }).action;
      if (event.name === "pull_request" && (REVIEWED_ACTIONS as readonly string[]).includes(action ?? "")) return;
      deps.counters.ignored++;
      deps.log.info({ channel: "github", delivery: event.id, event: event.name, action }, "github: event not reviewed, skipped");
    });
  };
}

/** receive (done by the server and Probot) → normalise → review → publish once. Never throws. */
export async function reviewPullRequest(context: Context<"pull_request">, deps: GithubChannelDeps): Promise<Outcome> {
  const log = deps.log.child({ channel: "github", delivery: context.id });
  deps.counters.received++;
  const read = readPullRequestEvent(context.payload, context.id);
  if (!read.ok) {
    deps.counters.malformed++;
    log.warn({ reason: read.error.reason, detail: read.error.detail }, "github: payload skipped");
    return { kind: "skipped", detail: read.error.detail };
  }
  const e = read.value;
  const thread = { channel: "github", id: pullRequestThread(e) };
  // Without an installation the app has no token for the repository: nothing it could read or post.
  if (e.installationId === undefined) {
    deps.counters.skipped++;
    log.warn({ thread: thread.id }, "github: delivery without an installation, skipped");
    return { kind: "skipped", detail: "no installation in the payload" };
  }
  if (!deps.deliveries.claim("github", context.id)) {
    deps.counters.duplicates++;
    log.info({ thread: thread.id }, "github: delivery already handled, nothing posted");
    return { kind: "duplicate", detail: context.id };
  }
  deps.counters.inFlight++;
  let outcome: Outcome;
  try {
    outcome = await deps.serial.run(thread.id, async () => {
      const loaded = await loadPullRequestSeries(context.octokit, e, deps.limits);
      if (loaded.kind === "skip") return { kind: "skipped", detail: loaded.reason } as const;
      const { normalised } = loaded;
      if (normalised.skipped.length > 0 || loaded.listed < loaded.changedFiles) {
        log.warn(
          { thread: thread.id, files: normalised.files, skipped: normalised.skipped.length, listed: loaded.listed, changedFiles: loaded.changedFiles, reasons: countReasons(normalised.skipped) },
          "github: files not reviewed (limits)",
        );
      }
      if (!normalised.series) return { kind: "skipped", detail: `no reviewable file among ${normalised.files}` } as const;
      const review = await deps.review(normalised.series);
      const notes = describeSkipped(normalised.skipped);
      if (loaded.listed < loaded.changedFiles) notes.push(`GitHub listed ${loaded.listed} of ${loaded.changedFiles} changed files; the rest were not reviewed.`);
      const fresh = e.action === "opened" && deps.store.ledger.forThread(thread.channel, thread.id).length === 0;
      const target = githubReviewTarget(context.octokit, { owner: e.owner, repo: e.repo, number: e.number, headSha: e.headSha }, deps.store.ledger, { notes, fresh });
      return deps.counters.published(await target.publish({ series: [review], skipped: [], orphanReplies: [] }, thread));
    });
  } catch (err) {
    outcome = { kind: "failed", detail: (err as Error).message };
  } finally {
    deps.counters.inFlight--;
  }
  deps.deliveries.done("github", context.id, outcome);
  if (outcome.kind === "failed" || outcome.kind === "partial") {
    deps.counters.failed++;
    log.error({ thread: thread.id, err: outcome.detail }, `github: review ${outcome.kind === "failed" ? "failed" : "partly posted"}`);
  } else if (outcome.kind === "skipped") {
    deps.counters.skipped++;
    log.info({ thread: thread.id, reason: outcome.detail }, "github: skipped");
  } else {
    deps.counters.reviewed++;
    log.info({ thread: thread.id, head: e.headSha, outcome: outcome.detail }, "github: reviewed");
  }
  return outcome;
}

function countReasons(skipped: readonly { reason: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of skipped) out[s.reason] = (out[s.reason] ?? 0) + 1;
  return out;
}
