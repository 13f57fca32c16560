import type { ApplicationFunction, Context, Logger, ProbotOctokit } from "probot";
import { loadPullRequestFeedback, readFeedbackEvent, type FeedbackEventName, type PullRequestRef } from "../ingest/github/feedback.js";
import { loadPullRequestSeries, pullRequestThread, readPullRequestEvent, REVIEWED_ACTIONS, type PullRequestEvent } from "../ingest/github/pull-request.js";
import { describeSkipped, type ForgeFile, type ForgeLimits } from "../ingest/forge/revision.js";
import { githubReviewTarget } from "../publish/github/review.js";
import { GITHUB_MAX_BODY, githubTrackerComments } from "../publish/github/tracker.js";
import type { ThreadRef } from "../publish/target.js";
import { ForgeHeads } from "../state/forge-heads.js";
import { reviewPage } from "../review/review-page.js";
import { ReviewPages } from "../state/review-pages.js";
import type { Store } from "../state/store.js";
import { DeliveryEnvelope, type ChannelStats, type DeliveryGate, type Outcome, type Parsed, type Serial } from "./delivery.js";
import { keepTracker, withTracker, type TrackerOutcome } from "./forge-tracker.js";
import { TRACKER } from "../publish/forge/tracker.js";
import type { Reviewer, Tracking } from "./review-pool.js";

export const GITHUB_WEBHOOK_PATH = "/api/github/webhooks";

export interface GithubChannelDeps {
  readonly store: Store;
  /** reviewSeries with the loaded rules, catalog and parser, on a worker thread. */
  readonly review: Reviewer;
  /** trackSeries, likewise. */
  readonly track: Tracking;
  readonly log: Logger;
  readonly counters: ChannelStats;
  readonly serial: Serial;
  readonly deliveries: DeliveryGate;
  readonly limits: ForgeLimits;
}

/** Comment and review actions after which the tracker reads the pull request again. */
const FEEDBACK_HOOKS = [
  "pull_request_review_comment.created",
  "pull_request_review_comment.edited",
  "pull_request_review_comment.deleted",
  "pull_request_review.submitted",
  "pull_request_review.edited",
  "pull_request_review.dismissed",
  "issue_comment.created",
  "issue_comment.edited",
  "issue_comment.deleted",
] as const;

interface ChannelState extends GithubChannelDeps {
  readonly heads: ForgeHeads;
  readonly pages: ReviewPages;
}

/**
 * The GitHub channel as a Probot app: a pull request opened, pushed to or reopened is one
 * review; a review comment, a review or a conversation comment is one refresh of the tracker;
 * every other event is acknowledged and left alone. Each goes through the one delivery envelope.
 */
export function githubApp(deps: GithubChannelDeps): ApplicationFunction {
  const state: ChannelState = { ...deps, heads: new ForgeHeads(deps.store.db), pages: new ReviewPages(deps.store.db) };
  const envelope = new DeliveryEnvelope("github", deps);
  const handled = (name: string, action: string | undefined) =>
    (name === "pull_request" && (REVIEWED_ACTIONS as readonly string[]).includes(action ?? "")) || (FEEDBACK_HOOKS as readonly string[]).includes(`${name}.${action}`);
  return (app) => {
    app.on(
      REVIEWED_ACTIONS.map((a) => `pull_request.${a}` as const),
      async (context) => {
        await envelope.deliver(context.id, () => pullRequestWork(context, state));
      },
    );
    app.on([...FEEDBACK_HOOKS], async (context) => {
      const feedback = { name: context.name as FeedbackEventName, payload: context.payload, octokit: context.octokit };
      await envelope.deliver(context.id, () => feedbackWork(feedback, state, context.id));
    });
    app.onAny(async (event) => {
      const action = (event.payload as { action?: string }).action;
      if (handled(event.name, action)) return;
      const reason = `${event.name}${action ? `.${action}` : ""} is not reviewed`;
      await envelope.deliver(event.id, () => ({ kind: "ignore", reason, fields: { event: event.name, action } }));
    });
  };
}

/** Without an installation the app has no token for the repository: nothing it could read or post. */
const NO_INSTALLATION = { kind: "skip", detail: "no installation in the payload", say: "delivery without an installation, skipped" } as const;

/** A pull request opened, pushed to or reopened: what to review, or why not. */
function pullRequestWork(context: Context<"pull_request">, deps: ChannelState): Parsed {
  const read = readPullRequestEvent(context.payload, context.id);
  if (!read.ok) return { kind: "malformed", reason: read.error.reason, detail: read.error.detail };
  const e = read.value;
  const thread = { channel: "github", id: pullRequestThread(e) };
  if (e.installationId === undefined) return { ...NO_INSTALLATION, thread: thread.id };
  const run = (log: Logger) => reviewPullRequest(context.octokit, e, thread, deps, log);
  return { kind: "work", work: { thread: thread.id, what: "review", fields: { head: e.headSha }, run } };
}

/** normalise → review → publish once → the tracker, for one push of a pull request. */
async function reviewPullRequest(octokit: ProbotOctokit, e: PullRequestEvent, thread: ThreadRef, deps: ChannelState, log: Logger): Promise<Outcome> {
  const loaded = await loadPullRequestSeries(octokit, e, deps.limits);
  if (loaded.kind === "skip") return { kind: "skipped", detail: loaded.reason };
  const { normalised } = loaded;
  if (normalised.skipped.length > 0 || loaded.listed < loaded.changedFiles) {
    log.warn(
      { thread: thread.id, files: normalised.files, skipped: normalised.skipped.length, listed: loaded.listed, changedFiles: loaded.changedFiles, reasons: countReasons(normalised.skipped) },
      "github: files not reviewed (limits)",
    );
  }
  if (!normalised.series) return { kind: "skipped", detail: `no reviewable file among ${normalised.files}` };
  const review = await deps.review(normalised.series);
  deps.pages.record(reviewPage(review, { channel: "github", place: `${e.owner}/${e.repo}` }));
  const notes = describeSkipped(normalised.skipped);
  if (loaded.listed < loaded.changedFiles) notes.push(`GitHub listed ${loaded.listed} of ${loaded.changedFiles} changed files; the rest were not reviewed.`);
  const fresh = e.action === "opened" && deps.store.ledger.forThread(thread.channel, thread.id).length === 0;
  const target = githubReviewTarget(octokit, { owner: e.owner, repo: e.repo, number: e.number, headSha: e.headSha }, deps.store.ledger, { notes, fresh });
  const published = deps.counters.published(await target.publish({ series: [review], skipped: [], orphanReplies: [] }, thread));
  // the tracker: what was said on earlier pushes, judged against this one
  const now = new Date();
  // The push before this one became the head before it; a head already known keeps its time.
  if (e.before) deps.heads.record(thread.channel, thread.id, e.before, new Date(now.getTime() - 1).toISOString());
  deps.heads.record(thread.channel, thread.id, e.headSha, now.toISOString());
  const tracked =
    e.action === "opened"
      ? { kind: "no-previous" as const, detail: `first push of ${thread.id}: no earlier push; nothing to track` }
      : await trackPullRequest(octokit, e, thread, deps, { sha: e.headSha, files: loaded.files });
  return withTracker(published, tracked, deps.counters);
}

/** The tracker of a pull request, read and kept up to date; heads learnt from the forge are remembered. */
async function trackPullRequest(octokit: ProbotOctokit, pr: PullRequestRef, thread: ThreadRef, deps: ChannelState, current?: { sha: string; files: readonly ForgeFile[] }): Promise<TrackerOutcome> {
  const tracking = deps.store.ledger.get({ channel: thread.channel, thread: thread.id, what: TRACKER }) !== undefined;
  const { loaded, discovered } = await loadPullRequestFeedback(octokit, pr, deps.heads.list(thread.channel, thread.id), deps.limits, { ...(current ? { current } : {}), tracking });
  for (const h of discovered) deps.heads.record(thread.channel, thread.id, h.sha, h.seenAt);
  return keepTracker(loaded, thread, githubTrackerComments(octokit, pr), GITHUB_MAX_BODY, { store: deps.store, track: deps.track, log: deps.log });
}

/** What a comment delivery brings: the event, and the installation's client. */
interface FeedbackContext {
  readonly name: FeedbackEventName;
  readonly payload: unknown;
  readonly octokit: ProbotOctokit;
}

/**
 * A review comment, a review or a conversation comment on a pull request: the tracker reads
 * everything said again and edits its comment if a verdict changed. The bot's own comments
 * (its findings come back as events too) are left alone before anything is read.
 */
function feedbackWork(context: FeedbackContext, deps: ChannelState, id: string): Parsed {
  const read = readFeedbackEvent(context.name, context.payload, id);
  if (read.ok === "ignore") return { kind: "ignore", reason: read.reason, fields: { event: context.name } };
  if (!read.ok) return { kind: "malformed", reason: read.error.reason, detail: read.error.detail };
  const e = read.value;
  const thread = { channel: "github", id: pullRequestThread(e) };
  if (e.installationId === undefined) return { ...NO_INSTALLATION, thread: thread.id };
  const run = async () => withTracker(undefined, await trackPullRequest(context.octokit, e, thread, deps), deps.counters);
  return { kind: "work", work: { thread: thread.id, what: "tracker", fields: { event: context.name }, run } };
}

function countReasons(skipped: readonly { reason: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of skipped) out[s.reason] = (out[s.reason] ?? 0) + 1;
  return out;
}
