import type { Push } from "./forge-series.js";
import { GITLAB_SECRET } from "./forge-server.js";

export const PROJECT = { id: 42, path: "mesa/kernel" };
export const IID = 7;

/**
 * A Merge Request Hook body in the shape GitLab documents (doc/user/project/integrations/
 * webhook_events.md, "Merge request events"), written for this test: the fields GitLab sends,
 * with our project, merge request and head.
 */
export function mergeRequestHook(action: "open" | "reopen" | "update" | "close", push: Push, opts: { oldrev?: string; updatedAt?: string } = {}) {
  const project = {
    id: PROJECT.id,
    name: "kernel",
    description: "Kernel tree for display and media work",
    web_url: `https://gitlab.example.org/${PROJECT.path}`,
    avatar_url: null,
    git_ssh_url: `git@gitlab.example.org:${PROJECT.path}.git`,
    git_http_url: `https://gitlab.example.org/${PROJECT.path}.git`,
    namespace: "mesa",
    visibility_level: 20,
    path_with_namespace: PROJECT.path,
    default_branch: "main",
    ci_config_path: "",
    homepage: `https://gitlab.example.org/${PROJECT.path}`,
    url: `https://gitlab.example.org/${PROJECT.path}.git`,
    ssh_url: `git@gitlab.example.org:${PROJECT.path}.git`,
    http_url: `https://gitlab.example.org/${PROJECT.path}.git`,
  };
  return {
    object_kind: "merge_request",
    event_type: "merge_request",
    user: { id: 17, name: "Christian König", username: "ckoenig", avatar_url: null, email: "[REDACTED]" },
    project,
    repository: { name: "kernel", url: project.url, description: project.description, homepage: project.homepage },
    object_attributes: {
      id: 90000 + IID,
      iid: IID,
      target_branch: "main",
      source_branch: "dma-coherent",
      source_project_id: PROJECT.id,
      author_id: 17,
      assignee_ids: [],
      reviewer_ids: [],
      title: push.title,
      created_at: "2022-10-20 12:13:16 UTC",
      updated_at: opts.updatedAt ?? "2022-10-20 12:13:16 UTC",
      last_edited_at: null,
      milestone_id: null,
      state_id: 1,
      state: action === "close" ? "closed" : "opened",
      blocking_discussions_resolved: true,
      work_in_progress: false,
      draft: false,
      first_contribution: false,
      merge_status: "unchecked",
      target_project_id: PROJECT.id,
      description: "Reconstruction of the 2022 dma_coherent series.",
      url: `https://gitlab.example.org/${PROJECT.path}/-/merge_requests/${IID}`,
      source: project,
      target: project,
      last_commit: {
        id: push.headSha,
        message: push.commits.at(-1)?.message ?? "",
        title: push.commits.at(-1)?.title ?? "",
        timestamp: "2022-10-20T14:13:16+02:00",
        url: `https://gitlab.example.org/${PROJECT.path}/-/commit/${push.headSha}`,
        author: { name: "Christian König", email: "christian.koenig@amd.com" },
      },
      labels: [],
      action,
      ...(opts.oldrev ? { oldrev: opts.oldrev } : {}),
      detailed_merge_status: "mergeable",
    },
    labels: [],
    changes: action === "update" && opts.oldrev ? { updated_at: { previous: "2022-10-20 12:13:16 UTC", current: opts.updatedAt } } : {},
    assignees: [],
    reviewers: [],
  };
}

export async function deliverGitlab(url: string, body: unknown, opts: { token?: string | null; event?: string; key?: string; raw?: string; contentType?: string } = {}) {
  const headers: Record<string, string> = {
    "content-type": opts.contentType ?? "application/json",
    "user-agent": "GitLab/17.5.0",
    "x-gitlab-event": opts.event ?? "Merge Request Hook",
    "x-gitlab-instance": "https://gitlab.example.org",
    "x-gitlab-webhook-uuid": crypto.randomUUID(),
    "x-gitlab-event-uuid": crypto.randomUUID(),
    "idempotency-key": opts.key ?? crypto.randomUUID(),
  };
  if (opts.token !== null) headers["x-gitlab-token"] = opts.token ?? GITLAB_SECRET;
  const res = await fetch(`${url}/api/gitlab/webhooks`, { method: "POST", headers, body: opts.raw ?? JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}


/**
 * A Note Hook body for a comment on our merge request, in the shape GitLab documents
 * ("Comment events", comment on a merge request), written for this test.
 */
export function noteHook(note: { id: number; body: string; author: { username: string; name: string }; at: string; discussion: string; type?: string | null }, push: Push) {
  const project = { id: PROJECT.id, name: "kernel", web_url: `https://gitlab.example.org/${PROJECT.path}`, path_with_namespace: PROJECT.path, default_branch: "main" };
  return {
    object_kind: "note",
    event_type: "note",
    user: { id: 23, name: note.author.name, username: note.author.username, avatar_url: null, email: "[REDACTED]" },
    project_id: PROJECT.id,
    project,
    repository: { name: "kernel", url: `git@gitlab.example.org:${PROJECT.path}.git`, description: "", homepage: project.web_url },
    object_attributes: {
      id: note.id,
      note: note.body,
      noteable_type: "MergeRequest",
      author_id: 23,
      created_at: note.at,
      updated_at: note.at,
      project_id: PROJECT.id,
      attachment: null,
      line_code: null,
      commit_id: "",
      discussion_id: note.discussion,
      noteable_id: 90000 + IID,
      system: false,
      st_diff: null,
      type: note.type ?? null,
      url: `https://gitlab.example.org/${PROJECT.path}/-/merge_requests/${IID}#note_${note.id}`,
      action: "create",
    },
    merge_request: {
      id: 90000 + IID,
      iid: IID,
      title: push.title,
      source_branch: "dma-coherent",
      target_branch: "main",
      source_project_id: PROJECT.id,
      target_project_id: PROJECT.id,
      author_id: 17,
      state: "opened",
      last_commit: { id: push.headSha },
    },
  };
}
