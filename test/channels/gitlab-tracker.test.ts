import { beforeAll, describe, expect, it } from "vitest";
import { readTrackerMarker } from "../../src/review/render/tracker.js";
import { gitlabForgeEachTest, reviewDeps } from "../peers/forge-server.js";
import { ANSWER_TO_JONAS, feedbackPushes, lineOf, PEOPLE, PROMISE_TO_MEI, SAID_ON_V1, tableRows, type FeedbackPushes, type Who } from "../peers/forge-feedback.js";
import { deliverGitlab, IID, mergeRequestHook, noteHook, PROJECT } from "../peers/gitlab-hooks.js";
import { type Discussion, type Note, type Recorded } from "../peers/gitlab-standin.js";

const MR = `/api/v4/projects/${PROJECT.id}/merge_requests/${IID}`;
const THREAD = `${PROJECT.path}!${IID}`;

/** The same verdicts as on GitHub and on the list; GitLab shows people by name. */
const TABLE = [
  "| 1.1 | **not addressed** | change requested | v1 1/1 | Priya Raman | Could the decision be made per attachment instead, with the exporter and the importer both having a say, rather than per device? |",
  "| 1.2 | **addressed** | change requested | v1 1/1 | Priya Raman | Please spell out in this kernel-doc that the flag describes the memory of this buffer rather than the exporting device, and who may clear it. |",
  "| 1.3 | **unclear** | ack | v1 1/1 | Sam Okafor | Looks good to me. |",
  "| 1.4 | **not addressed** | objection | v1 1/1 | Jonas Weber | That is a regression for userspace that works today; I don't think we can take the series in this form. |",
  "| 1.5 | **addressed** | suggestion | v1 1/1 | Mei Tanaka | How about letting the exporter override the flag, either by clearing it after export or through a dma_buf_ops callback it can implement? |",
  "| 1.6 | **obsolete** | question | v1 1/1 | Tomas Lindgren | Why does the vmalloc allocator mark its buffers coherent unconditionally? |",
  "| 1.7 | **addressed** | objection | v1 1/1 | Hana Novak | NAK for the videobuf2 part. |",
  "| 1.8 | **unclear** | change requested | v1 1/1 | Nadia Leclerc | Swapping exporter and importer is not something userspace can do in general: a camera feeding several consumers has no single importer to swap with. Please don't present it as the way out. |",
];

const V1_AT = "2022-10-20T12:13:16Z";
const V2_AT = "2022-11-10T10:00:00Z";

const sig = (r: Recorded) => `${r.method} ${r.path}`;
const writes = (rs: readonly Recorded[]) => rs.filter((r) => r.method !== "GET");
const user = (who: Who | "author") => ({ username: PEOPLE[who].login, name: PEOPLE[who].name });

describe("GitLab channel: the review tracker", () => {
  const forge = gitlabForgeEachTest();
  let p: FeedbackPushes;

  beforeAll(async () => {
    p = await feedbackPushes();
    await reviewDeps();
  });


  /** Version 1 opened and reviewed, then the reviewers' discussions on it, the author's promise to Mei among them. */
  async function v1Reviewed(): Promise<Map<string, Discussion>> {
    forge.gl.push(PROJECT.id, PROJECT.path, IID, p.v1, { description: p.v1Description, at: V1_AT });
    expect((await deliverGitlab(forge.fs.server.url, mergeRequestHook("open", p.v1))).status).toBe(200);
    const threads = new Map<string, Discussion>();
    for (const s of SAID_ON_V1) {
      const position = s.on
        ? {
            head_sha: p.v1.headSha,
            old_path: s.on.path,
            new_path: s.on.path,
            new_line: lineOf(p.v1, s.on.path, s.on.last ?? s.on.first),
            ...(s.on.last ? { start_new_line: lineOf(p.v1, s.on.path, s.on.first) } : {}),
          }
        : undefined;
      threads.set(s.who, forge.gl.discuss(PROJECT.id, IID, { author: user(s.who), body: s.body, at: s.at, ...(position ? { position } : {}) }));
    }
    forge.gl.reply(PROJECT.id, IID, threads.get("mei")!.id, { author: user("author"), body: PROMISE_TO_MEI.body, at: PROMISE_TO_MEI.at });
    return threads;
  }

  async function pushV2(key?: string) {
    forge.gl.push(PROJECT.id, PROJECT.path, IID, p.v2, { description: p.v2Description, at: V2_AT });
    const res = await deliverGitlab(forge.fs.server.url, mergeRequestHook("update", p.v2, { oldrev: p.v1.headSha, updatedAt: "2022-11-10 10:00:00 UTC" }), key ? { key } : {});
    expect(res.status).toBe(200);
    return res;
  }

  const noteOn = (d: Discussion, note: Note) => noteHook({ id: note.id, body: note.body, author: note.author, at: note.created_at, discussion: d.id, type: note.type }, p.v2);

  it("posts one tracker note on the new version, edits it when an answer changes a verdict, and adds nothing on a re-delivery or for its own notes", async () => {
    const threads = await v1Reviewed();
    // A note while the merge request has one version: one read, said so, nothing written.
    let seen = forge.gl.requests.length;
    const priya = threads.get("priya")!;
    const early = await deliverGitlab(forge.fs.server.url, noteOn(priya, priya.notes[0]!), { event: "Note Hook" });
    expect(early).toEqual({ status: 200, body: { skipped: `no earlier version of ${THREAD} known; nothing to track` } });
    expect(forge.gl.requests.slice(seen).map(sig)).toEqual([`GET ${MR}/versions`]);

    // Version 2: the review, then the tracker, read from both versions' diffs and posted once.
    seen = forge.gl.requests.length;
    const res = await pushV2();
    expect(res.body["outcome"]).toMatch(/; tracker posted at note:\d+: 8 points on v1 \(3 addressed, 2 not addressed, 1 obsolete, 2 unclear\)$/);
    const calls = forge.gl.requests.slice(seen);
    const v = forge.gl.mrs.get(`${PROJECT.id}!${IID}`)!.versions;
    const afterSummary = calls.findIndex((r) => r.method === "PUT" && /\/notes\/\d+$/.test(r.path)) + 1;
    expect(calls.slice(afterSummary).map(sig)).toEqual([
      `GET ${MR}/versions`,
      `GET ${MR}/discussions`,
      `GET ${MR}`,
      `GET ${MR}/versions/${v[0]!.id}`,
      `GET ${MR}/notes`,
      `POST ${MR}/notes`,
    ]);
    const posted = calls.at(-1)!.body.body as string;
    expect(readTrackerMarker(posted)).toBe(`gitlab:${THREAD}@${p.v2.headSha}`);
    expect(tableRows(posted)).toEqual(TABLE);
    expect(posted).toContain("**1.1** not addressed: Priya Raman, 2022-10-21 at `drivers/dma-buf/dma-buf.c:219` in `dma_buf_dynamic_attach`");
    expect(posted).toContain('- promised in <note:');
    const tracker = forge.gl.discussionsOf(PROJECT.id, IID).flatMap((d) => d.notes).find((n) => readTrackerMarker(n.body))!;

    // The author answers Jonas in his discussion: the tracker note is edited, nothing else is written.
    seen = forge.gl.requests.length;
    const jonas = threads.get("jonas")!;
    const answer = forge.gl.reply(PROJECT.id, IID, jonas.id, { author: user("author"), body: ANSWER_TO_JONAS.body, at: ANSWER_TO_JONAS.at });
    const key = crypto.randomUUID();
    const edited = await deliverGitlab(forge.fs.server.url, noteOn(jonas, answer), { event: "Note Hook", key });
    expect(edited.body["outcome"]).toMatch(/^tracker edited at note:\d+: 8 points on v1 \(3 addressed, 1 not addressed, 1 answered, 1 obsolete, 2 unclear\); 1\.4 not addressed → answered$/);
    const edit = writes(forge.gl.requests.slice(seen));
    expect(edit.map(sig)).toEqual([`PUT ${MR}/notes/${tracker.id}`]);
    expect(tableRows(edit[0]!.body.body)).toEqual(TABLE.map((r) => (r.startsWith("| 1.4 |") ? r.replace("**not addressed**", "**answered**") : r)));
    expect(tracker.body).toBe(edit[0]!.body.body);

    // The same delivery again (GitLab's Idempotency-Key): nothing reaches GitLab.
    seen = forge.gl.requests.length;
    expect(await deliverGitlab(forge.fs.server.url, noteOn(jonas, answer), { event: "Note Hook", key })).toEqual({ status: 200, body: { duplicate: key } });
    // The bot's own notes come back as Note Hooks: ignored before anything is read.
    const summary = forge.gl.discussionsOf(PROJECT.id, IID).find((d) => d.notes[0]!.body.includes("<!-- dmabuf-review summary -->"))!;
    expect((await deliverGitlab(forge.fs.server.url, noteOn(summary, tracker), { event: "Note Hook" })).body).toEqual({ ignored: "the bot's own note" });
    expect(forge.gl.requests.length).toBe(seen);
    expect(forge.gl.discussionsOf(PROJECT.id, IID).filter((d) => readTrackerMarker(d.notes[0]!.body))).toHaveLength(1);
  });

  it("a reviewer's note on the new version is counted as pending, the verdicts unchanged", async () => {
    await v1Reviewed();
    await pushV2();
    const tracker = forge.gl.discussionsOf(PROJECT.id, IID).flatMap((d) => d.notes).find((n) => readTrackerMarker(n.body))!;
    const before = tracker.body;
    const seen = forge.gl.requests.length;
    const d = forge.gl.discuss(PROJECT.id, IID, { author: user("priya"), body: "Why is the check still per device in v2?", at: "2022-11-11T08:00:00Z" });
    const res = await deliverGitlab(forge.fs.server.url, noteOn(d, d.notes[0]!), { event: "Note Hook" });
    expect(res.body["outcome"]).toMatch(/^tracker edited at note:/);
    expect(writes(forge.gl.requests.slice(seen)).map(sig)).toEqual([`PUT ${MR}/notes/${tracker.id}`]);
    expect(tableRows(tracker.body)).toEqual(tableRows(before));
    expect(tracker.body).toContain("1 reply to v2 so far, judged against the next revision.");
  });

  it("a failed post is retried by GitLab's redelivery, and posted once", async () => {
    await v1Reviewed();
    forge.gl.fail("POST", new RegExp(`^${MR}/notes$`), 500, { times: 1 });
    const key = crypto.randomUUID();
    forge.gl.push(PROJECT.id, PROJECT.path, IID, p.v2, { description: p.v2Description, at: V2_AT });
    const hook = mergeRequestHook("update", p.v2, { oldrev: p.v1.headSha, updatedAt: "2022-11-10 10:00:00 UTC" });
    const first = await deliverGitlab(forge.fs.server.url, hook, { key });
    // The summary note and the findings went out; the tracker did not: partial, and GitLab retries.
    expect(first.status).toBe(502);
    expect(first.body["detail"]).toMatch(/; tracker: .*500/);
    const seen = forge.gl.requests.length;
    const again = await deliverGitlab(forge.fs.server.url, hook, { key });
    expect(again.status).toBe(200);
    expect(again.body["outcome"]).toMatch(/; tracker posted at note:\d+: 8 points on v1/);
    // Nothing of the review is posted twice; the tracker looks for itself, then posts once.
    expect(writes(forge.gl.requests.slice(seen)).map(sig)).toEqual([`POST ${MR}/notes`]);
    expect(forge.gl.discussionsOf(PROJECT.id, IID).filter((d) => readTrackerMarker(d.notes[0]!.body))).toHaveLength(1);
  });
});
