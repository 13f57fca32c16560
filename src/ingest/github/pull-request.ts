import type { ProbotOctokit } from "probot";
import { InputError } from "../../errors.js";
import { FORGE_LIMITS, forgeSeries, type ForgeFile, type ForgeLimits, type NormalisedRevision } from "../forge/revision.js";

/** The pull request a delivery is about, with what the review needs from the payload. */
export interface PullRequestEvent {
  readonly action: "opened" | "synchronize" | "reopened";
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
  readonly headSha: string;
  readonly baseSha: string;
  readonly title: string;
  readonly body: string;
  readonly author: { readonly name: string; readonly email: string };
  readonly url: string;
  readonly installationId: number | undefined;
  /** The head before this push (`synchronize` says): the revision before this one. */
  readonly before: string | undefined;
}

export const REVIEWED_ACTIONS = ["opened", "synchronize", "reopened"] as const;

export type Read<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: InputError };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Probot does not validate payloads: every field the review relies on is checked here, once. */
export function readPullRequestEvent(payload: unknown, deliveryId: string): Read<PullRequestEvent> {
  const bad = (detail: string): Read<PullRequestEvent> => ({ ok: false, error: new InputError("unknown-event", detail, deliveryId) });
  if (!isObject(payload)) return bad("payload is not a JSON object");
  const action = str(payload["action"]);
  if (!action || !(REVIEWED_ACTIONS as readonly string[]).includes(action)) return bad(`pull_request action ${action ?? "(none)"} is not reviewed`);
  const pr = payload["pull_request"];
  const repo = payload["repository"];
  if (!isObject(pr) || !isObject(repo)) return bad("pull_request or repository missing");
  const owner = isObject(repo["owner"]) ? str(repo["owner"]["login"]) : undefined;
  const name = str(repo["name"]);
  const number = typeof pr["number"] === "number" ? pr["number"] : payload["number"];
  const head = isObject(pr["head"]) ? str(pr["head"]["sha"]) : undefined;
  const base = isObject(pr["base"]) ? str(pr["base"]["sha"]) : undefined;
  if (!owner || !name || typeof number !== "number" || !head || !/^[0-9a-f]{40}$/.test(head)) return bad("repository owner/name, number or head sha missing");
  const user = isObject(pr["user"]) ? pr["user"] : {};
  const login = str(user["login"]) ?? "unknown";
  const installation = isObject(payload["installation"]) ? payload["installation"]["id"] : undefined;
  return {
    ok: true,
    value: {
      action: action as PullRequestEvent["action"],
      owner,
      repo: name,
      number,
      headSha: head,
      baseSha: base ?? "",
      title: str(pr["title"]) ?? "",
      body: str(pr["body"]) ?? "",
      author: { name: login, email: `${login}@users.noreply.github.com` },
      url: str(pr["html_url"]) ?? `${owner}/${name}#${number}`,
      installationId: typeof installation === "number" ? installation : undefined,
      before: action === "synchronize" && /^[0-9a-f]{40}$/.test(str(payload["before"]) ?? "") ? str(payload["before"]) : undefined,
    },
  };
}

export function pullRequestThread(e: Pick<PullRequestEvent, "owner" | "repo" | "number">): string {
  return `${e.owner}/${e.repo}#${e.number}`;
}

/** One entry of `GET /repos/{owner}/{repo}/pulls/{n}/files`, the fields we read. */
export interface PullRequestFile {
  readonly filename: string;
  readonly previous_filename?: string;
  readonly status: string;
  readonly patch?: string;
  readonly changes: number;
}

/**
 * GitHub leaves `patch` out for binary files and for diffs it finds too large; a binary file
 * counts no changed lines, a large one does. A rename or mode change without edits has neither.
 */
export function toForgeFile(f: PullRequestFile): ForgeFile | undefined {
  if (f.status === "unchanged") return undefined;
  const status: ForgeFile["status"] =
    f.status === "added" || f.status === "copied" ? "added" : f.status === "removed" ? "deleted" : f.status === "renamed" ? "renamed" : "modified";
  const noPatch = f.patch === undefined;
  const headerOnly = f.status === "renamed" || f.status === "changed";
  return {
    oldPath: status === "added" ? undefined : (f.previous_filename ?? f.filename),
    newPath: status === "deleted" ? undefined : f.filename,
    status,
    hunks: f.patch,
    binary: noPatch && f.changes === 0 && !headerOnly,
    tooLarge: noPatch && f.changes > 0,
  };
}

export type LoadedPullRequest =
  | {
      readonly kind: "revision";
      readonly normalised: NormalisedRevision;
      readonly listed: number;
      readonly changedFiles: number;
      /** The head's files as read, for the tracker to use without reading them again. */
      readonly files: readonly ForgeFile[];
    }
  | { readonly kind: "skip"; readonly reason: string };

// GitHub's file listing stops at 3000 files whatever the page size.
const MAX_LISTED = 3000;

/**
 * Fetch the pull request's changed files through the app's installation client and turn the
 * head revision into a Series. A delivery whose head has moved on is skipped: the push that
 * moved it brings its own delivery, and comments must sit on the lines of the head they name.
 */
export async function loadPullRequestSeries(octokit: ProbotOctokit, e: PullRequestEvent, limits: ForgeLimits = FORGE_LIMITS): Promise<LoadedPullRequest> {
  const { data: pr } = await octokit.rest.pulls.get({ owner: e.owner, repo: e.repo, pull_number: e.number });
  if (pr.head.sha !== e.headSha) return { kind: "skip", reason: `head moved on from ${e.headSha.slice(0, 12)} to ${pr.head.sha.slice(0, 12)}` };
  if (pr.state !== "open") return { kind: "skip", reason: `pull request is ${pr.state}` };
  const listed = (await octokit.paginate(octokit.rest.pulls.listFiles, { owner: e.owner, repo: e.repo, pull_number: e.number, per_page: 100 })) as PullRequestFile[];
  const files = listed.slice(0, MAX_LISTED).flatMap((f) => toForgeFile(f) ?? []);
  const normalised = forgeSeries(
    {
      id: `github:${pullRequestThread(e)}@${e.headSha}`,
      title: pr.title,
      description: pr.body ?? "",
      author: e.author,
      date: pr.updated_at ? new Date(pr.updated_at) : undefined,
      revision: 1,
      url: pr.html_url,
    },
    files,
    limits,
  );
  return { kind: "revision", normalised, listed: listed.length, changedFiles: pr.changed_files, files };
}
