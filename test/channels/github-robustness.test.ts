import { ProbotOctokit } from "probot";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readMarker, readMarkers } from "../../src/review/render/markdown.js";
import { expectedFindings, reviewDeps, startForgeServer, type ForgeServer } from "../peers/forge-server.js";
import { pushFromMbox, type Push } from "../peers/forge-series.js";
import { deliverGithub, NUMBER, OWNER, payloadFor, REPO } from "../peers/github-hooks.js";
import { GithubStandin } from "../peers/github-standin.js";

const PR = `/repos/${OWNER}/${REPO}/pulls/${NUMBER}`;

describe("GitHub channel: failures, retries and exactly-once posting", () => {
  let gh: GithubStandin;
  let fs: ForgeServer;
  let v1: Push;
  let expected: Awaited<ReturnType<typeof expectedFindings>>;

  beforeAll(async () => {
    v1 = await pushFromMbox();
    expected = await expectedFindings(v1);
    await reviewDeps();
  });

  beforeEach(async () => {
    gh = await GithubStandin.start();
    gh.push(OWNER, REPO, NUMBER, v1);
  });

  afterEach(async () => {
    await fs?.close();
    await gh.close();
  });

  const reviewPosts = () => gh.requests.filter((r) => r.method === "POST" && r.path === `${PR}/reviews`);

  it("retries a server error from the API (octokit's retry plugin) and posts once", async () => {
    fs = await startForgeServer({ github: gh });
    gh.fail("GET", new RegExp(`^${PR}/files$`), 502, { times: 2 });
    expect((await deliverGithub(fs.server.url, payloadFor("opened", v1))).status).toBe(200);
    expect(gh.requests.filter((r) => r.path === `${PR}/files`)).toHaveLength(3);
    expect(reviewPosts()).toHaveLength(1);
    expect(reviewPosts()[0]!.body.comments).toHaveLength(expected.length);
  });

  it("waits out a rate limit (octokit's throttling plugin, as Probot configures it) and posts once", async () => {
    // Throttling on, as in production; only the unit of its waits shrinks from seconds to ms.
    const Octokit = ProbotOctokit.defaults((o: Record<string, any>) => ({ ...o, retry: { ...o["retry"], retryAfterBaseValue: 1 }, throttle: { ...o["throttle"], retryAfterBaseValue: 1 } }));
    fs = await startForgeServer({ github: gh }, { githubOctokit: Octokit });
    gh.fail("POST", new RegExp(`^${PR}/reviews$`), 403, {
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(Math.floor(Date.now() / 1000)) },
      body: { message: "API rate limit exceeded for installation ID 1." },
    });
    expect((await deliverGithub(fs.server.url, payloadFor("opened", v1))).status).toBe(200);
    expect(reviewPosts()).toHaveLength(2);
    expect(gh.pulls.get(`${OWNER}/${REPO}#${NUMBER}`)!.reviews).toHaveLength(1);
    expect(gh.checkRuns).toHaveLength(1);
  });

  it("says every finding in the review body when GitHub cannot resolve a line (422)", async () => {
    fs = await startForgeServer({ github: gh });
    gh.fail("POST", new RegExp(`^${PR}/reviews$`), 422, { body: { message: "Unprocessable Entity", errors: ["Line could not be resolved"] } });
    expect((await deliverGithub(fs.server.url, payloadFor("opened", v1))).status).toBe(200);
    const [first, second] = reviewPosts();
    expect(first!.body.comments).toHaveLength(expected.length);
    expect(second!.body.comments).toEqual([]);
    expect(readMarkers(second!.body.body).map((m) => (m as { fingerprint: string }).fingerprint).sort()).toEqual(expected.map((f) => f.fingerprint).sort());
    // Read back later, the findings in the body count as said: a new delivery posts nothing.
    const seen = gh.requests.length;
    expect((await deliverGithub(fs.server.url, payloadFor("reopened", v1))).status).toBe(200);
    expect(gh.requests.slice(seen).filter((r) => r.method !== "GET" && !r.path.endsWith("/access_tokens"))).toEqual([]);
  });

  it("records a failed delivery, and a redelivery of it posts what the first could not", async () => {
    fs = await startForgeServer({ github: gh });
    gh.fail("POST", new RegExp(`^${PR}/reviews$`), 500, { times: 4 });
    const id = crypto.randomUUID();
    expect((await deliverGithub(fs.server.url, payloadFor("opened", v1), { id })).status).toBe(200);
    expect(gh.pulls.get(`${OWNER}/${REPO}#${NUMBER}`)!.reviews).toHaveLength(0);
    const failedRows = fs.store.ledger.forThread("github", `${OWNER}/${REPO}#${NUMBER}`).filter((p) => p.state === "failed");
    expect(failedRows.length).toBe(expected.length);
    expect((fs.store.db.prepare("SELECT outcome FROM deliveries WHERE delivery_id = ?").get(id) as { outcome: string }).outcome).toBe(`partial: 0 posted, 0 resolved, 0 reopened, 0 already posted, ${expected.length} failed (createReview: Server Error); first push of ${OWNER}/${REPO}#${NUMBER}: no earlier push; nothing to track`);

    // GitHub's "Redeliver" sends the same delivery id; this time the API answers.
    expect((await deliverGithub(fs.server.url, payloadFor("opened", v1), { id })).status).toBe(200);
    // The first delivery did post its check run; it was posted, so only the review follows now.
    const pr = gh.pulls.get(`${OWNER}/${REPO}#${NUMBER}`)!;
    expect(pr.reviews).toHaveLength(1);
    expect(pr.comments).toHaveLength(expected.length);
  });

  it("two deliveries for one pull request at once post one review", async () => {
    fs = await startForgeServer({ github: gh });
    const [a, b] = await Promise.all([deliverGithub(fs.server.url, payloadFor("opened", v1)), deliverGithub(fs.server.url, payloadFor("reopened", v1))]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(gh.pulls.get(`${OWNER}/${REPO}#${NUMBER}`)!.reviews).toHaveLength(1);
    expect(gh.checkRuns).toHaveLength(1);
  });

  it("rebuilds what it posted from the forge when the store is lost", async () => {
    fs = await startForgeServer({ github: gh });
    expect((await deliverGithub(fs.server.url, payloadFor("opened", v1))).status).toBe(200);
    await fs.close();
    fs = await startForgeServer({ github: gh });
    const seen = gh.requests.length;
    expect((await deliverGithub(fs.server.url, payloadFor("reopened", v1))).status).toBe(200);
    const writes = gh.requests.slice(seen).filter((r) => r.method !== "GET" && !r.path.endsWith("/access_tokens"));
    // No review again, no second check run for this head.
    expect(writes).toEqual([]);
    const all = fs.store.ledger.forThread("github", `${OWNER}/${REPO}#${NUMBER}`);
    expect(all.find((p) => p.what === `check:${v1.headSha}`)).toMatchObject({ state: "posted", location: `check-run:${gh.checkRuns[0]!.id}` });
    const rows = all.filter((p) => p.what !== `check:${v1.headSha}`);
    expect(rows.map((p) => p.what).sort()).toEqual(expected.map((f) => f.fingerprint).sort());
    expect(rows.every((p) => p.state === "posted" && p.location?.startsWith("comment:"))).toBe(true);
    expect(gh.pulls.get(`${OWNER}/${REPO}#${NUMBER}`)!.comments.every((c) => readMarker(c.body)?.kind === "finding")).toBe(true);
  });

  it("skips a delivery whose head has moved on", async () => {
    fs = await startForgeServer({ github: gh });
    const stale = payloadFor("synchronize", v1);
    stale.pull_request.head.sha = "f".repeat(40);
    expect((await deliverGithub(fs.server.url, stale)).status).toBe(200);
    expect(gh.calls().map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${PR}`]);
    expect(fs.logs.find((l) => l["msg"] === "github: skipped")?.["reason"]).toBe(`head moved on from ${"f".repeat(12)} to ${v1.headSha.slice(0, 12)}`);
  });
});
