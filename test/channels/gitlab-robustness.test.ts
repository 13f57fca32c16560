import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readMarker } from "../../src/review/render/markdown.js";
import { expectedFindings, reviewDeps, startForgeServer, type ForgeServer } from "../peers/forge-server.js";
import { largePush, pushFromMbox, type Push } from "../peers/forge-series.js";
import { deliverGitlab, IID, mergeRequestHook, PROJECT } from "../peers/gitlab-hooks.js";
import { GitlabStandin } from "../peers/gitlab-standin.js";

const MR = `/api/v4/projects/${PROJECT.id}/merge_requests/${IID}`;

describe("GitLab channel: failures, retries, limits and exactly-once posting", () => {
  let gl: GitlabStandin;
  let fs: ForgeServer;
  let v1: Push;
  let expected: Awaited<ReturnType<typeof expectedFindings>>;

  beforeAll(async () => {
    v1 = await pushFromMbox();
    expected = await expectedFindings(v1);
    await reviewDeps();
  });

  beforeEach(async () => {
    gl = await GitlabStandin.start();
  });

  afterEach(async () => {
    await fs?.close();
    await gl.close();
  });

  const findingDiscussions = () => gl.discussionsOf(PROJECT.id, IID).filter((d) => readMarker(d.notes[0]!.body)?.kind === "finding");

  it("retries reads on server errors and creates on rate limits, with backoff", async () => {
    fs = await startForgeServer({ gitlab: gl });
    gl.push(PROJECT.id, PROJECT.path, IID, v1);
    gl.fail("GET", /\/versions$/, 500);
    // gitbeaker retries a 429 ten times at once; the channel then backs off and tries again.
    gl.fail("POST", /\/discussions$/, 429, { times: 12, headers: { "retry-after": "0" } });
    const res = await deliverGitlab(fs.server.url, mergeRequestHook("open", v1));
    expect(res.status).toBe(200);
    expect(gl.requests.filter((r) => r.path === `${MR}/versions`)).toHaveLength(2);
    expect(gl.requests.filter((r) => r.method === "POST" && r.path === `${MR}/discussions`)).toHaveLength(12 + expected.length);
    expect(findingDiscussions()).toHaveLength(expected.length);
    expect(fs.logs.filter((l) => l["msg"] === "gitlab: API call failed, retrying").map((l) => l["call"])).toEqual(["allDiffVersions", "create"]);
  });

  it("does not repeat a create that may have landed; the redelivery posts what is missing, once", async () => {
    fs = await startForgeServer({ gitlab: gl });
    gl.push(PROJECT.id, PROJECT.path, IID, v1);
    gl.fail("POST", /\/discussions$/, 503);
    const key = crypto.randomUUID();
    const first = await deliverGitlab(fs.server.url, mergeRequestHook("open", v1), { key });
    // GitLab retries a delivery answered with an error.
    expect(first.status).toBe(502);
    expect(first.body["detail"]).toMatch(new RegExp(`^${expected.length - 1} posted, .* 1 failed \\(create discussion: `));
    expect(findingDiscussions()).toHaveLength(expected.length - 1);
    const again = await deliverGitlab(fs.server.url, mergeRequestHook("open", v1), { key });
    expect(again.status).toBe(200);
    expect(again.body["outcome"]).toBe(`1 posted, 0 resolved, 0 reopened, ${expected.length - 1} already posted; version 1 of ${PROJECT.path}!${IID}: no earlier version; nothing to track`);
    expect(findingDiscussions()).toHaveLength(expected.length);
    expect(new Set(findingDiscussions().map((d) => (readMarker(d.notes[0]!.body) as { fingerprint: string }).fingerprint)).size).toBe(expected.length);
  });

  it("still says a finding whose position GitLab refuses, as a discussion naming its place", async () => {
    fs = await startForgeServer({ gitlab: gl });
    gl.push(PROJECT.id, PROJECT.path, IID, v1);
    gl.fail("POST", /\/discussions$/, 400);
    expect((await deliverGitlab(fs.server.url, mergeRequestHook("open", v1))).status).toBe(200);
    const unplaced = findingDiscussions().filter((d) => d.notes[0]!.type === "DiscussionNote");
    expect(unplaced).toHaveLength(1);
    expect(unplaced[0]!.notes[0]!.body).toMatch(/^`[\w/.-]+:\d+` \(not a line of this diff\)/);
    expect(findingDiscussions()).toHaveLength(expected.length);
  });

  it("two deliveries for one merge request at once post once", async () => {
    fs = await startForgeServer({ gitlab: gl });
    gl.push(PROJECT.id, PROJECT.path, IID, v1);
    const [a, b] = await Promise.all([deliverGitlab(fs.server.url, mergeRequestHook("open", v1)), deliverGitlab(fs.server.url, mergeRequestHook("reopen", v1))]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(findingDiscussions()).toHaveLength(expected.length);
    expect(gl.discussionsOf(PROJECT.id, IID).filter((d) => readMarker(d.notes[0]!.body)?.kind === "summary")).toHaveLength(1);
  });

  it("rebuilds what it posted from the forge when the store is lost", async () => {
    fs = await startForgeServer({ gitlab: gl });
    gl.push(PROJECT.id, PROJECT.path, IID, v1);
    expect((await deliverGitlab(fs.server.url, mergeRequestHook("open", v1))).status).toBe(200);
    await fs.close();
    fs = await startForgeServer({ gitlab: gl });
    const seen = gl.requests.length;
    const res = await deliverGitlab(fs.server.url, mergeRequestHook("reopen", v1));
    expect(res.body["outcome"]).toBe(`0 posted, 0 resolved, 0 reopened, ${expected.length} already posted; version 1 of ${PROJECT.path}!${IID}: no earlier version; nothing to track`);
    expect(gl.requests.slice(seen).filter((r) => r.method !== "GET")).toEqual([]);
    const rows = fs.store.ledger.forThread("gitlab", `${PROJECT.path}!${IID}`);
    expect(rows.filter((p) => p.what !== "summary").map((p) => p.what).sort()).toEqual(expected.map((f) => f.fingerprint).sort());
    expect(rows.find((p) => p.what === "summary")?.location).toMatch(/^note:\d+$/);
  });

  it("reviews a large merge request within logged limits: binaries, renames, deletions, and files over the limit", async () => {
    fs = await startForgeServer({ gitlab: gl });
    const big = largePush(v1, 340);
    gl.push(PROJECT.id, PROJECT.path, IID, big);
    const res = await deliverGitlab(fs.server.url, mergeRequestHook("open", big));
    expect(res.status).toBe(200);
    // The dma-buf files are reviewed first, so the series' findings are all there.
    expect(findingDiscussions().map((d) => (readMarker(d.notes[0]!.body) as { fingerprint: string }).fingerprint).sort()).toEqual(expected.map((f) => f.fingerprint).sort());
    const total = big.files.length;
    const overLimit = total - 3 - 300;
    const summary = gl.discussionsOf(PROJECT.id, IID).find((d) => readMarker(d.notes[0]!.body)?.kind === "summary")!.notes[0]!.body;
    expect(summary).toContain(`Not reviewed: ${3 + overLimit} files.`);
    expect(summary).toContain("- 3 binary: `logo.png`, `firmware/gpu.bin`, `splash.bmp`");
    expect(summary).toMatch(new RegExp(`- ${overLimit} over the file limit \\(over the limit of 300 files per review, \\.\\.\\.\\): .* and ${overLimit - 10} more`));
    const warn = fs.logs.find((l) => l["msg"] === "gitlab: files not reviewed (limits)")!;
    expect(warn).toMatchObject({ files: total, skipped: 3 + overLimit, level: 40 });
  });
});

describe("GitLab channel: a review that outlasts the forge's patience", () => {
  it("answers 202 in time and still posts", async () => {
    const v1 = await pushFromMbox();
    const gl = await GitlabStandin.start();
    const fs = await startForgeServer({ gitlab: gl }, { responseTimeoutMs: 1 });
    try {
      gl.push(PROJECT.id, PROJECT.path, IID, v1);
      const res = await deliverGitlab(fs.server.url, mergeRequestHook("open", v1));
      expect(res).toEqual({ status: 202, body: { accepted: "still processing" } });
      await fs.server.idle();
      expect(gl.discussionsOf(PROJECT.id, IID).filter((d) => readMarker(d.notes[0]!.body)?.kind === "finding")).toHaveLength((await expectedFindings(v1)).length);
    } finally {
      await fs.close();
      await gl.close();
    }
  });
});
