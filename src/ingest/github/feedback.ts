import type { ProbotOctokit } from "probot";
import { InputError } from "../../errors.js";
import type { Person } from "../../patch/message.js";
import { forgeHistory, isOwnComment, pushesToRead, saidOnEarlier, type FeedbackOptions, type ForgeComment, type ForgePosition, type ForgePush, type LoadedFeedback } from "../forge/feedback.js";
import { FORGE_LIMITS, type ForgeFile, type ForgeLimits } from "../forge/revision.js";
import { pullRequestThread, toForgeFile, type PullRequestFile, type Read } from "./pull-request.js";

/** Events that carry feedback on a pull request, each a reason to read the tracker again. */
export const FEEDBACK_EVENTS = ["pull_request_review_comment", "pull_request_review", "issue_comment"] as const;
export type FeedbackEventName = (typeof FEEDBACK_EVENTS)[number];

/** Which pull request a comment, review or conversation comment is on. */
export interface PullRequestRef {
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
}

export interface FeedbackEvent extends PullRequestRef {
  readonly installationId: number | undefined;
}

/** A valid event the tracker has no business with: a comment on an issue, the bot's own words. */
export type FeedbackRead = Read<FeedbackEvent> | { readonly ok: "ignore"; readonly reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Probot does not validate payloads: the fields the tracker needs are checked here, once. */
export function readFeedbackEvent(name: FeedbackEventName, payload: unknown, deliveryId: string): FeedbackRead {
  const bad = (detail: string): FeedbackRead => ({ ok: false, error: new InputError("unknown-event", detail, deliveryId) });
  if (!isObject(payload)) return bad("payload is not a JSON object");
  const repo = payload["repository"];
  const owner = isObject(repo) && isObject(repo["owner"]) ? str(repo["owner"]["login"]) : undefined;
  const repoName = isObject(repo) ? str(repo["name"]) : undefined;
  const what = name === "pull_request_review" ? payload["review"] : payload["comment"];
  if (!isObject(what)) return bad(`${name} without its ${name === "pull_request_review" ? "review" : "comment"}`);
  if (isOwnComment(str(what["body"]))) return { ok: "ignore", reason: "the bot's own comment" };
  let number: unknown;
  if (name === "issue_comment") {
    const issue = payload["issue"];
    if (!isObject(issue)) return bad("issue_comment without its issue");
    if (!isObject(issue["pull_request"])) return { ok: "ignore", reason: "a comment on an issue, not on a pull request" };
    number = issue["number"];
  } else {
    const pr = payload["pull_request"];
    number = isObject(pr) ? pr["number"] : undefined;
  }
  if (!owner || !repoName || typeof number !== "number") return bad("repository owner/name or pull request number missing");
  const installation = isObject(payload["installation"]) ? payload["installation"]["id"] : undefined;
  return { ok: true, value: { owner, repo: repoName, number, installationId: typeof installation === "number" ? installation : undefined } };
}

export function githubPerson(login: string | undefined): Person {
  const name = login ?? "unknown";
  return { name, email: `${name}@users.noreply.github.com` };
}

/** The fields of a review comment read here. */
interface ReviewCommentJson {
  readonly id: number;
  readonly body: string;
  readonly user: { readonly login: string } | null;
  readonly created_at: string;
  readonly path: string;
  readonly side?: string;
  readonly start_side?: string | null;
  readonly original_line?: number | null;
  readonly original_start_line?: number | null;
  readonly original_commit_id: string;
  readonly diff_hunk?: string;
  readonly in_reply_to_id?: number;
}

function commentPosition(c: ReviewCommentJson): ForgePosition | undefined {
  const last = c.original_line ?? undefined;
  if (last === undefined) return undefined;
  const side = c.side === "LEFT" ? "old" : "new";
  const start = c.original_start_line ?? undefined;
  const sameSide = (c.start_side ?? c.side) === c.side;
  return { path: c.path, side, first: start !== undefined && sameSide && start <= last ? start : last, last };
}

/**
 * Review comments as comments: GitHub threads them by `in_reply_to_id` (always the thread's
 * first comment); in order of writing each reply answers the one before it. A thread the bot
 * started (a finding) is the bot's, replies included.
 */
export function reviewCommentComments(all: readonly ReviewCommentJson[]): ForgeComment[] {
  const threads = new Map<number, ReviewCommentJson[]>();
  for (const c of [...all].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id)) {
    const root = c.in_reply_to_id ?? c.id;
    threads.set(root, [...(threads.get(root) ?? []), c]);
  }
  const out: ForgeComment[] = [];
  for (const [rootId, list] of threads) {
    const root = list.find((c) => c.id === rootId);
    if (!root || isOwnComment(root.body)) continue;
    const ordered = [root, ...list.filter((c) => c !== root)];
    ordered.forEach((c, i) => {
      if (isOwnComment(c.body)) return;
      out.push({
        id: `comment:${c.id}`,
        author: githubPerson(c.user?.login),
        date: new Date(c.created_at),
        body: c.body,
        head: i === 0 ? c.original_commit_id : undefined,
        position: i === 0 ? commentPosition(c) : undefined,
        hunk: i === 0 ? c.diff_hunk : undefined,
        replyTo: i > 0 ? `comment:${ordered[i - 1]!.id}` : undefined,
      });
    });
  }
  return out;
}

/** A head of the pull request and when it became the head, as near as anything tells. */
export interface KnownHead {
  readonly sha: string;
  readonly seenAt: string;
}

export interface LoadedPullRequestFeedback {
  readonly loaded: LoadedFeedback;
  /** Heads learnt from the forge that the store did not know: record them. */
  readonly discovered: readonly KnownHead[];
}

/**
 * GitHub keeps no list of a pull request's pushes. The heads come from the store (`known`, in
 * the order seen), from the heads review comments and reviews were written on, and from the
 * push's `before`. Earlier pushes are read as the compare of the base with their head (three
 * dots: from where that head left the base, so a rebase changes nothing), the latest as the
 * pull request's files (or `current`, when the caller read them already).
 */
export async function loadPullRequestFeedback(
  octokit: ProbotOctokit,
  ref: PullRequestRef,
  known: readonly KnownHead[],
  limits: ForgeLimits = FORGE_LIMITS,
  opts: FeedbackOptions = {},
): Promise<LoadedPullRequestFeedback> {
  const { current } = opts;
  const thread = pullRequestThread(ref);
  const repo = { owner: ref.owner, repo: ref.repo };
  const { data: pr } = await octokit.rest.pulls.get({ ...repo, pull_number: ref.number });
  if (current && current.sha !== pr.head.sha) return { loaded: { kind: "skip", reason: `head moved on from ${current.sha.slice(0, 12)} to ${pr.head.sha.slice(0, 12)}` }, discovered: [] };
  const params = { ...repo, pull_number: ref.number, per_page: 100 };
  const reviewComments = (await octokit.paginate(octokit.rest.pulls.listReviewComments, params)) as unknown as ReviewCommentJson[];
  const reviews = await octokit.paginate(octokit.rest.pulls.listReviews, params);
  const conversation = await octokit.paginate(octokit.rest.issues.listComments, { ...repo, issue_number: ref.number, per_page: 100 });

  const comments: ForgeComment[] = [
    ...reviewCommentComments(reviewComments),
    ...reviews
      .filter((r) => r.body && r.body.trim() !== "" && !isOwnComment(r.body))
      .map((r) => ({
        id: `review:${r.id}`,
        author: githubPerson(r.user?.login),
        date: r.submitted_at ? new Date(r.submitted_at) : undefined,
        body: r.body,
        head: r.commit_id ?? undefined,
        position: undefined,
        hunk: undefined,
        replyTo: undefined,
      })),
    ...conversation
      .filter((c) => !isOwnComment(c.body))
      .map((c) => ({
        id: `issue-comment:${c.id}`,
        author: githubPerson(c.user?.login),
        date: new Date(c.created_at),
        body: c.body ?? "",
        head: undefined,
        position: undefined,
        hunk: undefined,
        replyTo: undefined,
      })),
  ];

  // Every head something was written on (the bot's own reviews included: it reviewed that head).
  const evidence = new Map<string, string>();
  const saw = (sha: string | null | undefined, at: string | null | undefined) => {
    if (!sha || !at) return;
    const prev = evidence.get(sha);
    if (!prev || at < prev) evidence.set(sha, at);
  };
  for (const c of reviewComments) saw(c.original_commit_id, c.created_at);
  for (const r of reviews) saw(r.commit_id, r.submitted_at);
  const heads = new Map(known.map((h) => [h.sha, h.seenAt]));
  const discovered: KnownHead[] = [];
  for (const [sha, at] of evidence) {
    if (heads.has(sha) || sha === pr.head.sha) continue;
    heads.set(sha, at);
    discovered.push({ sha, seenAt: at });
  }
  const now = pr.head.sha;
  const order = [...heads.entries()].filter(([sha]) => sha !== now).sort((a, b) => a[1].localeCompare(b[1]));
  order.push([now, heads.get(now) ?? new Date().toISOString()]);
  if (order.length < 2) return { loaded: { kind: "no-previous", reason: `no earlier push of ${thread} known; nothing to track` }, discovered };

  const numbered = order.map(([sha, at], i) => ({ sha, revision: i + 1, since: new Date(at) }));
  if (!opts.tracking && !saidOnEarlier(numbered, comments)) return { loaded: { kind: "skip", reason: `nothing said on an earlier push of ${thread}; no tracker` }, discovered };
  const pushes: ForgePush[] = [];
  for (const h of pushesToRead(numbered, comments)) {
    let files: readonly ForgeFile[];
    if (h.sha === now) {
      files =
        current?.files ??
        ((await octokit.paginate(octokit.rest.pulls.listFiles, { ...repo, pull_number: ref.number, per_page: 100 })) as PullRequestFile[]).flatMap((f) => toForgeFile(f) ?? []);
    } else {
      try {
        const { data } = await octokit.rest.repos.compareCommitsWithBasehead({ ...repo, basehead: `${pr.base.sha}...${h.sha}`, per_page: 100 });
        files = ((data.files ?? []) as PullRequestFile[]).flatMap((f) => toForgeFile(f) ?? []);
      } catch (err) {
        // A head force-pushed away and collected: what was said on it is placed on its neighbours.
        if ((err as { status?: number }).status === 404) continue;
        throw err;
      }
    }
    pushes.push({ sha: h.sha, revision: h.revision, since: h.since, files });
  }
  const history = forgeHistory(
    { forge: "github", thread, title: pr.title, description: pr.body ?? "", author: githubPerson(pr.user?.login), url: pr.html_url },
    pushes,
    comments,
    limits,
  );
  if (!history) return { loaded: { kind: "skip", reason: `no reviewable file in the head of ${thread}` }, discovered };
  if (history.known.length < 2) return { loaded: { kind: "no-previous", reason: `no earlier push of ${thread} with a reviewable file; nothing to track` }, discovered };
  return { loaded: { kind: "history", history }, discovered };
}
