import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readTrackerMarker } from "../../src/review/render/tracker.js";
import { reviewDeps, startForgeServer, type ForgeServer } from "../peers/forge-server.js";
import { ANSWER_TO_JONAS, feedbackPushes, lineOf, PEOPLE, PROMISE_TO_MEI, SAID_ON_V1, tableRows, type FeedbackPushes } from "../peers/forge-feedback.js";
import { commentPayload, deliverGithub, NUMBER, OWNER, payloadFor, REPO } from "../peers/github-hooks.js";
import { GithubStandin, type Recorded, type ReviewComment } from "../peers/github-standin.js";

const REPO_PATH = `/repos/${OWNER}/${REPO}`;
const PR = `${REPO_PATH}/pulls/${NUMBER}`;
const CONVERSATION = `${REPO_PATH}/issues/${NUMBER}/comments`;

/** The tracker's table for the thread: the verdicts of the mail thread, one patch per push. */
const TABLE = [
  "| 1.1 | **not addressed** | change requested | v1 1/1 | priya | Could the decision be made per attachment instead, with the exporter and the importer both having a say, rather than per device? |",
  "| 1.2 | **addressed** | change requested | v1 1/1 | priya | Please spell out in this kernel-doc that the flag describes the memory of this buffer rather than the exporting device, and who may clear it. |",
  "| 1.3 | **unclear** | ack | v1 1/1 | sam | Looks good to me. |",
  "| 1.4 | **not addressed** | objection | v1 1/1 | jonas | That is a regression for userspace that works today; I don't think we can take the series in this form. |",
  "| 1.5 | **addressed** | suggestion | v1 1/1 | mei | How about letting the exporter override the flag, either by clearing it after export or through a dma_buf_ops callback it can implement? |",
  "| 1.6 | **obsolete** | question | v1 1/1 | tomas | Why does the vmalloc allocator mark its buffers coherent unconditionally? |",
  "| 1.7 | **addressed** | objection | v1 1/1 | hana | NAK for the videobuf2 part. |",
  "| 1.8 | **unclear** | change requested | v1 1/1 | nadia | Swapping exporter and importer is not something userspace can do in general: a camera feeding several consumers has no single importer to swap with. Please don't present it as the way out. |",
];

const sig = (r: Recorded) => `${r.method} ${r.path}`;
const writes = (rs: readonly Recorded[]) => rs.filter((r) => r.method !== "GET" && !r.path.endsWith("/access_tokens"));

describe("GitHub channel: the review tracker", () => {
  let gh: GithubStandin;
  let fs: ForgeServer;
  let p: FeedbackPushes;

  beforeAll(async () => {
    p = await feedbackPushes();
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

  /** v1 opened and reviewed, then the reviewers' points made on it, the author's promise to Mei among them. */
  async function v1Reviewed(): Promise<Map<string, ReviewComment>> {
    gh.push(OWNER, REPO, NUMBER, p.v1, { body: p.v1Description });
    expect((await deliverGithub(fs.server.url, payloadFor("opened", p.v1))).status).toBe(200);
    const threads = new Map<string, ReviewComment>();
    for (const s of SAID_ON_V1) {
      const user = PEOPLE[s.who].login;
      if (!s.on) {
        gh.conversation(OWNER, REPO, NUMBER, { user, body: s.body, at: s.at });
        continue;
      }
      const line = lineOf(p.v1, s.on.path, s.on.last ?? s.on.first);
      const startLine = s.on.last ? lineOf(p.v1, s.on.path, s.on.first) : undefined;
      threads.set(s.who, gh.reviewComment(OWNER, REPO, NUMBER, { user, body: s.body, at: s.at, path: s.on.path, line, ...(startLine ? { startLine } : {}), head: p.v1.headSha }));
    }
    threads.set("promise", gh.reviewComment(OWNER, REPO, NUMBER, { user: PEOPLE.author.login, body: PROMISE_TO_MEI.body, at: PROMISE_TO_MEI.at, inReplyTo: threads.get("mei")!.id }));
    return threads;
  }

  async function pushV2(): Promise<void> {
    gh.push(OWNER, REPO, NUMBER, p.v2, { body: p.v2Description });
    const sync = payloadFor("synchronize", p.v2);
    sync.before = p.v1.headSha;
    expect((await deliverGithub(fs.server.url, sync)).status).toBe(200);
  }

  const outcome = (id: string) => (fs.store.db.prepare("SELECT outcome FROM deliveries WHERE delivery_id = ?").get(id) as { outcome: string }).outcome;

  it("posts one tracker when v2 is pushed, edits it when an answer changes a verdict, and adds nothing on a re-delivery or for its own comments", async () => {
    const threads = await v1Reviewed();
    // No tracker on the first push: no conversation comment was read or written.
    expect(gh.calls().filter((r) => r.path.startsWith(`${REPO_PATH}/issues/`))).toEqual([]);

    // A comment while v1 is the only push: read, said so, nothing written.
    let seen = gh.requests.length;
    const early = crypto.randomUUID();
    expect((await deliverGithub(fs.server.url, commentPayload("pull_request_review_comment", "created", threads.get("priya")!), { id: early, event: "pull_request_review_comment" })).status).toBe(200);
    expect(writes(gh.requests.slice(seen))).toEqual([]);
    expect(outcome(early)).toBe(`skipped: no earlier push of ${OWNER}/${REPO}#${NUMBER} known; nothing to track`);

    // v2: the review, then the tracker, read from v1 (compare of its head) and v2, posted once.
    seen = gh.requests.length;
    await pushV2();
    const calls = gh.requests.slice(seen).filter((r) => !r.path.endsWith("/access_tokens"));
    const afterCheck = calls.findIndex((r) => r.method === "POST" && r.path === `${REPO_PATH}/check-runs`) + 1;
    expect(calls.slice(afterCheck).map(sig)).toEqual([
      `GET ${PR}`,
      `GET ${PR}/comments`,
      `GET ${PR}/reviews`,
      `GET ${CONVERSATION}`,
      `GET ${REPO_PATH}/compare/${p.v1.baseSha}...${p.v1.headSha}`,
      `GET ${CONVERSATION}`,
      `POST ${CONVERSATION}`,
    ]);
    const posted = calls.at(-1)!.body.body as string;
    expect(readTrackerMarker(posted)).toBe(`github:${OWNER}/${REPO}#${NUMBER}@${p.v2.headSha}`);
    expect(posted).toContain("### Review feedback tracked into v2: dma-buf: coherency flag with an exporter override");
    expect(tableRows(posted)).toEqual(TABLE);
    // The evidence is the interdiff, the changelog in the description, the model re-run on v2.
    expect(posted).toContain("- model, re-run on v2: 12 configurations that work today with correct SYNC are still refused only because coherency is decided per attachment (v1: 24)");
    expect(posted).toContain('- changelog v2, patch 1/1: "Reworded the kernel-doc of dma_buf.dma_coherent (Priya)"');
    expect(posted).toContain("- v2 1/1 no longer changes drivers/media/common/videobuf2/videobuf2-vmalloc.c: the quoted lines are gone");
    const tracker = gh.pulls.get(`${OWNER}/${REPO}#${NUMBER}`)!.issueComments!.find((c) => readTrackerMarker(c.body))!;

    // The author answers Jonas in his thread: that verdict changes, and the tracker is edited in place.
    seen = gh.requests.length;
    const answer = gh.reviewComment(OWNER, REPO, NUMBER, { user: PEOPLE.author.login, body: ANSWER_TO_JONAS.body, at: ANSWER_TO_JONAS.at, inReplyTo: threads.get("jonas")!.id });
    const delivery = crypto.randomUUID();
    expect((await deliverGithub(fs.server.url, commentPayload("pull_request_review_comment", "created", answer), { id: delivery, event: "pull_request_review_comment" })).status).toBe(200);
    const edit = writes(gh.requests.slice(seen));
    expect(edit.map(sig)).toEqual([`PATCH ${REPO_PATH}/issues/comments/${tracker.id}`]);
    const rows = tableRows(edit[0]!.body.body);
    expect(rows).toEqual(TABLE.map((r) => (r.startsWith("| 1.4 |") ? r.replace("**not addressed**", "**answered**") : r)));
    expect(edit[0]!.body.body).toContain(`- reply <comment:${answer.id}> from ckoenig, 2022-11-12: "Those imports work by luck`);
    expect(outcome(delivery)).toMatch(/^posted: tracker edited at issue-comment:\d+: 8 points on v1 \(3 addressed, 1 not addressed, 1 answered, 1 obsolete, 2 unclear\); 1\.4 not addressed → answered$/);

    // The same delivery again: nothing reaches GitHub.
    seen = gh.requests.length;
    expect((await deliverGithub(fs.server.url, commentPayload("pull_request_review_comment", "created", answer), { id: delivery, event: "pull_request_review_comment" })).status).toBe(200);
    expect(gh.requests.length).toBe(seen);

    // The bot's own words come back as events: its finding comments, its tracker. Nothing is read.
    const own = gh.pulls.get(`${OWNER}/${REPO}#${NUMBER}`)!.comments.find((c) => c.user.login === "dmabuf-review[bot]")!;
    expect((await deliverGithub(fs.server.url, commentPayload("pull_request_review_comment", "created", own), { event: "pull_request_review_comment" })).status).toBe(200);
    expect((await deliverGithub(fs.server.url, commentPayload("issue_comment", "edited", tracker), { event: "issue_comment" })).status).toBe(200);
    expect(gh.requests.length).toBe(seen);

    // The author's thank-you changes nothing: everything is read again, nothing is written.
    const thanks = gh.conversation(OWNER, REPO, NUMBER, { user: PEOPLE.author.login, body: "Thanks for the reviews.", at: new Date().toISOString() });
    const quiet = crypto.randomUUID();
    expect((await deliverGithub(fs.server.url, commentPayload("issue_comment", "created", thanks), { id: quiet, event: "issue_comment" })).status).toBe(200);
    expect(writes(gh.requests.slice(seen))).toEqual([]);
    expect(outcome(quiet)).toMatch(/^posted: tracker unchanged: 8 points on v1/);
    expect(gh.pulls.get(`${OWNER}/${REPO}#${NUMBER}`)!.issueComments!.filter((c) => readTrackerMarker(c.body))).toHaveLength(1);
  });

  it("with the store lost, finds its tracker by the marker and edits it; the pushes come from what was written on them", async () => {
    const threads = await v1Reviewed();
    await pushV2();
    const tracker = gh.pulls.get(`${OWNER}/${REPO}#${NUMBER}`)!.issueComments!.find((c) => readTrackerMarker(c.body))!;
    await fs.close();
    fs = await startForgeServer({ github: gh });

    const answer = gh.reviewComment(OWNER, REPO, NUMBER, { user: PEOPLE.author.login, body: ANSWER_TO_JONAS.body, at: ANSWER_TO_JONAS.at, inReplyTo: threads.get("jonas")!.id });
    const seen = gh.requests.length;
    expect((await deliverGithub(fs.server.url, commentPayload("pull_request_review_comment", "created", answer), { event: "pull_request_review_comment" })).status).toBe(200);
    const edits = writes(gh.requests.slice(seen));
    expect(edits.map(sig)).toEqual([`PATCH ${REPO_PATH}/issues/comments/${tracker.id}`]);
    expect(tableRows(edits[0]!.body.body)[3]).toContain("| 1.4 | **answered** | objection |");
    expect(fs.store.ledger.get({ channel: "github", thread: `${OWNER}/${REPO}#${NUMBER}`, what: "tracker" })).toMatchObject({ state: "posted", location: `issue-comment:${tracker.id}` });
  });

  it("a pull request nobody commented on before the push gets no tracker", async () => {
    gh.push(OWNER, REPO, NUMBER, p.v1, { body: p.v1Description });
    expect((await deliverGithub(fs.server.url, payloadFor("opened", p.v1))).status).toBe(200);
    const seen = gh.requests.length;
    const id = crypto.randomUUID();
    gh.push(OWNER, REPO, NUMBER, p.v2, { body: p.v2Description });
    const sync = payloadFor("synchronize", p.v2);
    sync.before = p.v1.headSha;
    expect((await deliverGithub(fs.server.url, sync, { id })).status).toBe(200);
    expect(gh.requests.slice(seen).filter((r) => r.path.includes("/issues/") && r.method !== "GET")).toEqual([]);
    expect(gh.requests.slice(seen).some((r) => r.path.includes("/compare/"))).toBe(false);
    expect(outcome(id)).toMatch(new RegExp(`; nothing said on an earlier push of ${OWNER}/${REPO}#${NUMBER}; no tracker$`));
  });
});
