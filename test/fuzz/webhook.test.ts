import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe } from "vitest";
import { readGitlabEvent } from "../../src/ingest/gitlab/merge-request-event.js";
import { GITHUB_SECRET, GITLAB_SECRET, startForgeServer, type ForgeServer } from "../peers/forge-server.js";
import { GithubStandin } from "../peers/github-standin.js";
import { GitlabStandin } from "../peers/gitlab-standin.js";
import { delivery, type Delivery } from "./gen/webhook.js";
import { fuzz, invariant, statusFailure, threw, withinBudget, type Failure } from "./harness.js";
import { knownBugs, PROPERTY } from "./known-bugs.js";

/** Above the server's own 9 s answer-in-time: a delivery never waits longer than that for its answer. */
const DELIVERY_BUDGET_MS = 15_000;

/**
 * Whether a GitLab body is an event the channel goes on to review or track: then a 502 is its
 * answer to the stand-in API not knowing the merge request, which GitLab retries; for anything
 * else a 5xx is the server failing on input.
 */
function gitlabEventIsValid(d: Delivery): boolean {
  try {
    return readGitlabEvent(d.headers["x-gitlab-event"], JSON.parse(d.body), "fuzz").kind !== "ignore";
  } catch {
    return false;
  }
}

describe("fuzz: webhooks", () => {
  let gh: GithubStandin;
  let gl: GitlabStandin;
  let fs: ForgeServer;

  beforeAll(async () => {
    [gh, gl] = await Promise.all([GithubStandin.start(), GitlabStandin.start()]);
    fs = await startForgeServer({ github: gh, gitlab: gl });
  });
  afterAll(async () => {
    await fs?.close();
    await Promise.all([gh?.close(), gl?.close()]);
  });

  async function deliver(d: Delivery): Promise<Failure | undefined> {
    const headers: Record<string, string> = { ...d.headers };
    if (d.forge === "github") headers["x-hub-signature-256"] = `sha256=${createHmac("sha256", GITHUB_SECRET).update(d.body, "utf8").digest("hex")}`;
    else headers["x-gitlab-token"] = GITLAB_SECRET;
    const route = `POST /api/${d.forge}/webhooks`;
    let status: number;
    let text: string;
    try {
      const res = await fetch(`${fs.server.url}/api/${d.forge}/webhooks`, { method: "POST", headers, body: d.body });
      status = res.status;
      text = await res.text();
    } catch (err) {
      return threw(err, `${route}: `);
    }
    const upstream = d.forge === "gitlab" && status === 502 && gitlabEventIsValid(d);
    if (status >= 500 && !upstream) return statusFailure(status, text, route);
    if (status >= 400 && status < 500) {
      let error: unknown;
      try {
        error = (JSON.parse(text) as { error?: unknown }).error;
      } catch {
        error = undefined;
      }
      if (typeof error !== "string") return invariant(`${route} refused without a JSON reason`, `${status} ${text.slice(0, 200)}`);
    }
    // The server is still up and answering after whatever it was given.
    const health = await fetch(`${fs.server.url}/healthz`).catch((err: unknown) => err as Error);
    if (health instanceof Error || health.status !== 200) return invariant("server down after a delivery", health instanceof Error ? health.message : String(health.status));
    return undefined;
  }

  fuzz({
    name: PROPERTY.webhooks,
    arbitrary: delivery,
    ciRuns: 160,
    knownBugs: knownBugs(PROPERTY.webhooks),
    async check(d, tally) {
      const { value, slow } = await withinBudget(DELIVERY_BUDGET_MS, async () => {
        const f = await deliver(d);
        // The server logs every delivery at info level; a long run must not keep them all.
        fs.logs.length = 0;
        tally(`${d.forge} ${f ? f.kind : "answered"}`);
        return f;
      });
      return value ?? slow;
    },
  });
});
