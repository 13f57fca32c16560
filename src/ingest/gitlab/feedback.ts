import type { Person } from "../../patch/message.js";
import { forgeHistory, isOwnComment, pushesToRead, saidOnEarlier, type FeedbackOptions, type ForgeComment, type ForgePosition, type ForgePush, type LoadedFeedback } from "../forge/feedback.js";
import { FORGE_LIMITS, type ForgeLimits } from "../forge/revision.js";
import { toForgeFile, type GitlabApi, type VersionDiff } from "./merge-request.js";
import { mergeRequestThread } from "./merge-request-event.js";

/** The merge request whose feedback is tracked. */
export interface MergeRequestRef {
  readonly projectId: number;
  readonly projectPath: string;
  readonly iid: number;
}

/** The fields of a note (and its author and position) read here, as the discussions API gives them. */
interface NoteJson {
  readonly id: number;
  readonly body: string;
  readonly system?: boolean;
  readonly created_at?: string;
  readonly author?: { readonly username?: string; readonly name?: string };
  readonly position?: PositionJson | null;
}

interface LineJson {
  readonly old_line?: number | string | null;
  readonly new_line?: number | string | null;
}

interface PositionJson extends LineJson {
  readonly position_type?: string;
  readonly head_sha?: string;
  readonly old_path?: string;
  readonly new_path?: string;
  readonly line_range?: { readonly start?: LineJson | null; readonly end?: LineJson | null } | null;
}

const num = (v: number | string | null | undefined): number | undefined => (v === null || v === undefined || v === "" ? undefined : Number(v));

/** A GitLab user as a Person; the address is made from the username, which every note carries (emails are redacted). */
export function gitlabPerson(user: { readonly username?: string; readonly name?: string } | undefined): Person {
  const username = user?.username ?? "unknown";
  return { name: user?.name ?? username, email: `${username}@gitlab` };
}

/**
 * Where a diff note sits: the new side for added and context lines (GitLab gives both lines for
 * context), the old side for a removed line; a multi-line note starts where its range starts
 * when that is on the same side.
 */
export function notePosition(p: PositionJson | null | undefined): ForgePosition | undefined {
  if (!p || p.position_type !== "text") return undefined;
  const newLine = num(p.new_line);
  const oldLine = num(p.old_line);
  const side = newLine !== undefined ? "new" : oldLine !== undefined ? "old" : undefined;
  const path = side === "new" ? p.new_path : p.old_path;
  if (!side || !path) return undefined;
  const last = (side === "new" ? newLine : oldLine)!;
  const start = p.line_range?.start;
  const startLine = start ? num(side === "new" ? start.new_line : start.old_line) : undefined;
  return { path, side, first: startLine !== undefined && startLine <= last ? startLine : last, last };
}

/**
 * Discussions as comments: each note of a person (system notes are GitLab's own), a diff note
 * with the head and lines it was written on, a reply answering the note before it. A discussion
 * the bot started (a finding) is the bot's, replies included: they answer the bot, not the patch.
 */
export function discussionComments(discussions: readonly { readonly notes?: readonly NoteJson[] }[]): ForgeComment[] {
  const out: ForgeComment[] = [];
  for (const d of discussions) {
    const notes = (d.notes ?? []).filter((n) => !n.system);
    const root = notes[0];
    if (!root || isOwnComment(root.body)) continue;
    notes.forEach((n, i) => {
      if (isOwnComment(n.body)) return;
      out.push({
        id: `note:${n.id}`,
        author: gitlabPerson(n.author),
        date: n.created_at ? new Date(n.created_at) : undefined,
        body: n.body,
        head: i === 0 ? (n.position?.head_sha ?? undefined) : undefined,
        position: i === 0 ? notePosition(n.position) : undefined,
        hunk: undefined,
        replyTo: i > 0 ? `note:${notes[i - 1]!.id}` : undefined,
      });
    });
  }
  return out;
}

/**
 * The merge request's diff versions are its revisions. Read the latest, the one before it and
 * any other a discussion was written on, with every discussion, and build what the tracker
 * reads. With a single version there is nothing to compare, and nothing else is read.
 */
export async function loadMergeRequestFeedback(api: GitlabApi, mr: MergeRequestRef, limits: ForgeLimits = FORGE_LIMITS, opts: FeedbackOptions = {}): Promise<LoadedFeedback> {
  const { current } = opts;
  const thread = mergeRequestThread(mr);
  const versions = [...(await api.MergeRequests.allDiffVersions(mr.projectId, mr.iid))].sort((a, b) => a.id - b.id);
  if (versions.length < 2) return { kind: "no-previous", reason: `no earlier version of ${thread} known; nothing to track` };
  const latest = versions[versions.length - 1]!;
  if (current && current.sha !== latest.head_commit_sha) return { kind: "skip", reason: `head ${current.sha.slice(0, 12)} is no longer the latest version` };
  const discussions = await api.MergeRequestDiscussions.all(mr.projectId, mr.iid, { perPage: 100 });
  const comments = discussionComments(discussions as unknown as { notes?: NoteJson[] }[]);
  const heads = versions.map((v, i) => ({ id: v.id, sha: v.head_commit_sha, revision: i + 1, since: v.created_at ? new Date(v.created_at) : undefined }));
  if (!opts.tracking && !saidOnEarlier(heads, comments)) return { kind: "skip", reason: `nothing said on an earlier version of ${thread}; no tracker` };
  const info = await api.MergeRequests.show(mr.projectId, mr.iid);
  const pushes: ForgePush[] = [];
  for (const h of pushesToRead(heads, comments)) {
    const files =
      current && h.sha === current.sha
        ? current.files
        : ((await api.MergeRequests.showDiffVersion(mr.projectId, mr.iid, h.id)).diffs as unknown as VersionDiff[]).map(toForgeFile);
    pushes.push({ sha: h.sha, revision: h.revision, since: h.since, files });
  }
  const author = info.author as { username?: string; name?: string } | undefined;
  const history = forgeHistory(
    {
      forge: "gitlab",
      thread,
      title: String(info.title ?? ""),
      description: String(info.description ?? ""),
      author: gitlabPerson(author),
      url: String(info.web_url ?? thread),
    },
    pushes,
    comments,
    limits,
  );
  if (!history) return { kind: "skip", reason: `no reviewable file in the latest version of ${thread}` };
  if (history.known.length < 2) return { kind: "no-previous", reason: `no earlier version of ${thread} with a reviewable file; nothing to track` };
  return { kind: "history", history };
}
