import type { ProbotOctokit } from "probot";
import { readTrackerMarker } from "../../review/render/tracker.js";
import type { TrackerComments } from "../forge/tracker.js";

export interface PullRequestNumber {
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
}

// GitHub refuses a comment body over 65536 characters.
export const GITHUB_MAX_BODY = 65_536;

const idOf = (location: string) => Number(location.slice("issue-comment:".length));

/** The tracker as a comment in the pull request's conversation (an issue comment): one per pull request. */
export function githubTrackerComments(octokit: ProbotOctokit, pr: PullRequestNumber): TrackerComments {
  const repo = { owner: pr.owner, repo: pr.repo };
  return {
    target: "github-tracker",
    async find() {
      const all = await octokit.paginate(octokit.rest.issues.listComments, { ...repo, issue_number: pr.number, per_page: 100 });
      const c = all.find((x) => readTrackerMarker(x.body) !== undefined);
      return c ? { location: `issue-comment:${c.id}`, body: c.body ?? "" } : undefined;
    },
    async create(body) {
      const { data } = await octokit.rest.issues.createComment({ ...repo, issue_number: pr.number, body });
      return `issue-comment:${data.id}`;
    },
    async edit(location, body) {
      try {
        await octokit.rest.issues.updateComment({ ...repo, comment_id: idOf(location), body });
        return true;
      } catch (err) {
        if ((err as { status?: number }).status === 404) return false;
        throw err;
      }
    },
  };
}
