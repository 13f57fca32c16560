import type { Gitlab } from "@gitbeaker/rest";
import type { FileDiff } from "../../patch/diff.js";
import type { Finding } from "../../review/finding.js";
import { readMarker, renderFindingComment, renderSummary } from "../../review/render/markdown.js";
import type { Review } from "../../review/review.js";
import type { Ledger, PostKey } from "../../state/ledger.js";
import { changeLine, claim, planPublish, type OnForge } from "../forge/plan.js";
import { positionOf } from "../forge/position.js";
import type { PublishTarget, Receipt, ThreadRef } from "../target.js";

type GitlabApi = InstanceType<typeof Gitlab<false>>;

/** The merge request and the latest diff version's commits that positions must name. */
export interface MergeRequestVersion {
  readonly projectId: number;
  readonly iid: number;
  readonly baseSha: string;
  readonly startSha: string;
  readonly headSha: string;
  /** 1 for the first version, 2 after the first new push... */
  readonly version: number;
}

export interface GitlabDiscussionsOptions {
  /** Lines for the summary note: files skipped and why, limits that applied. */
  readonly notes?: readonly string[];
  /** The merge request was just opened and the store holds nothing of it: nothing to read back. */
  readonly fresh?: boolean;
}

const TARGET = "gitlab-discussions";

interface Summary {
  readonly noteId: number;
  readonly body: string;
}

function status(err: unknown): number | undefined {
  const cause = (err as { cause?: { response?: { status?: number } } }).cause;
  return cause?.response?.status;
}

/**
 * Each new finding becomes a discussion positioned on its line of the latest diff version; a
 * finding that no longer applies has its discussion resolved (and reopened if it comes back);
 * one summary note per merge request is edited in place on every version, never posted twice.
 */
export function gitlabDiscussionsTarget(api: GitlabApi, mr: MergeRequestVersion, ledger: Ledger, opts: GitlabDiscussionsOptions = {}): PublishTarget {
  return {
    name: TARGET,
    async publish(review: Review, thread: ThreadRef): Promise<Receipt[]> {
      const s = review.series[0];
      if (!s) return [];
      const key = (what: string): PostKey => ({ channel: thread.channel, thread: thread.id, what });
      const findings = s.patches.flatMap((p) => p.findings);
      const files = s.patches.flatMap((p) => p.message.files);
      const { onForge, summary } = opts.fresh ? { onForge: [], summary: undefined } : await readBack(api, mr);
      const plan = planPublish(findings, onForge, ledger, key, TARGET);
      const receipts: Receipt[] = plan.keep.map((f) => ({ target: TARGET, ok: true, what: f.fingerprint, reason: "already posted" }));
      let posted = 0;
      for (const f of plan.post) {
        const r = await postFinding(api, mr, f, files, ledger, key(f.fingerprint));
        if (r.ok) posted++;
        receipts.push(r);
      }
      for (const { finding, on } of plan.reopen) receipts.push(await resolve(api, mr, on, false, finding.fingerprint));
      for (const on of plan.resolve) receipts.push(await resolve(api, mr, on, true, on.fingerprint));
      const inScope = s.patches.some((p) => !p.outOfScope);
      if (inScope || findings.length > 0 || summary) {
        const notes = [`Version ${mr.version}: ${changeLine(plan, posted)}.`, ...(opts.notes ?? [])];
        receipts.push(await upsertSummary(api, mr, renderSummary(s, { at: mr.headSha.slice(0, 12), notes }), summary, ledger, key("summary")));
      }
      return receipts;
    },
  };
}

async function readBack(api: GitlabApi, mr: MergeRequestVersion): Promise<{ onForge: OnForge[]; summary: Summary | undefined }> {
  const discussions = await api.MergeRequestDiscussions.all(mr.projectId, mr.iid, { perPage: 100 });
  const onForge: OnForge[] = [];
  let summary: Summary | undefined;
  for (const d of discussions) {
    const first = d.notes?.[0];
    if (!first) continue;
    const m = readMarker(first.body);
    if (m?.kind === "finding") onForge.push({ fingerprint: m.fingerprint, id: d.id, resolved: (first as { resolved?: boolean }).resolved === true, body: first.body });
    else if (m?.kind === "summary" && !summary) summary = { noteId: first.id, body: first.body };
  }
  return { onForge, summary };
}

function positionFor(f: Finding, files: readonly FileDiff[], mr: MergeRequestVersion) {
  const pos = positionOf(f, files);
  if (!pos) return undefined;
  // GitLab wants new_line for an added line, old_line for a removed one, and both for context.
  return {
    positionType: "text" as const,
    baseSha: mr.baseSha,
    startSha: mr.startSha,
    headSha: mr.headSha,
    oldPath: pos.oldPath,
    newPath: pos.newPath,
    ...(pos.newLine !== undefined ? { newLine: String(pos.newLine) } : {}),
    ...(pos.oldLine !== undefined ? { oldLine: String(pos.oldLine) } : {}),
  };
}

async function postFinding(api: GitlabApi, mr: MergeRequestVersion, f: Finding, files: readonly FileDiff[], ledger: Ledger, key: PostKey): Promise<Receipt> {
  claim(ledger, key, TARGET);
  const body = renderFindingComment(f);
  const position = positionFor(f, files, mr);
  try {
    let d;
    try {
      d = position ? await api.MergeRequestDiscussions.create(mr.projectId, mr.iid, body, { position }) : undefined;
    } catch (err) {
      // 400: GitLab refused the position (the version moved on, or a line it does not show).
      // The finding is still said, as a discussion on the merge request naming its place.
      if (status(err) !== 400) throw err;
    }
    const placed = d !== undefined;
    d ??= await api.MergeRequestDiscussions.create(mr.projectId, mr.iid, `\`${f.file}:${f.line}\` (not a line of this diff)\n\n${body}`);
    ledger.posted(key, `discussion:${d.id}`);
    return { target: TARGET, ok: true, what: f.fingerprint, location: `discussion:${d.id}${placed ? "" : "/unplaced"}` };
  } catch (err) {
    const reason = `create discussion: ${(err as Error).message}`;
    ledger.failed(key, reason);
    return { target: TARGET, ok: false, what: f.fingerprint, reason };
  }
}

async function resolve(api: GitlabApi, mr: MergeRequestVersion, on: OnForge, resolved: boolean, fingerprint: string): Promise<Receipt> {
  const what = resolved ? "resolved" : "reopened";
  try {
    await api.MergeRequestDiscussions.resolve(mr.projectId, mr.iid, on.id, resolved);
    return { target: TARGET, ok: true, what: fingerprint, location: `discussion:${on.id}`, reason: what };
  } catch (err) {
    return { target: TARGET, ok: false, what: fingerprint, location: `discussion:${on.id}`, reason: `${what}: ${(err as Error).message}` };
  }
}

/**
 * The summary note is found by its marker and edited only when its text changes; the ledger's
 * "summary" row is the claim that keeps two deliveries from each creating one. A note a person
 * deleted is not put back.
 */
async function upsertSummary(api: GitlabApi, mr: MergeRequestVersion, body: string, existing: Summary | undefined, ledger: Ledger, key: PostKey): Promise<Receipt> {
  try {
    if (existing) {
      if (ledger.get(key)?.state !== "posted") {
        claim(ledger, key, TARGET);
        ledger.posted(key, `note:${existing.noteId}`);
      }
      // The same version reviewed again (a reopen, a redelivery after a lost store) says nothing new.
      const sameVersion = existing.body.split("\n")[0] === body.split("\n")[0];
      if (existing.body === body || sameVersion) return { target: TARGET, ok: true, what: "summary", location: `note:${existing.noteId}`, reason: "unchanged" };
      await api.MergeRequestNotes.edit(mr.projectId, mr.iid, existing.noteId, { body });
      return { target: TARGET, ok: true, what: "summary", location: `note:${existing.noteId}`, reason: "edited" };
    }
    if (ledger.get(key)?.state === "posted") return { target: TARGET, ok: true, what: "summary", reason: "deleted on the forge; not posted again" };
    claim(ledger, key, TARGET);
    const note = await api.MergeRequestNotes.create(mr.projectId, mr.iid, body);
    ledger.posted(key, `note:${note.id}`);
    return { target: TARGET, ok: true, what: "summary", location: `note:${note.id}` };
  } catch (err) {
    const reason = `summary note: ${(err as Error).message}`;
    if (!existing) ledger.failed(key, reason);
    return { target: TARGET, ok: false, what: "summary", reason };
  }
}
