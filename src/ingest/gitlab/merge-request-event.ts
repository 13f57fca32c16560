import { InputError } from "../../errors.js";
import { isOwnComment } from "../forge/feedback.js";

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

/** A note written on a merge request: feedback the tracker reads again. */
export interface MergeRequestNoteEvent {
  readonly projectId: number;
  readonly projectPath: string;
  readonly iid: number;
  readonly noteId: number;
}

/** What came in: an event to review, a note for the tracker, or a valid event the bot has no business with. */
export type GitlabEvent =
  | { readonly kind: "review"; readonly event: MergeRequestEvent }
  | { readonly kind: "feedback"; readonly event: MergeRequestNoteEvent }
  | { readonly kind: "ignore"; readonly reason: string };

export const MERGE_REQUEST_HOOK = "Merge Request Hook";
export const NOTE_HOOK = "Note Hook";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/**
 * Read a verified, JSON-parsed delivery. Other hooks and other actions are ignored with a reason
 * (GitLab disables a hook that keeps failing, so a valid event we do not want is not an error);
 * a merge request event without the fields the review needs is malformed.
 */
export function readGitlabEvent(eventHeader: string | undefined, payload: unknown, deliveryId: string): GitlabEvent {
  if (eventHeader === NOTE_HOOK) return readNoteEvent(payload, deliveryId);
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

/**
 * A comment event: only notes on a merge request concern the tracker, and not the bot's own
 * (every body it posts carries its marker) nor GitLab's system notes.
 */
function readNoteEvent(payload: unknown, deliveryId: string): GitlabEvent {
  const bad = (detail: string) => new InputError("unknown-event", detail, deliveryId);
  if (!isObject(payload)) throw bad("payload is not a JSON object");
  if (payload["object_kind"] !== "note") throw bad(`object_kind ${String(payload["object_kind"])} in a Note Hook`);
  const attrs = payload["object_attributes"];
  if (!isObject(attrs)) throw bad("object_attributes missing");
  const on = str(attrs["noteable_type"]);
  if (on !== "MergeRequest") return { kind: "ignore", reason: `note on ${on ?? "(nothing)"} is not tracked` };
  if (attrs["system"] === true) return { kind: "ignore", reason: "system note" };
  if (isOwnComment(str(attrs["note"]))) return { kind: "ignore", reason: "the bot's own note" };
  const project = payload["project"];
  const mr = payload["merge_request"];
  const projectId = isObject(project) ? project["id"] : payload["project_id"];
  const path = isObject(project) ? str(project["path_with_namespace"]) : undefined;
  const iid = isObject(mr) ? mr["iid"] : undefined;
  const noteId = attrs["id"];
  if (typeof projectId !== "number" || !path || typeof iid !== "number" || typeof noteId !== "number") throw bad("project id, path, merge request iid or note id missing");
  return { kind: "feedback", event: { projectId, projectPath: path, iid, noteId } };
}

export function mergeRequestThread(e: Pick<MergeRequestEvent, "projectPath" | "iid">): string {
  return `${e.projectPath}!${e.iid}`;
}
