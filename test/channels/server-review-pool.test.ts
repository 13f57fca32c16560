import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMarker } from "../../src/review/render/markdown.js";
import { expectedFindings, reviewDeps, startForgeServer, type ForgeServer } from "../peers/forge-server.js";
import { pushFromMbox, type Push } from "../peers/forge-series.js";
import { deliverGithub, NUMBER, OWNER, payloadFor, REPO } from "../peers/github-hooks.js";
import { GithubStandin } from "../peers/github-standin.js";

// The server as deployed: reviews in a worker thread (the compiled copy the build leaves in dist/).
describe("one HTTP server: reviews in worker threads", () => {
  let gh: GithubStandin;
  let fs: ForgeServer;
  let v1: Push;

  beforeAll(async () => {
    v1 = await pushFromMbox();
    await reviewDeps();
    gh = await GithubStandin.start();
    fs = await startForgeServer({ github: gh }, { reviewWorkers: 1 });
  });

  afterAll(async () => {
    await fs.close();
    await gh.close();
  });

  it("posts what a review on the HTTP thread posts, and keeps /healthz answering during a review", async () => {
    expect(((await (await fetch(`${fs.server.url}/healthz`)).json()) as { reviewWorkers: number }).reviewWorkers).toBe(1);
    gh.push(OWNER, REPO, NUMBER, v1);
    const delivery = deliverGithub(fs.server.url, payloadFor("opened", v1));
    const health = await fetch(`${fs.server.url}/healthz`);
    expect(health.status).toBe(200);
    expect((await delivery).status).toBe(200);
    const comments = gh.pulls.get(`${OWNER}/${REPO}#${NUMBER}`)!.comments;
    expect(comments.map((c) => (readMarker(c.body) as { fingerprint: string }).fingerprint).sort()).toEqual((await expectedFindings(v1)).map((f) => f.fingerprint).sort());
  });
});
