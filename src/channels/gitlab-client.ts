import { Gitlab } from "@gitbeaker/rest";
import type { Logger } from "pino";
import type { GitlabApi } from "../ingest/gitlab/merge-request.js";

/*
 * The GitLab API client the channel reads and posts through: gitbeaker with a longer backoff
 * than its own, so that a rate limit or a restarting instance does not fail a delivery.
 */

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
