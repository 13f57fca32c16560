import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gitlab } from "@gitbeaker/rest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { forgeSeries } from "../../../src/ingest/forge/revision.js";
import { gitlabDiscussionsTarget } from "../../../src/publish/gitlab/discussions.js";
import { reviewSeries } from "../../../src/review/review-series.js";
import { Store } from "../../../src/state/store.js";
import { reviewDeps } from "../../peers/forge-server.js";
import { pushFromMbox, type Push } from "../../peers/forge-series.js";
import { GITLAB_TOKEN, GitlabStandin } from "../../peers/gitlab-standin.js";

const push = (files: Push["files"]): Push => ({ headSha: "1".repeat(40), baseSha: "2".repeat(40), title: "t", files, commits: [] });

async function review(p: Push) {
  const deps = await reviewDeps();
  const { series } = forgeSeries(
    { id: "gitlab:g/p!1", title: p.title, description: "", author: { name: "a", email: "a@b" }, date: undefined, revision: 1, url: "u" },
    p.files.map((f) => ({ oldPath: f.oldPath, newPath: f.newPath, status: f.status === "binary" ? "modified" : f.status, hunks: f.hunks, binary: false, tooLarge: false })),
  );
  return { series: [reviewSeries(series!, deps.rules, deps.parser, deps.model)], skipped: [], orphanReplies: [] };
}

describe("gitlabDiscussionsTarget", () => {
  let gl: GitlabStandin;
  let store: Store;

  beforeEach(async () => {
    gl = await GitlabStandin.start();
    store = Store.open(join(mkdtempSync(join(tmpdir(), "dmabuf-review-gl-")), "state.db"));
  });

  afterEach(async () => {
    store.close();
    await gl.close();
  });

  it("posts no summary note on a merge request that does not touch dma-buf", async () => {
    const p = push([{ oldPath: "README", newPath: "README", status: "modified", hunks: "@@ -1,1 +1,1 @@\n-a\n+b", additions: 1, deletions: 1 }]);
    const mr = gl.push(3, "g/p", 1, p);
    const api = new Gitlab({ host: gl.url, token: GITLAB_TOKEN });
    const v = mr.versions[0]!;
    const receipts = await gitlabDiscussionsTarget(api, { projectId: 3, iid: 1, baseSha: v.base_commit_sha, startSha: v.start_commit_sha, headSha: v.head_commit_sha, version: 1 }, store.ledger).publish(await review(p), { channel: "gitlab", id: "g/p!1" });
    expect(receipts).toEqual([]);
    expect(gl.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /api/v4/projects/3/merge_requests/1/discussions"]);
  });

  it("names both lines for a finding on a context line, as GitLab requires", async () => {
    const p = await pushFromMbox();
    const mr = gl.push(3, "g/p", 1, p);
    const r = await review(p);
    const s = r.series[0]!;
    const base = s.patches[0]!.findings[0]!;
    // The line above the new gate is context: 835 in the new file, 833 in the old.
    const context = { ...base, line: 835, quote: [" \tif (WARN_ON(importer_ops && !importer_ops->move_notify))"], fingerprint: "cccc000000000001" };
    const one = { ...r, series: [{ ...s, patches: [{ ...s.patches[0]!, findings: [context] }] }] };
    const api = new Gitlab({ host: gl.url, token: GITLAB_TOKEN });
    const v = mr.versions[0]!;
    const receipts = await gitlabDiscussionsTarget(api, { projectId: 3, iid: 1, baseSha: v.base_commit_sha, startSha: v.start_commit_sha, headSha: v.head_commit_sha, version: 1 }, store.ledger).publish(one, { channel: "gitlab", id: "g/p!1" });
    const post = gl.requests.find((q) => q.method === "POST" && q.path.endsWith("/discussions"))!;
    expect([post.body["position[old_line]"], post.body["position[new_line]"]]).toEqual(["833", "835"]);
    expect(receipts.find((x) => x.what === "cccc000000000001")).toMatchObject({ ok: true, location: expect.stringMatching(/^discussion:[0-9a-f]{40}$/) });
    expect(store.ledger.get({ channel: "gitlab", thread: "g/p!1", what: "summary" })).toMatchObject({ state: "posted", location: expect.stringMatching(/^note:\d+$/) });
  });
});
