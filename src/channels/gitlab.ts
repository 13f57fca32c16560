import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { Logger } from "pino";
import { InputError } from "../errors.js";
import { describeSkipped, type ForgeLimits } from "../ingest/forge/revision.js";
import type { ForgeFile } from "../ingest/forge/revision.js";
import { loadMergeRequestFeedback, type MergeRequestRef } from "../ingest/gitlab/feedback.js";
import { loadMergeRequestSeries, type GitlabApi, type VersionWait } from "../ingest/gitlab/merge-request.js";
import { mergeRequestThread, readGitlabEvent, type MergeRequestEvent } from "../ingest/gitlab/merge-request-event.js";
import { verifyGitlabToken } from "../ingest/gitlab/verify-token.js";
import { gitlabDiscussionsTarget } from "../publish/gitlab/discussions.js";
import { GITLAB_MAX_BODY, gitlabTrackerComments } from "../publish/gitlab/tracker.js";
import type { ThreadRef } from "../publish/target.js";
import { reviewPage } from "../review/review-page.js";
import { ReviewPages } from "../state/review-pages.js";
import type { Store } from "../state/store.js";
import { DeliveryEnvelope, type ChannelStats, type Delivered, type DeliveryGate, type Outcome, type Parsed, type Serial } from "./delivery.js";
import { keepTracker, withTracker, type TrackerOutcome } from "./forge-tracker.js";
import { TRACKER } from "../publish/forge/tracker.js";
import type { Reviewer, Tracking } from "./review-pool.js";
import { header, isJsonContent, NOT_JSON, parseJsonObject, type HttpAnswer } from "./webhook-request.js";

export const GITLAB_WEBHOOK_PATH = "/api/gitlab/webhooks";

export interface GitlabChannelDeps {
  readonly secret: string;
  readonly api: GitlabApi;
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
  readonly versionWait?: VersionWait;
}

/**
 * GitLab sends an Idempotency-Key that stays the same when it retries a delivery (17.4 and
 * later). Before that, the body itself tells a retry from a new event: every event carries its
 * own updated_at.
 */
function deliveryId(h: IncomingHttpHeaders, body: Buffer): string {
  return header(h, "idempotency-key") ?? `sha256:${createHash("sha256").update(body).digest("hex").slice(0, 32)}`;
}

/**
 * A delivery as the channel admits it: refused from its headers alone (the body is then never
 * read), or admitted, with the one way on to reading it.
 */
export type GitlabAdmission = { readonly ok: false; readonly answer: HttpAnswer } | { readonly ok: true; receive(body: Buffer): Promise<HttpAnswer> };

/** The whole GitLab channel, top to bottom: receive → normalise → review → publish once. */
export function gitlabChannel(deps: GitlabChannelDeps): (headers: IncomingHttpHeaders) => GitlabAdmission {
  const envelope = new DeliveryEnvelope("gitlab", deps);
  const pages = new ReviewPages(deps.store.db);
  return (headers) => {
    // receive: the token first, from the headers; nothing else happens without it.
    if (!verifyGitlabToken(header(headers, "x-gitlab-token"), deps.secret)) {
      deps.counters.rejected++;
      deps.log.warn({ channel: "gitlab" }, "gitlab: wrong or missing X-Gitlab-Token, rejected");
      return { ok: false, answer: { status: 401, body: { error: "bad-token" } } };
    }
    if (!isJsonContent(headers)) {
      deps.counters.malformed++;
      return { ok: false, answer: NOT_JSON };
    }
    return {
      ok: true,
      receive: async (body) => {
        const id = deliveryId(headers, body);
        return httpAnswer(await envelope.deliver(id, () => gitlabWork(deps, pages, header(headers, "x-gitlab-event"), body, id)));
      },
    };
  };
}

/** An admitted delivery's body: JSON object, then the event, then what to do for it. */
function gitlabWork(deps: GitlabChannelDeps, pages: ReviewPages, eventHeader: string | undefined, body: Buffer, id: string): Parsed {
  const parsed = parseJsonObject(body);
  if (!parsed.ok) return { kind: "malformed", reason: String(parsed.answer.body["error"]), detail: String(parsed.answer.body["detail"]) };
  let read;
  try {
    read = readGitlabEvent(eventHeader, parsed.value, id);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    return { kind: "malformed", reason: err.reason, detail: err.detail };
  }
  if (read.kind === "ignore") return { kind: "ignore", reason: read.reason };
  if (read.kind === "feedback") {
    const e = read.event;
    const thread = { channel: "gitlab", id: mergeRequestThread(e) };
    const run = async () => withTracker(undefined, await trackMergeRequest(deps, e, thread), deps.counters);
    return { kind: "work", work: { thread: thread.id, what: "tracker", fields: { note: e.noteId }, run } };
  }
  const e = read.event;
  const thread = { channel: "gitlab", id: mergeRequestThread(e) };
  return { kind: "work", work: { thread: thread.id, what: "review", fields: { head: e.headSha }, run: (log) => reviewMergeRequest(deps, pages, e, thread, log) } };
}

/** normalise → review → publish once → the tracker, for one version of a merge request. */
async function reviewMergeRequest(deps: GitlabChannelDeps, pages: ReviewPages, e: MergeRequestEvent, thread: ThreadRef, log: Logger): Promise<Outcome> {
  // normalise
  const loaded = await loadMergeRequestSeries(deps.api, e, deps.limits, deps.versionWait);
  if (loaded.kind === "skip") return { kind: "skipped", detail: loaded.reason };
  const { normalised, refs } = loaded;
  if (normalised.skipped.length > 0) log.warn({ thread: thread.id, files: normalised.files, skipped: normalised.skipped.length }, "gitlab: files not reviewed (limits)");
  if (!normalised.series) return { kind: "skipped", detail: `no reviewable file among ${normalised.files}` };
  // review
  const review = await deps.review(normalised.series);
  pages.record(reviewPage(review, { channel: "gitlab", place: thread.id.replace(/!\d+$/, "") }));
  // publish once
  const target = gitlabDiscussionsTarget(deps.api, { projectId: e.projectId, iid: e.iid, ...refs, version: loaded.version }, deps.store.ledger, {
    notes: describeSkipped(normalised.skipped),
    fresh: e.action === "open" && deps.store.ledger.forThread(thread.channel, thread.id).length === 0,
  });
  const published = deps.counters.published(await target.publish({ series: [review], skipped: [], orphanReplies: [] }, thread));
  // the tracker: what was said on earlier versions, judged against this one
  const tracked =
    loaded.version < 2
      ? { kind: "no-previous" as const, detail: `version 1 of ${thread.id}: no earlier version; nothing to track` }
      : await trackMergeRequest(deps, e, thread, { sha: e.headSha, files: loaded.files });
  return withTracker(published, tracked, deps.counters);
}

/** The answer GitLab gets: a failure is a 502, so that GitLab retries it; the ledger keeps that from posting twice. */
function httpAnswer(d: Delivered): HttpAnswer {
  switch (d.kind) {
    case "malformed":
      return { status: 400, body: { error: d.reason, detail: d.detail } };
    case "ignored":
      return { status: 200, body: { ignored: d.detail } };
    case "duplicate":
      return { status: 200, body: { duplicate: d.detail } };
    case "skipped":
      return { status: 200, body: { skipped: d.detail } };
    case "failed":
    case "partial":
      return { status: 502, body: { error: d.what === "tracker" ? "tracker-failed" : "review-failed", detail: d.detail } };
    case "posted":
      return { status: 200, body: { [d.what === "tracker" ? "tracked" : "reviewed"]: d.thread, outcome: d.detail } };
  }
}

/** The tracker of a merge request, read and kept up to date. */
async function trackMergeRequest(deps: GitlabChannelDeps, mr: MergeRequestRef, thread: ThreadRef, current?: { sha: string; files: readonly ForgeFile[] }): Promise<TrackerOutcome> {
  const tracking = deps.store.ledger.get({ channel: thread.channel, thread: thread.id, what: TRACKER }) !== undefined;
  const loaded = await loadMergeRequestFeedback(deps.api, mr, deps.limits, { ...(current ? { current } : {}), tracking });
  return keepTracker(loaded, thread, gitlabTrackerComments(deps.api, mr), GITLAB_MAX_BODY, { store: deps.store, track: deps.track, log: deps.log });
}

