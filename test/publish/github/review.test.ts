import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProbotOctokit } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { forgeSeries } from "../../../src/ingest/forge/revision.js";
import { githubReviewTarget } from "../../../src/publish/github/review.js";
import type { Finding } from "../../../src/review/finding.js";
import { readMarkers } from "../../../src/review/render/markdown.js";
import { reviewSeries } from "../../../src/review/review-series.js";
import { Store } from "../../../src/state/store.js";
import { reviewDeps } from "../../peers/forge-server.js";
import { pushFromMbox, type Push } from "../../peers/forge-series.js";
import { GithubStandin } from "../../peers/github-standin.js";

const PR = { owner: "dri", repo: "linux", number: 9 };

async function reviewOf(push: Push, extra: (base: Finding) => Finding[]) {
  const deps = await reviewDeps();
  const { series } = forgeSeries(
    { id: "github:dri/linux#9", title: push.title, description: "", author: { name: "a", email: "a@b" }, date: undefined, revision: 1, url: "u" },
    push.files.map((f) => ({ oldPath: f.oldPath, newPath: f.newPath, status: f.status === "binary" ? "modified" : f.status, hunks: f.hunks, binary: false, tooLarge: false })),
  );
  const s = reviewSeries(series!, deps.rules, deps.parser, deps.model);
  const base = s.patches[0]!.findings[0]!;
  const patches = [{ ...s.patches[0]!, findings: [...s.patches[0]!.findings, ...extra(base)] }];
  return { series: [{ ...s, patches }], skipped: [], orphanReplies: [] };
}

describe("githubReviewTarget", () => {
  let gh: GithubStandin;
  let store: Store;
  let push: Push;

  beforeEach(async () => {
    gh = await GithubStandin.start();
    store = Store.open(join(mkdtempSync(join(tmpdir(), "dmabuf-review-gh-")), "state.db"));
    push = await pushFromMbox();
    gh.push(PR.owner, PR.repo, PR.number, push);
  });

  afterEach(async () => {
    store.close();
    await gh.close();
  });

  it("annotates every finding in batches of 50, and says in the review body what has no line in the diff", async () => {
    const octokit = new ProbotOctokit({ auth: { token: gh.issueToken() }, baseUrl: gh.url, retry: { enabled: false }, throttle: { enabled: false } });
    const many = (base: Finding) => [
      ...Array.from({ length: 100 }, (_, i) => ({ ...base, fingerprint: `aaaa${String(i).padStart(12, "0")}` })),
      { ...base, line: 5, quote: [" #include <linux/fs.h>"], fingerprint: "bbbb000000000001" },
    ];
    const review = await reviewOf(push, many);
    const total = review.series[0]!.patches[0]!.findings.length;
    const receipts = await githubReviewTarget(octokit, { ...PR, headSha: push.headSha }, store.ledger).publish(review, { channel: "github", id: "dri/linux#9" });

    const post = gh.requests.find((r) => r.method === "POST" && r.path.endsWith("/reviews"))!;
    expect(post.body.comments).toHaveLength(total - 1);
    expect(post.body.body).toContain("Not on a line of this diff:");
    expect(post.body.body).toContain("`drivers/dma-buf/dma-buf.c:5`");
    expect(readMarkers(post.body.body).map((m) => (m as { fingerprint: string }).fingerprint)).toEqual(["bbbb000000000001"]);
    expect(receipts.find((r) => r.what === "bbbb000000000001")?.location).toMatch(/^review:\d+\/body$/);

    const create = gh.requests.find((r) => r.method === "POST" && r.path.endsWith("/check-runs"))!;
    const updates = gh.requests.filter((r) => r.method === "PATCH" && r.path.includes("/check-runs/"));
    expect(create.body.output.annotations).toHaveLength(50);
    expect(updates.map((u) => u.body.output.annotations.length)).toEqual([50, total - 100]);
    expect(gh.checkRuns[0]!.output.annotations).toHaveLength(total);
    expect(receipts.find((r) => r.what === "check-run")).toMatchObject({ ok: true, location: `check-run:${gh.checkRuns[0]!.id}` });
  });
});
