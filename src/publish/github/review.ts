import type { ProbotOctokit } from "probot";
import type { FileDiff } from "../../patch/diff.js";
import { worstOf, type Finding } from "../../review/finding.js";
import {
  countSeverities,
  countsLine,
  readMarker,
  readMarkers,
  renderAnnotationDetails,
  renderFindingComment,
  renderResolvedComment,
  renderSummary,
} from "../../review/render/markdown.js";
import type { Review } from "../../review/review.js";
import type { SeriesReview } from "../../review/review-series.js";
import type { Ledger, PostKey } from "../../state/ledger.js";
import { changeLine, claim, planPublish, type OnForge, type Plan } from "../forge/plan.js";
import { positionOf } from "../forge/position.js";
import type { PublishTarget, Receipt, ThreadRef } from "../target.js";

export interface PullRequestHead {
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
  readonly headSha: string;
}

export interface GithubReviewOptions {
  /** Lines for the check run summary: files skipped and why, limits that applied. */
  readonly notes?: readonly string[];
  readonly checkName?: string;
  /**
   * The pull request was just opened and the store holds nothing of it: nothing of ours can be
   * on it yet, so nothing is read back (three requests fewer on the most common delivery).
   */
  readonly fresh?: boolean;
}

const TARGET = "github-review";
const REVIEW_MARKER = "<!-- dmabuf-review review -->";
// GitHub takes at most 50 annotations per request, and 65535 characters of summary.
const ANNOTATIONS_PER_REQUEST = 50;
const MAX_SUMMARY = 65_000;

type Comment = { path: string; line: number; side: "LEFT" | "RIGHT"; body: string };

function inlineComment(f: Finding, files: readonly FileDiff[]): Comment | undefined {
  const pos = positionOf(f, files);
  if (!pos) return undefined;
  const body = renderFindingComment(f);
  return pos.kind === "removed" ? { path: pos.oldPath, line: pos.oldLine!, side: "LEFT", body } : { path: pos.newPath, line: pos.newLine!, side: "RIGHT", body };
}

function level(f: Finding): "failure" | "warning" | "notice" {
  return f.severity === "error" ? "failure" : f.severity === "warning" ? "warning" : "notice";
}

/** failure for an error, neutral for warnings (a warning is a question, not a veto), else success. */
function conclusion(findings: readonly Finding[]): "failure" | "neutral" | "success" {
  const worst = worstOf(findings);
  return worst === "error" ? "failure" : worst === "warning" ? "neutral" : "success";
}

/**
 * One pull-request review per push with a line comment for each new finding, edits that mark
 * findings that no longer apply as resolved (or reopen ones that came back), and one check run
 * per head commit with an annotation per finding and the model table in its summary.
 */
export function githubReviewTarget(octokit: ProbotOctokit, pr: PullRequestHead, ledger: Ledger, opts: GithubReviewOptions = {}): PublishTarget {
  const repo = { owner: pr.owner, repo: pr.repo };
  const at = pr.headSha.slice(0, 12);
  return {
    name: TARGET,
    async publish(review: Review, thread: ThreadRef): Promise<Receipt[]> {
      const s = review.series[0];
      if (!s) return [];
      const key = (what: string) => ({ channel: thread.channel, thread: thread.id, what });
      const findings = s.patches.flatMap((p) => p.findings);
      const files = s.patches.flatMap((p) => p.message.files);
      const onForge = opts.fresh ? [] : await readBack(octokit, pr);
      const plan = planPublish(findings, onForge, ledger, key, TARGET);
      const receipts: Receipt[] = plan.keep.map((f) => ({ target: TARGET, ok: true, what: f.fingerprint, reason: "already posted" }));
      const reviewed = await postReview(octokit, pr, plan, files, ledger, key);
      receipts.push(...reviewed);
      for (const { finding, on } of plan.reopen) {
        receipts.push(await edit(octokit, repo, on, renderFindingComment(finding), "reopened"));
      }
      for (const on of plan.resolve) {
        receipts.push(await edit(octokit, repo, on, renderResolvedComment(on.body, on.fingerprint, at), "resolved"));
      }
      const posted = reviewed.filter((r) => r.ok).length;
      receipts.push(await postCheckRun(octokit, pr, s, findings, [`This push: ${changeLine(plan, posted)}.`, ...(opts.notes ?? [])], ledger, key, opts.checkName ?? "dmabuf-review", opts.fresh ?? false));
      return receipts;
    },
  };
}

/** Our findings on the pull request: line comments, and findings in review bodies that had no line. */
async function readBack(octokit: ProbotOctokit, pr: PullRequestHead): Promise<OnForge[]> {
  const params = { owner: pr.owner, repo: pr.repo, pull_number: pr.number, per_page: 100 };
  const comments = await octokit.paginate(octokit.rest.pulls.listReviewComments, params);
  const reviews = await octokit.paginate(octokit.rest.pulls.listReviews, params);
  const out: OnForge[] = [];
  for (const c of comments) {
    const m = readMarker(c.body);
    if (m?.kind === "finding") out.push({ fingerprint: m.fingerprint, id: `comment:${c.id}`, resolved: m.resolvedAt !== undefined, body: c.body });
  }
  for (const r of reviews) {
    for (const m of readMarkers(r.body)) {
      // A finding in a review body cannot be resolved on its own; it counts as said, and stays.
      if (m.kind === "finding" && !out.some((o) => o.fingerprint === m.fingerprint)) out.push({ fingerprint: m.fingerprint, id: `review:${r.id}`, resolved: false, body: "" });
    }
  }
  return out;
}

async function postReview(octokit: ProbotOctokit, pr: PullRequestHead, plan: Plan, files: readonly FileDiff[], ledger: Ledger, key: (what: string) => PostKey): Promise<Receipt[]> {
  if (plan.post.length === 0) return [];
  for (const f of plan.post) claim(ledger, key(f.fingerprint), TARGET);
  const inline: Comment[] = [];
  const unplaced: Finding[] = [];
  for (const f of plan.post) {
    const c = inlineComment(f, files);
    if (c) inline.push(c);
    else unplaced.push(f);
  }
  const counts = countsLine(countSeverities(plan.post));
  const head = `**dmabuf-review** at ${pr.headSha.slice(0, 12)}, new findings: ${counts}${plan.resolve.length > 0 ? `; ${plan.resolve.length} no longer found and marked resolved` : ""}. The check run has the summary and the model table.`;
  // The hidden marker says the body is the bot's, so the feedback tracker does not read it as review.
  const bodyOf = (extra: readonly Finding[]) =>
    extra.length === 0
      ? `${head}\n\n${REVIEW_MARKER}`
      : [head, "", "Not on a line of this diff:", ...extra.flatMap((f) => ["", "---", "", `\`${f.file}:${f.line}\``, "", renderFindingComment(f)])].join("\n");
  const create = (comments: Comment[], extra: readonly Finding[]) =>
    octokit.rest.pulls.createReview({ owner: pr.owner, repo: pr.repo, pull_number: pr.number, commit_id: pr.headSha, event: "COMMENT", body: bodyOf(extra), comments });
  let reviewId: number;
  let placed = inline.length;
  try {
    try {
      reviewId = (await create(inline, unplaced)).data.id;
    } catch (err) {
      // 422: GitHub could not resolve a line (the head moved, or a position we got wrong). The
      // findings still get said, in the review body instead of on their lines.
      if ((err as { status?: number }).status !== 422 || inline.length === 0) throw err;
      reviewId = (await create([], plan.post)).data.id;
      placed = 0;
    }
  } catch (err) {
    const reason = `createReview: ${(err as Error).message}`;
    for (const f of plan.post) ledger.failed(key(f.fingerprint), reason);
    return plan.post.map((f) => ({ target: TARGET, ok: false, what: f.fingerprint, reason }));
  }
  const location = `review:${reviewId}`;
  for (const f of plan.post) ledger.posted(key(f.fingerprint), location);
  const onLine = new Set(placed > 0 ? plan.post.filter((f) => !unplaced.includes(f)) : []);
  return plan.post.map((f) => ({ target: TARGET, ok: true, what: f.fingerprint, location: onLine.has(f) ? `${location}/line` : `${location}/body` }));
}

async function edit(octokit: ProbotOctokit, repo: { owner: string; repo: string }, on: OnForge, body: string, what: "resolved" | "reopened"): Promise<Receipt> {
  const id = Number(on.id.slice("comment:".length));
  try {
    await octokit.rest.pulls.updateReviewComment({ ...repo, comment_id: id, body });
    return { target: TARGET, ok: true, what: on.fingerprint, location: on.id, reason: what };
  } catch (err) {
    return { target: TARGET, ok: false, what: on.fingerprint, location: on.id, reason: `${what}: ${(err as Error).message}` };
  }
}

async function postCheckRun(
  octokit: ProbotOctokit,
  pr: PullRequestHead,
  s: SeriesReview,
  findings: readonly Finding[],
  notes: readonly string[],
  ledger: Ledger,
  key: (what: string) => PostKey,
  name: string,
  fresh: boolean,
): Promise<Receipt> {
  const k = key(`check:${pr.headSha}`);
  if (ledger.get(k)?.state === "posted") return { target: TARGET, ok: true, what: "check-run", reason: "already posted" };
  // Not in the store: it may still be on the forge (a lost store, a crash after the post).
  const found = fresh ? undefined : (await octokit.rest.checks.listForRef({ owner: pr.owner, repo: pr.repo, ref: pr.headSha, check_name: name, filter: "latest" })).data.check_runs[0];
  claim(ledger, k, TARGET);
  if (found) {
    ledger.posted(k, `check-run:${found.id}`);
    return { target: TARGET, ok: true, what: "check-run", location: `check-run:${found.id}`, reason: "already posted" };
  }
  const summary = renderSummary(s, { at: pr.headSha.slice(0, 12), notes });
  const output = {
    title: countsLine(countSeverities(findings)),
    summary: summary.length > MAX_SUMMARY ? `${summary.slice(0, MAX_SUMMARY)}\n\n(summary cut at ${MAX_SUMMARY} characters)` : summary,
  };
  const annotations = findings.map((f) => ({
    path: f.file,
    start_line: f.line,
    end_line: f.line,
    annotation_level: level(f),
    title: `${f.severity}: ${f.rule}`.slice(0, 255),
    message: f.message.slice(0, 64_000),
    raw_details: renderAnnotationDetails(f).slice(0, 64_000),
  }));
  try {
    const { data } = await octokit.rest.checks.create({
      ...{ owner: pr.owner, repo: pr.repo },
      name,
      head_sha: pr.headSha,
      status: "completed",
      conclusion: conclusion(findings),
      completed_at: new Date().toISOString(),
      output: { ...output, annotations: annotations.slice(0, ANNOTATIONS_PER_REQUEST) },
    });
    for (let i = ANNOTATIONS_PER_REQUEST; i < annotations.length; i += ANNOTATIONS_PER_REQUEST) {
      await octokit.rest.checks.update({ owner: pr.owner, repo: pr.repo, check_run_id: data.id, output: { ...output, annotations: annotations.slice(i, i + ANNOTATIONS_PER_REQUEST) } });
    }
    ledger.posted(k, `check-run:${data.id}`);
    return { target: TARGET, ok: true, what: "check-run", location: `check-run:${data.id}` };
  } catch (err) {
    const reason = `check run: ${(err as Error).message}`;
    ledger.failed(k, reason);
    return { target: TARGET, ok: false, what: "check-run", reason };
  }
}
