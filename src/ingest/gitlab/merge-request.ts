import type { Gitlab } from "@gitbeaker/rest";
import { FORGE_LIMITS, forgeSeries, type ForgeFile, type ForgeLimits, type NormalisedRevision } from "../forge/revision.js";
import { mergeRequestThread, type MergeRequestEvent } from "./merge-request-event.js";

export type GitlabApi = InstanceType<typeof Gitlab<false>>;

/** The three commits a positioned comment names: GitLab checks them against its latest diff version. */
export interface DiffRefs {
  readonly baseSha: string;
  readonly startSha: string;
  readonly headSha: string;
}

/** One entry of a diff version's `diffs`, the fields we read. */
export interface VersionDiff {
  readonly old_path: string;
  readonly new_path: string;
  readonly new_file: boolean;
  readonly renamed_file: boolean;
  readonly deleted_file: boolean;
  readonly diff: string;
  readonly too_large?: boolean;
}

export function toForgeFile(d: VersionDiff): ForgeFile {
  const status: ForgeFile["status"] = d.new_file ? "added" : d.deleted_file ? "deleted" : d.renamed_file ? "renamed" : "modified";
  return {
    oldPath: d.new_file ? undefined : d.old_path,
    newPath: d.deleted_file ? undefined : d.new_path,
    status,
    hunks: d.diff === "" ? undefined : d.diff,
    binary: /^Binary files /.test(d.diff),
    tooLarge: d.too_large === true,
  };
}

export type LoadedMergeRequest =
  | {
      readonly kind: "revision";
      readonly normalised: NormalisedRevision;
      readonly refs: DiffRefs;
      readonly version: number;
      /** The version's files as read, for the tracker to use without reading them again. */
      readonly files: readonly ForgeFile[];
    }
  | { readonly kind: "skip"; readonly reason: string };

export interface VersionWait {
  /** GitLab builds the diff version after the push; the event can arrive first. */
  readonly tries: number;
  readonly delayMs: number;
}

export const VERSION_WAIT: VersionWait = { tries: 5, delayMs: 1000 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Fetch the merge request's diff versions, pick the one whose head is the event's, and turn it
 * into a Series. An event whose head is no longer the latest version is skipped: a later event
 * reviews the newer head, and positions must name the latest version's commits.
 */
export async function loadMergeRequestSeries(
  api: GitlabApi,
  e: MergeRequestEvent,
  limits: ForgeLimits = FORGE_LIMITS,
  wait: VersionWait = VERSION_WAIT,
): Promise<LoadedMergeRequest> {
  for (let attempt = 1; ; attempt++) {
    const versions = [...(await api.MergeRequests.allDiffVersions(e.projectId, e.iid))].sort((a, b) => b.id - a.id);
    const latest = versions[0];
    if (latest && latest.head_commit_sha === e.headSha) {
      const version = await api.MergeRequests.showDiffVersion(e.projectId, e.iid, latest.id);
      const diffs = version.diffs as unknown as VersionDiff[];
      const files = diffs.map(toForgeFile);
      const normalised = forgeSeries(
        {
          id: `gitlab:${mergeRequestThread(e)}@${e.headSha}`,
          title: e.title,
          description: e.description,
          author: e.author,
          date: version.created_at ? new Date(version.created_at) : undefined,
          revision: versions.length,
          url: e.url,
        },
        files,
        limits,
      );
      return {
        kind: "revision",
        normalised,
        files,
        refs: { baseSha: latest.base_commit_sha, startSha: latest.start_commit_sha, headSha: latest.head_commit_sha },
        version: versions.length,
      };
    }
    if (versions.some((v) => v.head_commit_sha === e.headSha)) {
      return { kind: "skip", reason: `head ${e.headSha.slice(0, 12)} is no longer the latest version (${latest!.head_commit_sha.slice(0, 12)} is)` };
    }
    if (attempt >= wait.tries) return { kind: "skip", reason: `no diff version for ${e.headSha.slice(0, 12)} after ${attempt} tries` };
    await sleep(wait.delayMs * attempt);
  }
}
