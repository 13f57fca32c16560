import { createHmac } from "node:crypto";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { pushFromMbox, type Push } from "../test/peers/forge-series.js";
import { example } from "../test/peers/github-hooks.js";
import { GithubStandin, type PullState } from "../test/peers/github-standin.js";
import { mergeRequestHook, PROJECT } from "../test/peers/gitlab-hooks.js";
import { GitlabStandin, type MergeRequestState } from "../test/peers/gitlab-standin.js";
import { BENCH_GITHUB_SECRET, BENCH_GITLAB_SECRET, type RunResult } from "./forge-protocol.js";

/**
 * The forges' side of the forge bench, in its own process so the bot's process holds only the
 * bot: the GitHub and GitLab stand-ins, and the load generator. Send times and the stand-ins'
 * receive times are taken on this one clock. Talks to the parent over IPC:
 *   → { kind: "peers", github, gitlab, privateKey, findings... }   ← { kind: "run", url, ... }
 *   → { kind: "result", name, ... }
 */

/** Only patch 1 of the series: the attach gate and its findings. A typical patch. */
export function typicalPatch(series: Push): Push {
  return { ...series, title: "dma-buf: add dma_coherent flag", files: series.files.filter((f) => /^(drivers\/dma-buf\/dma-buf\.c|include\/linux\/dma-buf\.h)$/.test(f.newPath ?? "")) };
}

const send = (m: unknown) => process.send!(m);

async function main() {
  const series = await pushFromMbox(fileURLToPath(new URL("../../fixtures/series/dma-coherent-v1.mbox", import.meta.url)));
  const patch = typicalPatch(series);
  const gh = await GithubStandin.start();
  const gl = await GitlabStandin.start();
  gh.pullFactory = (owner, repo, number): PullState => ({ owner, repo, number, title: patch.title, body: "", state: "open", push: patch, comments: [], reviews: [] });
  gl.mrFactory = (projectId, iid): MergeRequestState => gl.push(projectId, PROJECT.path, iid, patch);
  const firstPost = { github: new Map<number, number>(), gitlab: new Map<number, number>() };
  gh.onRequest = (r) => {
    const m = /\/pulls\/(\d+)\/reviews$/.exec(r.path);
    if (m && r.method === "POST" && !firstPost.github.has(Number(m[1]))) firstPost.github.set(Number(m[1]), r.at);
  };
  gl.onRequest = (r) => {
    const m = /\/merge_requests\/(\d+)\/discussions$/.exec(r.path);
    if (m && r.method === "POST" && !firstPost.gitlab.has(Number(m[1]))) firstPost.gitlab.set(Number(m[1]), r.at);
  };

  const bodies = {
    github: (n: number) => {
      const p = example("opened");
      p.number = n;
      p.pull_request.number = n;
      p.pull_request.head.sha = patch.headSha;
      p.pull_request.base.sha = patch.baseSha;
      return JSON.stringify(p);
    },
    gitlab: (n: number) => {
      const p = mergeRequestHook("open", patch) as { object_attributes: { iid: number; url: string } };
      p.object_attributes.iid = n;
      p.object_attributes.url = `https://gitlab.example.org/${PROJECT.path}/-/merge_requests/${n}`;
      return JSON.stringify(p);
    },
  };
  const headers = {
    github: (b: string, n: number) => ({
      "content-type": "application/json",
      "x-github-event": "pull_request",
      "x-github-delivery": `bench-${n}`,
      "x-hub-signature-256": `sha256=${createHmac("sha256", BENCH_GITHUB_SECRET).update(b).digest("hex")}`,
    }),
    gitlab: (_b: string, n: number) => ({ "content-type": "application/json", "x-gitlab-event": "Merge Request Hook", "x-gitlab-token": BENCH_GITLAB_SECRET, "idempotency-key": `bench-${n}` }),
  };
  const paths = { github: "/api/github/webhooks", gitlab: "/api/gitlab/webhooks" };

  process.on("message", async (m: { kind: string; url: string; name: "github" | "gitlab"; rate: number; seconds: number; warmup?: number }) => {
    if (m.kind === "stop") {
      await gh.close();
      await gl.close();
      process.exit(0);
    }
    if (m.kind !== "run") return;
    const name = m.name;
    // Warm-up deliveries, one at a time and not measured: installation token, caches, JIT.
    for (let i = 0; i < (m.warmup ?? 0); i++) {
      const b = bodies[name](1_000_000 + i);
      await fetch(`${m.url}${paths[name]}`, { method: "POST", headers: headers[name](b, 1_000_000 + i), body: b });
    }
    const findings = name === "github" ? (gh.requests.find((r) => r.method === "POST" && r.path.endsWith("/reviews"))?.body?.comments?.length ?? 0) : gl.discussionsOf(PROJECT.id, 1_000_000).length - 1;
    firstPost[name].clear();
    const result = await drive(m.url, name, m.rate, m.seconds, paths[name], bodies[name], headers[name], firstPost[name]);
    send({ ...result, findings } satisfies RunResult);
  });
  send({ kind: "peers", github: gh.url, gitlab: gl.url, privateKey: gh.privateKey });
}

/**
 * `rate` autocannon clients of one connection each, at one request a second, started 1/rate
 * seconds apart: one delivery every 1/rate seconds, evenly, as independent pushes arrive (one
 * client at `rate` per second would send them back to back at the top of each second). Each
 * delivery is a new pull or merge request, so each one posts.
 */
async function drive(url: string, name: string, rate: number, seconds: number, path: string, body: (n: number) => string, headers: (b: string, n: number) => Record<string, string>, firstPost: Map<number, number>): Promise<Omit<RunResult, "findings">> {
  const sentAt = new Map<number, number>();
  const http: number[] = [];
  let n = 1;
  let non2xx = 0;
  let errors = 0;
  let answered = 0;
  const clients: Promise<unknown>[] = [];
  for (let c = 0; c < rate; c++) {
    clients.push(
      new Promise((resolve) => {
        const instance = autocannon({
          url,
          connections: 1,
          overallRate: 1,
          duration: seconds,
          requests: [
            {
              method: "POST",
              path,
              setupRequest: (req: Record<string, unknown>) => {
                const id = n++;
                const b = body(id);
                sentAt.set(id, performance.now());
                return { ...req, body: b, headers: headers(b, id) };
              },
            },
          ],
        });
        instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
          answered++;
          http.push(ms);
          if (status < 200 || status >= 300) non2xx++;
        });
        instance.on("reqError", () => errors++);
        instance.on("done", resolve);
      }),
    );
    await new Promise((r) => setTimeout(r, 1000 / rate));
  }
  await Promise.all(clients);
  // What is still in flight when the clients stop is given a moment to land.
  await new Promise((r) => setTimeout(r, 2000));
  const latencies = [...sentAt].flatMap(([id, t]) => (firstPost.has(id) ? [firstPost.get(id)! - t] : []));
  const times = [...sentAt.values()];
  const achieved = times.length > 1 ? ((times.length - 1) * 1000) / (Math.max(...times) - Math.min(...times)) : 0;
  return { kind: "result", name, rate, seconds, sent: sentAt.size, achieved, answered, posted: latencies.length, latencies, http, non2xx, errors };
}

await main();
