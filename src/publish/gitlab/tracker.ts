import type { Gitlab } from "@gitbeaker/rest";
import { readTrackerMarker } from "../../review/render/tracker.js";
import type { TrackerComments } from "../forge/tracker.js";

type GitlabApi = InstanceType<typeof Gitlab<false>>;

export interface MergeRequestIid {
  readonly projectId: number;
  readonly iid: number;
}

// GitLab's limit for a note is a million characters; the tracker never comes near it.
export const GITLAB_MAX_BODY = 1_000_000;

const idOf = (location: string) => Number(location.slice("note:".length));

function status(err: unknown): number | undefined {
  return (err as { cause?: { response?: { status?: number } } }).cause?.response?.status;
}

/** The tracker as a note on the merge request: one per merge request, edited in place. */
export function gitlabTrackerComments(api: GitlabApi, mr: MergeRequestIid): TrackerComments {
  return {
    target: "gitlab-tracker",
    async find() {
      const notes = await api.MergeRequestNotes.all(mr.projectId, mr.iid, { perPage: 100 });
      const n = notes.find((x) => readTrackerMarker(x.body) !== undefined);
      return n ? { location: `note:${n.id}`, body: n.body } : undefined;
    },
    async create(body) {
      const note = await api.MergeRequestNotes.create(mr.projectId, mr.iid, body);
      return `note:${note.id}`;
    },
    async edit(location, body) {
      try {
        await api.MergeRequestNotes.edit(mr.projectId, mr.iid, idOf(location), { body });
        return true;
      } catch (err) {
        if (status(err) === 404) return false;
        throw err;
      }
    },
  };
}
