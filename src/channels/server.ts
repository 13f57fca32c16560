import { createPrivateKey } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { createNodeMiddleware, Probot, type ProbotOctokit } from "probot";
import { FORGE_LIMITS, type ForgeLimits } from "../ingest/forge/revision.js";
import { verifyGithubSignature } from "../ingest/github/verify-signature.js";
import type { VersionWait } from "../ingest/gitlab/merge-request.js";
import type { ChannelContext, Running } from "./context.js";
import { ChannelStats, DeliveryGate, Serial } from "./delivery.js";
import { GITHUB_WEBHOOK_PATH, githubApp } from "./github.js";
import { GITLAB_WEBHOOK_PATH, gitlabChannel, type GitlabAdmission } from "./gitlab.js";
import { gitlabClient, type RetryPolicy } from "./gitlab-client.js";
import { bindHttp, type BoundServer } from "./listen.js";
import type { MailHealth } from "./mail-health.js";
import { Histogram, renderMetrics } from "./metrics.js";
import { pagesRoute } from "./pages.js";
import { defaultPoolSize, startReviewPool } from "./review-pool.js";
import { answer, declaredTooLarge, header, isJsonContent, MAX_BODY_BYTES, NOT_JSON, parseJsonObject, readBody, refuse, type HttpAnswer } from "./webhook-request.js";

export type ChannelStatus = { readonly on: true; readonly path: string; readonly api: string } | { readonly on: false; readonly path: string; readonly reason: string };

/** Knobs for tests and the bench; production runs on the defaults. */
export interface ServerOptions {
  /** The Octokit class Probot builds clients from (retry and throttling settings). */
  readonly githubOctokit?: typeof ProbotOctokit;
  readonly gitlabRetry?: RetryPolicy;
  readonly gitlabRateLimits?: Record<string, number>;
  readonly gitlabVersionWait?: VersionWait;
  readonly limits?: ForgeLimits;
  /** Answer 202 when a review takes longer than this (GitHub and GitLab give up after 10 s). */
  readonly responseTimeoutMs?: number;
  /** Largest body accepted, before anything is parsed. */
  readonly maxBodyBytes?: number;
  /** How long stop() lets deliveries in hand finish before recording them as failed. */
  readonly shutdownGraceMs?: number;
  /** The mail channel's state for /healthz, when it runs in the same process. */
  readonly mail?: MailHealth;
  /** The port, already taken (bindHttp); otherwise startServer takes it first. */
  readonly bound?: BoundServer;
  /** Worker threads for reviews; 0 reviews on the HTTP thread. Default: one per spare core, up to four. */
  readonly reviewWorkers?: number;
}

export interface RunningServer extends Running {
  readonly url: string;
  readonly port: number;
  readonly channels: Readonly<Record<"github" | "gitlab", ChannelStatus>>;
  readonly counters: Readonly<Record<"github" | "gitlab", ChannelStats>>;
  /** Resolves when no review is in flight (tests, shutdown). */
  idle(): Promise<void>;
}

const RESPONSE_TIMEOUT_MS = 9_000;
/** Deliveries in hand at SIGTERM get this long to finish; the rest are recorded as failed. */
export const SHUTDOWN_GRACE_MS = 10_000;

const json = (res: ServerResponse, status: number, body: Readonly<Record<string, unknown>>) => answer(res, { status, body });

/** The env variables a channel lacks, said the way an operator fixes them. */
function missing(pairs: readonly [string, string | undefined][]): string | undefined {
  const gone = pairs.filter(([, v]) => !v).map(([k]) => k);
  return gone.length === 0 ? undefined : `${gone.join(", ")} not set`;
}

/**
 * What Probot throws on (a 500) before any handler runs: an empty X-GitHub-Event ("Event name not
 * passed"), and an `installation.id` that is not a number, which its auth needs. No installation
 * at all is a user webhook, which the channel skips itself.
 */
function malformedGithubDelivery(headers: IncomingHttpHeaders, payload: Readonly<Record<string, unknown>>): HttpAnswer | undefined {
  if (!header(headers, "x-github-event")?.trim()) return { status: 400, body: { error: "unknown-event", detail: "X-GitHub-Event is missing or empty" } };
  const installation = payload["installation"];
  if (installation === undefined || installation === null) return undefined;
  const id = typeof installation === "object" && !Array.isArray(installation) ? (installation as Record<string, unknown>)["id"] : undefined;
  if (typeof id === "number" && Number.isSafeInteger(id) && id > 0) return undefined;
  return { status: 400, body: { error: "unknown-event", detail: "installation.id is not a positive whole number" } };
}

/** A PEM in one env line arrives with `\n` escaped, or base64-encoded; Probot's CLI accepts both. */
function normalisePrivateKey(key: string): string {
  if (key.includes("-----BEGIN")) return key.replace(/\\n/g, "\n");
  const decoded = Buffer.from(key, "base64").toString("utf8");
  return decoded.includes("-----BEGIN") ? decoded : key;
}

/** Said at start rather than at the first delivery, when the app would fail to get a token. */
function privateKeyProblem(key: string): string | undefined {
  try {
    createPrivateKey(normalisePrivateKey(key));
    return undefined;
  } catch (err) {
    return `PRIVATE_KEY is not a PEM private key (${(err as Error).message})`;
  }
}

/**
 * One HTTP server for both forges: GitHub deliveries on Probot's path (signature checked here
 * first, so a wrong one is a 401 before Probot sees it), GitLab deliveries on
 * /api/gitlab/webhooks, and GET /healthz. A channel without its credentials is off and says why.
 */
export async function startServer(ctx: ChannelContext, opts: ServerOptions = {}): Promise<RunningServer> {
  const bound = opts.bound ?? (await bindHttp(ctx.config.http));
  try {
    return await serve(ctx, opts, bound);
  } catch (err) {
    await bound.close();
    throw err;
  }
}

async function serve(ctx: ChannelContext, opts: ServerOptions, bound: BoundServer): Promise<RunningServer> {
  const log = ctx.log.child({ component: "http" });
  const counters = { github: new ChannelStats(), gitlab: new ChannelStats() };
  const serial = new Serial();
  const deliveries = new DeliveryGate(ctx.store);
  const limits = opts.limits ?? FORGE_LIMITS;
  const maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const timeoutMs = opts.responseTimeoutMs ?? RESPONSE_TIMEOUT_MS;
  const started = Date.now();
  const pool = await startReviewPool(opts.reviewWorkers ?? defaultPoolSize(), ctx.review, log, { budgetMs: ctx.config.reviewBudgetMs });
  const durations = new Histogram();
  let reviewsQueued = 0;
  // Every forge review goes through here: timed from the ask (queueing included), counted until done.
  const review: typeof pool.review = async (series) => {
    const t0 = performance.now();
    reviewsQueued++;
    try {
      return await pool.review(series);
    } finally {
      reviewsQueued--;
      durations.observe((performance.now() - t0) / 1000);
    }
  };
  const inflight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    return p;
  };

  const gh = ctx.config.github;
  const ghOff = missing([
    ["APP_ID", gh.appId],
    ["PRIVATE_KEY", gh.privateKey],
    ["WEBHOOK_SECRET", gh.webhookSecret],
  ]);
  let github: ChannelStatus;
  let githubMiddleware: Awaited<ReturnType<typeof createNodeMiddleware>> | undefined;
  const badKey = ghOff ? undefined : privateKeyProblem(gh.privateKey!);
  if (ghOff || badKey) github = { on: false, path: GITHUB_WEBHOOK_PATH, reason: (ghOff ?? badKey)! };
  else {
    const probot = new Probot({
      appId: gh.appId!,
      privateKey: normalisePrivateKey(gh.privateKey!),
      secret: gh.webhookSecret!,
      log: ctx.log.child({ name: "probot" }),
      ...(gh.baseUrl ? { baseUrl: gh.baseUrl } : {}),
      ...(opts.githubOctokit ? { Octokit: opts.githubOctokit } : {}),
    });
    githubMiddleware = await createNodeMiddleware(githubApp({ store: ctx.store, review, track: pool.track, log: ctx.log, counters: counters.github, serial, deliveries, limits }), {
      probot,
      webhooksPath: GITHUB_WEBHOOK_PATH,
    });
    github = { on: true, path: GITHUB_WEBHOOK_PATH, api: gh.baseUrl ?? "https://api.github.com" };
  }

  const gl = ctx.config.gitlab;
  const glOff = missing([
    ["GITLAB_TOKEN", gl.token],
    ["GITLAB_WEBHOOK_SECRET", gl.webhookSecret],
  ]);
  const gitlabUrl = gl.url ?? "https://gitlab.com";
  let gitlab: ChannelStatus;
  let gitlabAdmit: ((headers: IncomingHttpHeaders) => GitlabAdmission) | undefined;
  if (glOff) gitlab = { on: false, path: GITLAB_WEBHOOK_PATH, reason: glOff };
  else {
    const api = gitlabClient({ url: gitlabUrl, token: gl.token!, ...(opts.gitlabRateLimits ? { rateLimits: opts.gitlabRateLimits } : {}), ...(opts.gitlabRetry ? { retry: opts.gitlabRetry } : {}) }, ctx.log);
    gitlabAdmit = gitlabChannel({
      secret: gl.webhookSecret!,
      api,
      store: ctx.store,
      review,
      track: pool.track,
      log: ctx.log,
      counters: counters.gitlab,
      serial,
      deliveries,
      limits,
      ...(opts.gitlabVersionWait ? { versionWait: opts.gitlabVersionWait } : {}),
    });
    gitlab = { on: true, path: GITLAB_WEBHOOK_PATH, api: gitlabUrl };
  }

  const metrics = () =>
    renderMetrics({
      counters,
      channelsOn: { github: github.on, gitlab: gitlab.on },
      storeOk: storeState()["ok"] === true,
      reviewWorkers: pool.size,
      reviewDurations: durations,
      reviewsQueued,
      deliveriesInHand: inflight.size,
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      mail: opts.mail?.report(),
    });

  const storeState = (): Record<string, unknown> => {
    try {
      const row = ctx.store.db.prepare("SELECT MAX(version) AS v FROM schema_version").get() as { v: number };
      return { ok: true, schemaVersion: row.v };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  };

  const health = () => {
    const store = storeState();
    return {
      status: store["ok"] ? "ok" : "degraded",
      channels: { github, gitlab },
      store,
      reviewWorkers: pool.size,
      counters: { github: counters.github.toJSON(), gitlab: counters.gitlab.toJSON() },
      mail: opts.mail?.report() ?? { on: false, reason: "the mail channel does not run in this process" },
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
    };
  };

  // Webhook requests not yet answered: a shutdown that gives up on them answers 503 (the forge retries).
  const unanswered = new Set<ServerResponse>();

  /** Answer within the forge's patience: 202 if the review is still running, then let it finish. */
  const answerInTime = async (res: ServerResponse, work: Promise<HttpAnswer>) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<HttpAnswer>((resolve) => {
      timer = setTimeout(() => resolve({ status: 202, body: { accepted: "still processing" } }), timeoutMs);
    });
    const a = await Promise.race([work, late]);
    clearTimeout(timer);
    answer(res, a);
  };

  /** The body, unless its declared length or its bytes pass the limit (then it is refused, unread). */
  const bodyOf = async (req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined> => {
    const declared = declaredTooLarge(req.headers, maxBody);
    if (declared) return void refuse(res, declared);
    const read = await readBody(req, maxBody);
    if (!read.ok) return void refuse(res, read.answer);
    return read.body;
  };

  /** GitHub, from the headers alone: a signature header in the form GitHub sends, and JSON. */
  const admitGithub = (headers: IncomingHttpHeaders): HttpAnswer | undefined => {
    if (!/^sha256=[0-9a-f]{64}$/i.test(header(headers, "x-hub-signature-256") ?? "")) {
      counters.github.rejected++;
      log.warn({ channel: "github", delivery: headers["x-github-delivery"] }, "github: missing or malformed X-Hub-Signature-256, rejected");
      return { status: 401, body: { error: "bad-signature" } };
    }
    if (!isJsonContent(headers)) {
      counters.github.malformed++;
      return NOT_JSON;
    }
    return undefined;
  };

  const webhook = async (path: string, req: IncomingMessage, res: ServerResponse) => {
    // Every request on a forge's path counts as received, refused or not, the same for both.
    counters[path === GITLAB_WEBHOOK_PATH ? "gitlab" : "github"].received++;
    if (path === GITLAB_WEBHOOK_PATH) {
      if (!gitlabAdmit || gitlab.on === false) return refuse(res, { status: 503, body: { error: "channel-off", detail: gitlab.on ? "" : gitlab.reason } });
      const admission = gitlabAdmit(req.headers);
      if (!admission.ok) return refuse(res, admission.answer);
      const body = await bodyOf(req, res);
      if (body) await answerInTime(res, track(admission.receive(body)));
      return;
    }
    if (!githubMiddleware || github.on === false) return refuse(res, { status: 503, body: { error: "channel-off", detail: github.on ? "" : github.reason } });
    const refused = admitGithub(req.headers);
    if (refused) return refuse(res, refused);
    const body = await bodyOf(req, res);
    if (!body) return;
    // Verify before parsing; Probot would answer 400 to a wrong signature, the channel answers 401.
    if (!verifyGithubSignature(body, header(req.headers, "x-hub-signature-256"), gh.webhookSecret!)) {
      counters.github.rejected++;
      log.warn({ channel: "github", delivery: req.headers["x-github-delivery"] }, "github: wrong X-Hub-Signature-256, rejected");
      return json(res, 401, { error: "bad-signature" });
    }
    const parsed = parseJsonObject(body);
    const malformed = parsed.ok ? malformedGithubDelivery(req.headers, parsed.value) : parsed.answer;
    if (malformed) {
      counters.github.malformed++;
      return answer(res, malformed);
    }
    // Probot's middleware reads a body already taken off the stream from `req.body`.
    (req as IncomingMessage & { body?: string }).body = body.toString("utf8");
    await track(Promise.resolve(githubMiddleware(req, res, () => json(res, 404, { error: "not found" }))));
  };

  const pages = pagesRoute(ctx.store);
  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    if (pages(req, res, url)) return;
    if (path === "/healthz") {
      if (req.method !== "GET" && req.method !== "HEAD") return refuse(res, { status: 405, body: { error: "method not allowed" } });
      const h = health();
      return json(res, h.store["ok"] ? 200 : 503, h);
    }
    if (path === "/metrics") {
      if (req.method !== "GET" && req.method !== "HEAD") return refuse(res, { status: 405, body: { error: "method not allowed" } });
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(metrics());
      return;
    }
    if (path !== GITLAB_WEBHOOK_PATH && path !== GITHUB_WEBHOOK_PATH) return refuse(res, { status: 404, body: { error: "not found" } });
    if (req.method !== "POST") return refuse(res, { status: 405, body: { error: "method not allowed" } });
    unanswered.add(res);
    res.once("close", () => unanswered.delete(res));
    await webhook(path, req, res);
  };

  const { server, port, url } = bound;
  bound.attach((req, res) => {
    route(req, res).catch((err: unknown) => {
      log.error({ err: (err as Error).message, url: req.url }, "http: request failed");
      json(res, 500, { error: "internal" });
    });
  });
  for (const [name, s] of Object.entries({ github, gitlab })) {
    if (s.on) log.info({ channel: name, path: s.path, api: s.api }, `${name} channel on: POST ${url}${s.path}`);
    else log.warn({ channel: name, reason: s.reason }, `${name} channel off: ${s.reason}`);
  }
  log.info({ url }, `http: listening on ${url} (GET /healthz, /metrics, /reviews)`);
  const idle = async () => {
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
  };
  const graceMs = opts.shutdownGraceMs ?? SHUTDOWN_GRACE_MS;
  return {
    name: "http",
    url,
    port,
    channels: { github, gitlab },
    counters,
    idle,
    async stop() {
      // Stop accepting first; deliveries in hand get the grace time to finish.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inflight.size > 0) log.info({ deliveries: inflight.size, graceMs }, `http: stopping; waiting up to ${graceMs} ms for deliveries in hand`);
      if (!(await settlesWithin(graceMs, idle()))) {
        const given = deliveries.abandon(`interrupted: the bot stopped before this delivery was done (${graceMs} ms grace); a redelivery retries it`);
        log.warn({ deliveries: given }, `http: ${given.length} ${given.length === 1 ? "delivery" : "deliveries"} not done at shutdown, recorded as failed for a redelivery to retry`);
        const gone = { status: 503, body: { error: "shutting-down", detail: "the bot stopped before this delivery was done; send it again" } };
        for (const res of unanswered) refuse(res, gone);
        // The 503s are written before the connections are closed under them.
        await new Promise((r) => setImmediate(r));
      }
      server.closeAllConnections();
      await closed;
      await pool.close();
    },
  };
}

/** Resolves true when `p` settles within `ms`, false otherwise; the timer never holds the process. */
export function settlesWithin(ms: number, p: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  return Promise.race([p.then(() => true, () => true), late]).finally(() => clearTimeout(timer));
}
