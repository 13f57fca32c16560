import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { ProbotOctokit } from "probot";
import { pino } from "pino";
import { afterEach, beforeEach } from "vitest";
import { loadReviewDeps, type ChannelContext, type ReviewDeps } from "../../src/channels/context.js";
import { startServer, type RunningServer, type ServerOptions } from "../../src/channels/server.js";
import { loadConfig } from "../../src/config/config.js";
import { forgeSeries, type ForgeFile } from "../../src/ingest/forge/revision.js";
import type { Finding } from "../../src/review/finding.js";
import { reviewSeries } from "../../src/review/review-series.js";
import { Store } from "../../src/state/store.js";
import type { Push } from "./forge-series.js";
import { APP_ID, type GithubStandin } from "./github-standin.js";
import { GITLAB_TOKEN, GitlabStandin } from "./gitlab-standin.js";

export const GITHUB_SECRET = "github-webhook-secret";
export const GITLAB_SECRET = "gitlab-webhook-secret";

let deps: Promise<ReviewDeps> | undefined;

/** Rules, catalog and parser, loaded once per test file (as the bot loads them once per process). */
export function reviewDeps(): Promise<ReviewDeps> {
  deps ??= loadReviewDeps();
  return deps;
}

/**
 * Retries that happen within the test's patience: the behaviour is octokit's, only the waits
 * shrink. The throttling plugin's pacing (one write a second per installation, three seconds
 * between review posts) is off; Probot sets its own throttle options, so this has to run after
 * Probot's defaults, hence the function form.
 */
export const TEST_OCTOKIT = ProbotOctokit.defaults((options: Record<string, any>) => ({
  ...options,
  retry: { ...options["retry"], retryAfterBaseValue: 1 },
  throttle: { ...options["throttle"], enabled: false },
}));

export interface ForgeServer {
  readonly server: RunningServer;
  readonly store: Store;
  readonly logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * The real server on port 0, configured the way an operator does it (environment variables
 * through loadConfig), its API base URLs pointing at the stand-ins, its log kept for assertions.
 */
export async function startForgeServer(peers: { github?: GithubStandin; gitlab?: GitlabStandin }, opts: ServerOptions = {}, extraEnv: NodeJS.ProcessEnv = {}): Promise<ForgeServer> {
  const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-forge-"));
  const env: NodeJS.ProcessEnv = { PORT: "0", HOST: "127.0.0.1", ...extraEnv };
  if (peers.github) {
    Object.assign(env, { APP_ID: String(APP_ID), PRIVATE_KEY: peers.github.privateKey, WEBHOOK_SECRET: GITHUB_SECRET, GHE_HOST: new URL(peers.github.url).host, GHE_PROTOCOL: "http" });
  }
  if (peers.gitlab) Object.assign(env, { GITLAB_URL: peers.gitlab.url, GITLAB_TOKEN, GITLAB_WEBHOOK_SECRET: GITLAB_SECRET });
  const config = { ...(await loadConfig(undefined, env)), dataDir: dir };
  const store = Store.open(join(dir, "state.db"));
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const log = pino({ level: process.env["TEST_LOG_LEVEL"] ?? "info", base: undefined }, sink);
  const ctx: ChannelContext = { config, store, review: await reviewDeps(), log };
  // Reviews on the HTTP thread unless a test asks for workers: a worker loads rules and parser anew.
  const server = await startServer(ctx, { reviewWorkers: 0, githubOctokit: TEST_OCTOKIT, gitlabRetry: { retries: 3, baseMs: 5, maxMs: 50 }, gitlabVersionWait: { tries: 3, delayMs: 10 }, ...opts });
  return {
    server,
    store,
    logs,
    async close() {
      await server.stop();
      store.close();
    },
  };
}

/** The findings the core gives for a push, built the way the forge ingest builds the series. */
export async function expectedFindings(push: Push): Promise<Finding[]> {
  const deps = await reviewDeps();
  const files: ForgeFile[] = push.files.map((f) => ({ oldPath: f.oldPath, newPath: f.newPath, status: f.status === "binary" ? "modified" : f.status, hunks: f.hunks, binary: false, tooLarge: false }));
  const { series } = forgeSeries({ id: "x", title: push.title, description: "", author: { name: "a", email: "a@b" }, date: undefined, revision: 1, url: "x" }, files);
  return reviewSeries(series!, deps.rules, deps.parser, deps.model).patches.flatMap((p) => p.findings);
}

/** A GitLab stand-in and the service in front of it, started afresh for each test of the calling block. */
export function gitlabForgeEachTest(): { readonly gl: GitlabStandin; readonly fs: ForgeServer } {
  const forge = {} as { gl: GitlabStandin; fs: ForgeServer };
  beforeEach(async () => {
    forge.gl = await GitlabStandin.start();
    forge.fs = await startForgeServer({ gitlab: forge.gl });
  });
  afterEach(async () => {
    await forge.fs.close();
    await forge.gl.close();
  });
  return forge;
}
