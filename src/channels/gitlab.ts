import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Gitlab } from "@gitbeaker/rest";
import type { Logger } from "pino";
import { InputError } from "../errors.js";
import { describeSkipped, type ForgeLimits } from "../ingest/forge/revision.js";
import type { ForgeFile } from "../ingest/forge/revision.js";
import { loadMergeRequestFeedback, type MergeRequestRef } from "../ingest/gitlab/feedback.js";
import { loadMergeRequestSeries, type GitlabApi, type VersionWait } from "../ingest/gitlab/merge-request.js";
import { mergeRequestThread, readGitlabEvent, type MergeRequestNoteEvent } from "../ingest/gitlab/merge-request-event.js";
import { verifyGitlabToken } from "../ingest/gitlab/verify-token.js";
import { gitlabDiscussionsTarget } from "../publish/gitlab/discussions.js";
import { GITLAB_MAX_BODY, gitlabTrackerComments } from "../publish/gitlab/tracker.js";
import type { ThreadRef } from "../publish/target.js";
import { reviewPage } from "../review/review-page.js";
import { ReviewPages } from "../state/review-pages.js";
import type { Store } from "../state/store.js";
import { keepTracker, Refreshes, type TrackerOutcome } from "./forge-tracker.js";
import { TRACKER } from "../publish/forge/tracker.js";
import type { Reviewer, Tracking } from "./review-pool.js";
import { header, isJsonContent, NOT_JSON, parseJsonObject, type HttpAnswer } from "./webhook-request.js";
import { withTracker, type ChannelStats, type DeliveryGate, type Outcome, type Serial } from "./server.js";

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
  const refreshes = new Refreshes<Outcome>(deps.serial);
  return (headers) => {
    deps.counters.received++;
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
    return { ok: true, receive: (body) => receive(deps, refreshes, headers, body) };
  };
}

/** An admitted delivery's body: JSON object, event, then the review or the tracker. */
async function receive(deps: GitlabChannelDeps, refreshes: Refreshes<Outcome>, headers: IncomingHttpHeaders, body: Buffer): Promise<HttpAnswer> {
  const id = deliveryId(headers, body);
  const log = deps.log.child({ channel: "gitlab", delivery: id });
  const parsed = parseJsonObject(body);
  if (!parsed.ok) {
    deps.counters.malformed++;
    log.warn({ detail: parsed.answer.body["detail"] }, "gitlab: body is not a JSON object");
    return parsed.answer;
  }
  const payload = parsed.value;
  let read;
  try {
    read = readGitlabEvent(header(headers, "x-gitlab-event"), payload, id);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    deps.counters.malformed++;
    log.warn({ reason: err.reason, detail: err.detail }, "gitlab: malformed merge request event");
    return { status: 400, body: { error: err.reason, detail: err.detail } };
  }
  if (read.kind === "ignore") {
    deps.counters.ignored++;
    log.info({ reason: read.reason }, "gitlab: event not reviewed, skipped");
    return { status: 200, body: { ignored: read.reason } };
  }
  if (read.kind === "feedback") return noteWritten(read.event, id, log, deps, refreshes);
  const e = read.event;
  const thread = { channel: "gitlab", id: mergeRequestThread(e) };
  if (!deps.deliveries.claim("gitlab", id)) {
    deps.counters.duplicates++;
    log.info({ thread: thread.id }, "gitlab: delivery already handled, nothing posted");
    return { status: 200, body: { duplicate: id } };
  }
  const outcome = await deps.deliveries.run("gitlab", id, deps.counters, () =>
    deps.serial.run(thread.id, async () => {
      // normalise
      const loaded = await loadMergeRequestSeries(deps.api, e, deps.limits, deps.versionWait);
      if (loaded.kind === "skip") return { kind: "skipped", detail: loaded.reason } as const;
      const { normalised, refs } = loaded;
      if (normalised.skipped.length > 0) log.warn({ thread: thread.id, files: normalised.files, skipped: normalised.skipped.length }, "gitlab: files not reviewed (limits)");
      if (!normalised.series) return { kind: "skipped", detail: `no reviewable file among ${normalised.files}` } as const;
      // review
      const review = await deps.review(normalised.series);
      new ReviewPages(deps.store.db).record(reviewPage(review, { channel: "gitlab", place: thread.id.replace(/!\d+$/, "") }));
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
    }),
  );
  if (outcome.kind === "failed" || outcome.kind === "partial") {
    deps.counters.failed++;
    log.error({ thread: thread.id, err: outcome.detail }, `gitlab: review ${outcome.kind === "failed" ? "failed" : "partly posted"}`);
    // GitLab retries a delivery that failed; the ledger keeps that from posting twice.
    return { status: 502, body: { error: "review-failed", detail: outcome.detail } };
  }
  if (outcome.kind === "skipped") {
    deps.counters.skipped++;
    log.info({ thread: thread.id, reason: outcome.detail }, "gitlab: skipped");
    return { status: 200, body: { skipped: outcome.detail } };
  }
  deps.counters.reviewed++;
  log.info({ thread: thread.id, head: e.headSha, outcome: outcome.detail }, "gitlab: reviewed");
  return { status: 200, body: { reviewed: thread.id, outcome: outcome.detail } };
}

/** The tracker of a merge request, read and kept up to date. */
async function trackMergeRequest(deps: GitlabChannelDeps, mr: MergeRequestRef, thread: ThreadRef, current?: { sha: string; files: readonly ForgeFile[] }): Promise<TrackerOutcome> {
  const tracking = deps.store.ledger.get({ channel: thread.channel, thread: thread.id, what: TRACKER }) !== undefined;
  const loaded = await loadMergeRequestFeedback(deps.api, mr, deps.limits, { ...(current ? { current } : {}), tracking });
  return keepTracker(loaded, thread, gitlabTrackerComments(deps.api, mr), GITLAB_MAX_BODY, { store: deps.store, track: deps.track, log: deps.log });
}

/**
 * A note on a merge request: the tracker reads every discussion again and edits its note if a
 * verdict changed. A merge request with one version has no tracker, and gets none from a note.
 */
async function noteWritten(e: MergeRequestNoteEvent, id: string, log: Logger, deps: GitlabChannelDeps, refreshes: Refreshes<Outcome>): Promise<HttpAnswer> {
  const thread = { channel: "gitlab", id: mergeRequestThread(e) };
  if (!deps.deliveries.claim("gitlab", id)) {
    deps.counters.duplicates++;
    log.info({ thread: thread.id, note: e.noteId }, "gitlab: delivery already handled, nothing posted");
    return { status: 200, body: { duplicate: id } };
  }
  const outcome = await deps.deliveries.run("gitlab", id, deps.counters, async () => {
    const { joined, done } = refreshes.run(thread.id, async () => withTracker(undefined, await trackMergeRequest(deps, e, thread), deps.counters));
    if (joined) log.info({ thread: thread.id, note: e.noteId }, "gitlab: a tracker refresh is already waiting; this note is read by it");
    return done;
  });
  if (outcome.kind === "failed" || outcome.kind === "partial") {
    deps.counters.failed++;
    log.error({ thread: thread.id, note: e.noteId, err: outcome.detail }, "gitlab: tracker not updated");
    return { status: 502, body: { error: "tracker-failed", detail: outcome.detail } };
  }
  if (outcome.kind === "skipped") {
    deps.counters.skipped++;
    log.info({ thread: thread.id, note: e.noteId, reason: outcome.detail }, "gitlab: note read, no tracker");
    return { status: 200, body: { skipped: outcome.detail } };
  }
  log.info({ thread: thread.id, note: e.noteId, outcome: outcome.detail }, "gitlab: tracker read again");
  return { status: 200, body: { tracked: thread.id, outcome: outcome.detail } };
}

export interface RetryPolicy {
  readonly retries: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

export const GITLAB_RETRY: RetryPolicy = { retries: 4, baseMs: 500, maxMs: 30_000 };

/** Reads and edits may be repeated; a create may not, unless GitLab said it did nothing. */
const IDEMPOTENT = /^(all|show|edit|resolve|remove)/;

interface Failure {
  readonly retry: "always" | "idempotent" | "never";
  readonly afterMs?: number;
}

function classify(err: unknown): Failure {
  const e = err as { name?: string; message?: string; cause?: { response?: Response; code?: string } };
  // gitbeaker already retried 429 and 502 ten times, within a quarter second; back off for longer.
  if (e.name === "GitbeakerRetryError") return { retry: /status code: 429/.test(e.message ?? "") ? "always" : "idempotent" };
  if (e.name === "GitbeakerTimeoutError") return { retry: "idempotent" };
  const response = e.cause?.response;
  if (e.name === "GitbeakerRequestError" && response) {
    const after = Number(response.headers.get("retry-after"));
    if (response.status === 429) return { retry: "always", ...(after > 0 ? { afterMs: after * 1000 } : {}) };
    if ([500, 502, 503, 504].includes(response.status)) return { retry: "idempotent", ...(after > 0 ? { afterMs: after * 1000 } : {}) };
    return { retry: "never" };
  }
  // fetch failed: a refused connection never reached GitLab; a reset may have.
  if (e.name === "TypeError" && /fetch failed/.test(e.message ?? "")) return { retry: e.cause?.code === "ECONNREFUSED" ? "always" : "idempotent" };
  return { retry: "never" };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The GitLab client with backoff: every resource call (`api.MergeRequests.allDiffVersions(...)`)
 * is retried on rate limits and server errors, exponentially, honouring Retry-After.
 */
export function retrying<T extends object>(api: T, policy: RetryPolicy, log: Logger): T {
  const wrapResource = (resource: object) =>
    new Proxy(resource, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function" || typeof prop !== "string") return value;
        const idempotent = IDEMPOTENT.test(prop);
        return async (...args: unknown[]) => {
          for (let attempt = 0; ; attempt++) {
            try {
              return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            } catch (err) {
              const f = classify(err);
              const allowed = f.retry === "always" || (f.retry === "idempotent" && idempotent);
              if (!allowed || attempt >= policy.retries) throw err;
              const wait = Math.min(policy.maxMs, f.afterMs ?? policy.baseMs * 2 ** attempt);
              log.warn({ channel: "gitlab", call: prop, attempt: attempt + 1, waitMs: wait, err: (err as Error).message }, "gitlab: API call failed, retrying");
              await sleep(wait);
            }
          }
        };
      },
    });
  return new Proxy(api, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      return value && typeof value === "object" ? wrapResource(value) : value;
    },
  });
}

export interface GitlabClientOptions {
  readonly url: string;
  readonly token: string;
  /** Client-side request budgets per endpoint glob and minute (gitbeaker's own defaults otherwise). */
  readonly rateLimits?: Record<string, number>;
  readonly retry?: RetryPolicy;
}

/** A self-hosted instance (gitlab.freedesktop.org) is just another base URL. */
export function gitlabClient(opts: GitlabClientOptions, log: Logger): GitlabApi {
  const api = new Gitlab({ host: opts.url.replace(/\/+$/, ""), token: opts.token, queryTimeout: 30_000, ...(opts.rateLimits ? { rateLimits: opts.rateLimits } : {}) });
  return retrying(api, opts.retry ?? GITLAB_RETRY, log);
}
