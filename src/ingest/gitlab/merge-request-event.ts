import { InputError } from "../../errors.js";

/** A merge request event the bot reviews: opened, reopened, or updated with new commits. */
export interface MergeRequestEvent {
  readonly action: "open" | "reopen" | "update";
  readonly projectId: number;
  /** `group/subgroup/project`: what people read in logs and what the thread is named by. */
  readonly projectPath: string;
  readonly iid: number;
  /** The head the event is about; the diff version with this head is the one reviewed. */
  readonly headSha: string;
  readonly title: string;
  readonly description: string;
  readonly author: { readonly name: string; readonly email: string };
  readonly url: string;
}

/** What came in: an event to review, or a valid event the bot has no business with. */
export type GitlabEvent = { readonly kind: "review"; readonly event: MergeRequestEvent } | { readonly kind: "ignore"; readonly reason: string };

export const MERGE_REQUEST_HOOK = "Merge Request Hook";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/**
 * Read a verified, JSON-parsed delivery. Other hooks and other actions are ignored with a reason
 * (GitLab disables a hook that keeps failing, so a valid event we do not want is not an error);
 * a merge request event without the fields the review needs is malformed.
 */
export function readGitlabEvent(eventHeader: string | undefined, payload: unknown, deliveryId: string): GitlabEvent {
  if (eventHeader !== MERGE_REQUEST_HOOK) return { kind: "ignore", reason: `event "${eventHeader ?? "(none)"}" is not reviewed` };
  const bad = (detail: string) => new InputError("unknown-event", detail, deliveryId);
  if (!isObject(payload)) throw bad("payload is not a JSON object");
  if (payload["object_kind"] !== "merge_request") throw bad(`object_kind ${String(payload["object_kind"])} in a Merge Request Hook`);
  const attrs = payload["object_attributes"];
  const project = payload["project"];
  if (!isObject(attrs) || !isObject(project)) throw bad("object_attributes or project missing");
  const action = str(attrs["action"]);
  if (action !== "open" && action !== "reopen" && action !== "update") return { kind: "ignore", reason: `merge request action ${action ?? "(none)"} is not reviewed` };
  // GitLab sets oldrev only when the update brought code: a title or label edit is not a revision.
  if (action === "update" && !str(attrs["oldrev"])) return { kind: "ignore", reason: "update without new commits" };
  const projectId = project["id"];
  const iid = attrs["iid"];
  const last = isObject(attrs["last_commit"]) ? str(attrs["last_commit"]["id"]) : undefined;
  const path = str(project["path_with_namespace"]);
  if (typeof projectId !== "number" || typeof iid !== "number" || !path) throw bad("project id, path or merge request iid missing");
  if (!last || !/^[0-9a-f]{40}$/.test(last)) throw bad("object_attributes.last_commit.id missing or not a commit id");
  const user = isObject(payload["user"]) ? payload["user"] : {};
  const name = str(user["name"]) ?? str(user["username"]) ?? "unknown";
  return {
    kind: "review",
    event: {
      action,
      projectId,
      projectPath: path,
      iid,
      headSha: last,
      title: str(attrs["title"]) ?? "",
      description: str(attrs["description"]) ?? "",
      author: { name, email: str(user["email"]) ?? `${str(user["username"]) ?? "unknown"}@gitlab` },
      url: str(attrs["url"]) ?? `${path}!${iid}`,
    },
  };
}

export function mergeRequestThread(e: Pick<MergeRequestEvent, "projectPath" | "iid">): string {
  return `${e.projectPath}!${e.iid}`;
}
