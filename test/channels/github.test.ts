import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readMarker } from "../../src/review/render/markdown.js";
import { expectedFindings, reviewDeps, startForgeServer, type ForgeServer } from "../peers/forge-server.js";
import { pushFromMbox, reworkGate, type Push } from "../peers/forge-series.js";
import { deliverGithub, NUMBER, OWNER, payloadFor, REPO } from "../peers/github-hooks.js";
import { GithubStandin } from "../peers/github-standin.js";

const DROPPED = fileURLToPath(new URL("../../fixtures/rules/cpu-access/end-cpu-access-dropped/fires-vb2-dma-sg.patch", import.meta.url));

describe("GitHub channel: the dma_coherent series as a pull request", () => {
  let gh: GithubStandin;
  let fs: ForgeServer;
  let v1: Push;
  let v2: Push;

  beforeAll(async () => {
    v1 = await pushFromMbox();
    v2 = await pushFromMbox(undefined, reworkGate);
    await reviewDeps();
  });

  beforeEach(async () => {
    gh = await GithubStandin.start();
    fs = await startForgeServer({ github: gh });
  });

  afterEach(async () => {
    await fs.close();
    await gh.close();
  });

  it("posts one review with a comment on each finding's line, and a check run; a re-delivery adds nothing", async () => {
    gh.push(OWNER, REPO, NUMBER, v1);
    const id = crypto.randomUUID();
    const res = await deliverGithub(fs.server.url, payloadFor("opened", v1), { id });
    expect(res.status).toBe(200);

    const pr = `/repos/${OWNER}/${REPO}/pulls/${NUMBER}`;
    // Just opened, and unknown to the store: nothing of ours can be on it, nothing is read back.
    expect(gh.calls().map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${pr}`, `GET ${pr}/files`, `POST ${pr}/reviews`, `POST /repos/${OWNER}/${REPO}/check-runs`]);
    const expected = await expectedFindings(v1);
    expect(expected.length).toBeGreaterThan(5);
    const review = gh.calls().find((r) => r.method === "POST" && r.path.endsWith("/reviews"))!;
    expect(review.body.commit_id).toBe(v1.headSha);
    expect(review.body.event).toBe("COMMENT");
    const comments = review.body.comments as { path: string; line: number; side: string; body: string }[];
    // One comment per finding, on the finding's file and line, on the new side of the diff.
    expect(comments.map((c) => `${c.path}:${c.line}:${c.side}:${readMarker(c.body)?.kind === "finding" ? (readMarker(c.body) as any).fingerprint : "?"}`).sort()).toEqual(
      expected.map((f) => `${f.file}:${f.line}:RIGHT:${f.fingerprint}`).sort(),
    );
    // The gate of patch 1 is at dma-buf.c:838; the comment quotes it.
    const gate = comments.find((c) => c.path === "drivers/dma-buf/dma-buf.c" && c.body.includes("attach/device-coherency-gate"))!;
    expect(gate.line).toBe(838);
    expect(gate.body).toContain("+\tif (dmabuf->dma_coherent && !dev_is_dma_coherent(dev))");

    const check = gh.checkRuns[0]!;
    expect(check).toMatchObject({ name: "dmabuf-review", head_sha: v1.headSha, status: "completed", conclusion: "failure" });
    expect(check.output.annotations).toHaveLength(expected.length);
    expect(check.output.annotations[0]).toMatchObject({ path: expect.any(String), start_line: expect.any(Number), annotation_level: expect.stringMatching(/failure|warning|notice/) });
    expect(check.output.summary).toContain("| Rejected although correct SYNC makes them work | ");
    expect(check.output.summary).toMatch(/Coherency model \(catalog-[0-9a-f]+\): \d+ configurations evaluated before and after/);

    // The same delivery again: answered, and nothing reaches GitHub.
    const before = gh.requests.length;
    const again = await deliverGithub(fs.server.url, payloadFor("opened", v1), { id });
    expect(again.status).toBe(200);
    expect(gh.requests.length).toBe(before);
    expect(fs.server.counters.github.duplicates).toBe(1);
  });

  it("a second push shows only what changed: new findings posted, gone ones resolved, the rest left alone", async () => {
    gh.push(OWNER, REPO, NUMBER, v1);
    expect((await deliverGithub(fs.server.url, payloadFor("opened", v1))).status).toBe(200);
    const first = new Map(gh.pulls.get(`${OWNER}/${REPO}#${NUMBER}`)!.comments.map((c) => [(readMarker(c.body) as { fingerprint: string }).fingerprint, c]));
    const seen = gh.requests.length;

    gh.push(OWNER, REPO, NUMBER, v2);
    expect((await deliverGithub(fs.server.url, payloadFor("synchronize", v2))).status).toBe(200);
    const calls = gh.requests.slice(seen).filter((r) => !r.path.endsWith("/access_tokens"));
    const pr = `/repos/${OWNER}/${REPO}/pulls/${NUMBER}`;
    // A push: what is on the pull request is read back before anything is posted.
    expect(calls.slice(0, 4).map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${pr}`, `GET ${pr}/files`, `GET ${pr}/comments`, `GET ${pr}/reviews`]);
    const now = await expectedFindings(v2);
    const nowFps = new Set(now.map((f) => f.fingerprint));
    const added = now.filter((f) => !first.has(f.fingerprint));
    const gone = [...first.keys()].filter((fp) => !nowFps.has(fp));
    const kept = now.filter((f) => first.has(f.fingerprint));
    expect(added.length).toBeGreaterThan(0);
    expect(gone.length).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(0);

    // Exactly one new review, carrying only the new findings, on their lines of the new head.
    const reviews = calls.filter((r) => r.method === "POST" && r.path.endsWith("/reviews"));
    expect(reviews).toHaveLength(1);
    expect(reviews[0]!.body.commit_id).toBe(v2.headSha);
    expect(reviews[0]!.body.comments.map((c: any) => `${c.path}:${c.line}`).sort()).toEqual(added.map((f) => `${f.file}:${f.line}`).sort());
    expect(reviews[0]!.body.body).toContain(`${gone.length} no longer found and marked resolved`);
    // Each finding that no longer applies has its comment edited to say so; nothing else is edited.
    const edits = calls.filter((r) => r.method === "PATCH" && r.path.includes("/pulls/comments/"));
    expect(edits.map((r) => Number(r.path.split("/").pop())).sort()).toEqual(gone.map((fp) => first.get(fp)!.id).sort());
    for (const e of edits) {
      expect(e.body.body).toMatch(/^\*\*Resolved\*\* at [0-9a-f]{12}: no longer found\./);
      expect(readMarker(e.body.body)).toMatchObject({ kind: "finding", resolvedAt: v2.headSha.slice(0, 12) });
    }
    // A check run for the new head, whose summary says what the push changed.
    const check = gh.checkRuns.find((c) => c.head_sha === v2.headSha)!;
    expect(check.output.summary).toContain(`This push: ${added.length} new, ${gone.length} no longer found (resolved), ${kept.length} unchanged.`);

    // The same head again (reopened): nothing new is posted, nothing edited.
    const third = gh.requests.length;
    expect((await deliverGithub(fs.server.url, payloadFor("reopened", v2))).status).toBe(200);
    const writes = gh.requests.slice(third).filter((r) => r.method !== "GET" && !r.path.endsWith("/access_tokens"));
    expect(writes).toEqual([]);
  });

  it("puts a finding about a removed line on the old side of the diff", async () => {
    const dropped = await pushFromMbox(DROPPED);
    gh.push(OWNER, REPO, 3, dropped);
    const payload = payloadFor("opened", dropped);
    payload.number = 3;
    payload.pull_request.number = 3;
    expect((await deliverGithub(fs.server.url, payload)).status).toBe(200);
    const review = gh.calls().find((r) => r.method === "POST" && r.path.endsWith("/pulls/3/reviews"))!;
    const finding = (await expectedFindings(dropped)).find((f) => f.rule === "cpu-access/end-cpu-access-dropped")!;
    const comment = review.body.comments.find((c: any) => c.body.includes(finding.fingerprint));
    // The removed initializer line, at its line in the old file.
    expect(comment).toMatchObject({ path: "drivers/media/common/videobuf2/videobuf2-dma-sg.c", side: "LEFT", line: 120 });
    expect(comment.body).toContain("-\t.end_cpu_access = vb2_dma_sg_dmabuf_ops_end_cpu_access,");
  });
});
