import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { countSeverities, countsLine, readMarker } from "../../src/review/render/markdown.js";
import { expectedFindings, gitlabForgeEachTest, reviewDeps } from "../peers/forge-server.js";
import { pushFromMbox, reworkGate, type Push } from "../peers/forge-series.js";
import { deliverGitlab, IID, mergeRequestHook, PROJECT } from "../peers/gitlab-hooks.js";

const DROPPED = fileURLToPath(new URL("../../fixtures/rules/cpu-access/end-cpu-access-dropped/fires-vb2-dma-sg.patch", import.meta.url));

describe("GitLab channel: the dma_coherent series as a merge request", () => {
  const forge = gitlabForgeEachTest();
  let v1: Push;
  let v2: Push;
  const mr = `/api/v4/projects/${PROJECT.id}/merge_requests/${IID}`;

  beforeAll(async () => {
    v1 = await pushFromMbox();
    v2 = await pushFromMbox(undefined, reworkGate);
    await reviewDeps();
  });


  it("posts each finding as a discussion on its line of the latest version, and one summary note; a re-delivery adds nothing", async () => {
    const state = forge.gl.push(PROJECT.id, PROJECT.path, IID, v1);
    const key = crypto.randomUUID();
    const res = await deliverGitlab(forge.fs.server.url, mergeRequestHook("open", v1), { key });
    expect(res.status).toBe(200);
    expect(res.body["reviewed"]).toBe(`${PROJECT.path}!${IID}`);

    const expected = await expectedFindings(v1);
    const version = state.versions[0]!;
    // Just opened, and unknown to the store: nothing of ours can be on it, nothing is read back.
    expect(forge.gl.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET ${mr}/versions`,
      `GET ${mr}/versions/${version.id}`,
      ...expected.map(() => `POST ${mr}/discussions`),
      `POST ${mr}/notes`,
    ]);
    const posts = forge.gl.requests.filter((r) => r.method === "POST" && r.path.endsWith("/discussions"));
    // gitbeaker sends a positioned discussion as a form; every field GitLab checks is there.
    for (const p of posts) {
      expect(p.headers["content-type"]).toMatch(/^multipart\/form-data/);
      expect(p.body).toMatchObject({
        "position[position_type]": "text",
        "position[base_sha]": v1.baseSha,
        "position[start_sha]": v1.baseSha,
        "position[head_sha]": v1.headSha,
      });
      // Added lines carry only new_line.
      expect(p.body["position[old_line]"]).toBeUndefined();
    }
    expect(posts.map((p) => `${p.body["position[new_path]"]}:${p.body["position[new_line]"]}:${(readMarker(p.body.body) as { fingerprint: string }).fingerprint}`).sort()).toEqual(
      expected.map((f) => `${f.file}:${f.line}:${f.fingerprint}`).sort(),
    );
    expect(forge.gl.discussionsOf(PROJECT.id, IID).filter((d) => d.notes[0]!.type === "DiffNote")).toHaveLength(expected.length);
    const summary = forge.gl.requests.at(-1)!;
    expect(summary.body.body.split("\n")[0]).toBe(`**dmabuf-review** at ${v1.headSha.slice(0, 12)}: ${countsLine(countSeverities(expected))}.`);
    expect(summary.body.body).toContain(`Version 1: ${expected.length} new, 0 unchanged.`);
    expect(summary.body.body).toContain("| Hazards fixed | ");

    const before = forge.gl.requests.length;
    const again = await deliverGitlab(forge.fs.server.url, mergeRequestHook("open", v1), { key });
    expect(again).toEqual({ status: 200, body: { duplicate: key } });
    expect(forge.gl.requests.length).toBe(before);
  });

  it("a new version shows only what changed, and the summary note is edited in place", async () => {
    const state = forge.gl.push(PROJECT.id, PROJECT.path, IID, v1);
    expect((await deliverGitlab(forge.fs.server.url, mergeRequestHook("open", v1))).status).toBe(200);
    const first = new Map(forge.gl.discussionsOf(PROJECT.id, IID).flatMap((d) => {
      const m = readMarker(d.notes[0]!.body);
      return m?.kind === "finding" ? [[m.fingerprint, d] as const] : [];
    }));
    const summaryNote = forge.gl.discussionsOf(PROJECT.id, IID).find((d) => readMarker(d.notes[0]!.body)?.kind === "summary")!.notes[0]!;
    const seen = forge.gl.requests.length;

    forge.gl.push(PROJECT.id, PROJECT.path, IID, v2);
    const res = await deliverGitlab(forge.fs.server.url, mergeRequestHook("update", v2, { oldrev: v1.headSha, updatedAt: "2022-10-21 09:00:00 UTC" }));
    expect(res.status).toBe(200);
    expect(res.body["outcome"]).toMatch(/; nothing said on an earlier version of mesa\/kernel!7; no tracker$/);
    const calls = forge.gl.requests.slice(seen);
    const now = await expectedFindings(v2);
    const nowFps = new Set(now.map((f) => f.fingerprint));
    const added = now.filter((f) => !first.has(f.fingerprint));
    const gone = [...first.keys()].filter((fp) => !nowFps.has(fp));
    const kept = now.length - added.length;
    const latest = state.versions[1]!;
    expect(calls.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET ${mr}/versions`,
      `GET ${mr}/versions/${latest.id}`,
      `GET ${mr}/discussions`,
      ...added.map(() => `POST ${mr}/discussions`),
      ...gone.map((fp) => `PUT ${mr}/discussions/${first.get(fp)!.id}`),
      `PUT ${mr}/notes/${summaryNote.id}`,
      // The tracker looks for what people said on version 1: nothing, so no tracker.
      `GET ${mr}/versions`,
      `GET ${mr}/discussions`,
    ]);
    // New findings sit on the new version's lines, named by its commits.
    for (const p of calls.filter((r) => r.method === "POST")) expect(p.body["position[head_sha]"]).toBe(v2.headSha);
    expect(calls.filter((r) => r.method === "POST").map((p) => `${p.body["position[new_path]"]}:${p.body["position[new_line]"]}`).sort()).toEqual(added.map((f) => `${f.file}:${f.line}`).sort());
    for (const r of calls.filter((c) => c.method === "PUT" && c.path.includes("/discussions/"))) expect(r.query).toEqual({ resolved: "true" });
    for (const fp of gone) expect(first.get(fp)!.notes[0]!.resolved).toBe(true);
    const edited = calls.at(-3)!;
    expect(edited.body.body).toContain(`Version 2: ${added.length} new, ${gone.length} no longer found (resolved), ${kept} unchanged.`);
    expect(forge.gl.discussionsOf(PROJECT.id, IID).filter((d) => readMarker(d.notes[0]!.body)?.kind === "summary")).toHaveLength(1);
  });

  it("ignores, with a logged reason, what it does not review: other hooks, notes elsewhere, closes, updates without commits", async () => {
    forge.gl.push(PROJECT.id, PROJECT.path, IID, v1);
    const push = await deliverGitlab(forge.fs.server.url, { object_kind: "push", ref: "refs/heads/main" }, { event: "Push Hook" });
    expect(push).toEqual({ status: 200, body: { ignored: 'event "Push Hook" is not reviewed' } });
    const note = await deliverGitlab(forge.fs.server.url, { object_kind: "note", object_attributes: { id: 1, note: "LGTM", noteable_type: "Issue" } }, { event: "Note Hook" });
    expect(note).toEqual({ status: 200, body: { ignored: "note on Issue is not tracked" } });
    const close = await deliverGitlab(forge.fs.server.url, mergeRequestHook("close", v1));
    expect(close.body).toEqual({ ignored: "merge request action close is not reviewed" });
    const retitle = await deliverGitlab(forge.fs.server.url, mergeRequestHook("update", v1));
    expect(retitle.body).toEqual({ ignored: "update without new commits" });
    expect(forge.gl.requests).toEqual([]);
    expect(forge.fs.logs.filter((l) => l["msg"] === "gitlab: event not reviewed, skipped").map((l) => l["reason"])).toEqual([
      'event "Push Hook" is not reviewed',
      "note on Issue is not tracked",
      "merge request action close is not reviewed",
      "update without new commits",
    ]);
  });

  it("skips an event whose head is no longer the latest version, and waits for a version not built yet", async () => {
    forge.gl.push(PROJECT.id, PROJECT.path, IID, v1);
    forge.gl.push(PROJECT.id, PROJECT.path, IID, v2);
    const stale = await deliverGitlab(forge.fs.server.url, mergeRequestHook("open", v1));
    expect(stale.body["skipped"]).toMatch(/is no longer the latest version/);
    expect(forge.gl.requests.filter((r) => r.method !== "GET")).toEqual([]);

    const v3 = { ...v2, headSha: "3".repeat(40) };
    const early = await deliverGitlab(forge.fs.server.url, mergeRequestHook("update", v3, { oldrev: v2.headSha }));
    expect(early.body["skipped"]).toBe(`no diff version for ${"3".repeat(12)} after 3 tries`);
    expect(forge.gl.requests.filter((r) => r.path.endsWith("/versions"))).toHaveLength(1 + 3);
  });

  it("positions a finding about a removed line by its old line only", async () => {
    const dropped = await pushFromMbox(DROPPED);
    forge.gl.push(PROJECT.id, PROJECT.path, IID, dropped);
    expect((await deliverGitlab(forge.fs.server.url, mergeRequestHook("open", dropped))).status).toBe(200);
    const finding = (await expectedFindings(dropped)).find((f) => f.rule === "cpu-access/end-cpu-access-dropped")!;
    const post = forge.gl.requests.find((r) => r.method === "POST" && r.path.endsWith("/discussions") && r.body.body.includes(finding.fingerprint))!;
    expect(post.body["position[old_line]"]).toBe("120");
    expect(post.body["position[new_line]"]).toBeUndefined();
    expect(post.body["position[old_path]"]).toBe("drivers/media/common/videobuf2/videobuf2-dma-sg.c");
    expect(forge.gl.discussionsOf(PROJECT.id, IID).find((d) => d.notes[0]!.body.includes(finding.fingerprint))!.notes[0]!.type).toBe("DiffNote");
  });
});
