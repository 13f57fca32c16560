import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { ProbotOctokit } from "probot";
import { loadReviewDeps } from "../src/channels/context.js";
import { startServer, type RunningServer } from "../src/channels/server.js";
import { loadConfig } from "../src/config/config.js";
import { Store } from "../src/state/store.js";
import { APP_ID } from "../test/peers/github-standin.js";
import { GITLAB_TOKEN } from "../test/peers/gitlab-standin.js";
import { BENCH_GITHUB_SECRET, BENCH_GITLAB_SECRET, type RunResult } from "./forge-protocol.js";

const RATE = Number(process.env["BENCH_FORGE_RATE"] ?? 50);
const SECONDS = Number(process.env["BENCH_FORGE_SECONDS"] ?? 10);
const TARGET_P99_MS = 500;

async function reviewWorkers(server: RunningServer): Promise<number> {
  return ((await (await fetch(`${server.url}/healthz`)).json()) as { reviewWorkers: number }).reviewWorkers;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function report(r: RunResult): string {
  const p50 = percentile(r.latencies, 50);
  const p99 = percentile(r.latencies, 99);
  return (
    `  ${r.name.padEnd(18)} ${p50.toFixed(0).padStart(6)} ms  p50 webhook -> first posted comment, p99 ${p99.toFixed(0)} ms (target p99 < ${TARGET_P99_MS} ms: ${p99 < TARGET_P99_MS ? "met" : "MISSED"}); ` +
    `${r.sent} sent (${r.achieved.toFixed(1)}/s), ${r.posted} reviews posted, ${r.non2xx} non-2xx, ${r.errors} errors; ` +
    `HTTP answer p50 ${percentile(r.http, 50).toFixed(0)} ms, p99 ${percentile(r.http, 99).toFixed(0)} ms (${r.answered} answers before the clients stopped); ` +
    `bot CPU ${r.cpuPerDelivery?.toFixed(1)} ms per delivery (all threads)`
  );
}

/**
 * The forge channels under load: the real server in this process, and in a child process the
 * GitHub and GitLab stand-ins and the load generator (autocannon), which sends correctly signed
 * deliveries for a typical patch at RATE per second and times each one to its first comment.
 */
export async function benchForges(): Promise<void> {
  const child = fork(fileURLToPath(new URL("./forge-load.js", import.meta.url)), [], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: [] });
  const next = <T>(kind: string) => new Promise<T>((resolve) => {
    const on = (m: { kind: string }) => {
      if (m.kind !== kind) return;
      child.off("message", on);
      resolve(m as T);
    };
    child.on("message", on);
  });
  const peers = await next<{ github: string; gitlab: string; privateKey: string }>("peers");
  const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-bench-"));
  const env = {
    HOST: "127.0.0.1",
    PORT: "0",
    APP_ID: String(APP_ID),
    PRIVATE_KEY: peers.privateKey,
    WEBHOOK_SECRET: BENCH_GITHUB_SECRET,
    GHE_HOST: new URL(peers.github).host,
    GHE_PROTOCOL: "http",
    GITLAB_URL: peers.gitlab,
    GITLAB_TOKEN,
    GITLAB_WEBHOOK_SECRET: BENCH_GITLAB_SECRET,
  };
  const config = { ...(await loadConfig(undefined, env)), dataDir: dir };
  const store = Store.open(join(dir, "state.db"));
  let server: RunningServer | undefined;
  try {
    server = await startServer(
      { config, store, review: await loadReviewDeps(), log: pino({ level: "silent" }) },
      {
        // GitHub paces content-creating requests (octokit's throttling: a write a second per
        // installation, three seconds between reviews), which no bot can outrun; the stand-in
        // does not, and the bench measures the bot. Retries stay on.
        githubOctokit: ProbotOctokit.defaults((o: Record<string, any>) => ({ ...o, throttle: { ...o["throttle"], enabled: false } })),
        // gitbeaker's own client-side budget (3000 requests a minute) would queue the bench itself.
        gitlabRateLimits: { "**": 1_000_000 },
        ...(process.env["BENCH_REVIEW_WORKERS"] ? { reviewWorkers: Number(process.env["BENCH_REVIEW_WORKERS"]) } : {}),
      },
    );
    const results: RunResult[] = [];
    const forges = (process.env["BENCH_FORGES"] ?? "github,gitlab").split(",").filter((f): f is "github" | "gitlab" => f === "github" || f === "gitlab");
    for (const name of forges) {
      const result = next<RunResult>("result");
      const warmup = 20;
      child.send({ kind: "run", url: server.url, name, rate: RATE, seconds: SECONDS, warmup });
      const cpu0 = process.cpuUsage();
      const r = await result;
      await server.idle();
      const cpu = process.cpuUsage(cpu0);
      // Every delivery sent, the warm-up ones included, was reviewed and posted in this span.
      r.cpuPerDelivery = (cpu.user + cpu.system) / 1000 / (r.posted + warmup);
      results.push(r);
    }
    console.log(
      `forge webhooks       ${RATE} deliveries/s for ${SECONDS} s per forge, evenly spaced (${RATE} autocannon clients at 1/s, started ${(1000 / RATE).toFixed(0)} ms apart), ` +
        `signed, on loopback; stand-ins and load in a child process; a typical patch, "dma-buf: add dma_coherent flag" (2 files, ${results[0]!.findings} findings)`,
    );
    for (const r of results) console.log(report(r));
    // The bench shares the machine; what other processes took shows in the load average.
    console.log(`  machine            ${availableParallelism()} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}; ${await reviewWorkers(server)} review worker thread(s) in the bot`);
  } finally {
    child.send({ kind: "stop" });
    await server?.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
