import type { CheckDraft, CheckState } from "./draft.js";

/**
 * Patchwork's REST API as its source defines it (patchwork/api/check.py, api/filters.py,
 * urls.py): a patch is found with GET /api/1.2/patches/?project=P&msgid=ID (the msgid filter
 * exists from API 1.2, without angle brackets); a check is created with POST
 * /api/1.2/patches/{id}/checks/ as JSON {state, context, description, target_url}; a token goes
 * in "Authorization: Token ...". Checks are never edited: patchwork shows the newest one per
 * user and context (models.py, filter_unique_checks), so posting again is how a result changes.
 */
export interface PatchworkProject {
  /** The instance, e.g. https://patchwork.freedesktop.org (an /api/... suffix is tolerated). */
  readonly url: string;
  /** The project's link name or id, e.g. dri-devel. */
  readonly project: string;
}

/** What became of one call: done, worth trying again later, or refused for good. */
export type Answer<T> =
  | { readonly kind: "ok"; readonly value: T }
  | { readonly kind: "retry"; readonly reason: string }
  | { readonly kind: "refused"; readonly reason: string };

export interface PostedCheck {
  readonly url: string | undefined;
}

export interface SeenCheck {
  readonly id: number;
  readonly state: CheckState | "pending";
  readonly description: string;
  readonly targetUrl: string | undefined;
}

const API_VERSION = "1.2";
/** A slow patchwork must not hold the mirror's pass: the check waits for the next one. */
const TIMEOUT_MS = 30_000;

export function apiRoot(instance: string): string {
  return `${instance.replace(/\/+$/, "").replace(/\/api(\/\d+\.\d+)?$/, "")}/api/${API_VERSION}`;
}

export class PatchworkApi {
  private readonly root: string;

  constructor(
    readonly project: PatchworkProject,
    private readonly token: string,
    private readonly fetchFn: typeof fetch = fetch,
  ) {
    this.root = apiRoot(project.url);
  }

  /** The patch's id; "retry" while patchwork has not parsed the mail yet (it lags the list). */
  async findPatch(messageId: string): Promise<Answer<number>> {
    const q = new URLSearchParams({ project: this.project.project, msgid: messageId });
    const r = await this.call("GET", `/patches/?${q}`);
    if (r.kind !== "ok") return r;
    const list = r.value as { id?: unknown }[];
    if (!Array.isArray(list)) return { kind: "refused", reason: "the patch list is not a JSON array" };
    const id = list.find((p) => typeof p.id === "number")?.id as number | undefined;
    return id === undefined ? { kind: "retry", reason: `no patch <${messageId}> in ${this.project.project} yet` } : { kind: "ok", value: id };
  }

  /** Our newest check on the patch under this context, to tell whether a post whose answer was lost landed. */
  async newestCheck(patchId: number, context: string): Promise<Answer<SeenCheck | undefined>> {
    const r = await this.call("GET", `/patches/${patchId}/checks/?${new URLSearchParams({ context, per_page: "100" })}`);
    if (r.kind !== "ok") return r;
    const list = (Array.isArray(r.value) ? r.value : []) as { id: number; state: CheckState; description: string | null; target_url: string | null }[];
    const newest = list.reduce<(typeof list)[number] | undefined>((a, c) => (!a || c.id > a.id ? c : a), undefined);
    return {
      kind: "ok",
      value: newest && { id: newest.id, state: newest.state, description: newest.description ?? "", targetUrl: newest.target_url ?? undefined },
    };
  }

  async postCheck(patchId: number, check: CheckDraft): Promise<Answer<PostedCheck>> {
    const body = { state: check.state, context: check.context, description: check.description, ...(check.targetUrl ? { target_url: check.targetUrl } : {}) };
    const r = await this.call("POST", `/patches/${patchId}/checks/`, body);
    if (r.kind !== "ok") return r;
    const url = (r.value as { url?: unknown }).url;
    return { kind: "ok", value: { url: typeof url === "string" ? url : undefined } };
  }

  private async call(method: "GET" | "POST", path: string, body?: unknown): Promise<Answer<unknown>> {
    let res: Response;
    try {
      res = await this.fetchFn(`${this.root}${path}`, {
        method,
        headers: {
          Authorization: `Token ${this.token}`,
          Accept: "application/json",
          ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      return { kind: "retry", reason: `${method} ${path}: ${(err as Error).message}` };
    }
    const text = await res.text().catch(() => "");
    const what = `${method} ${path}: HTTP ${res.status}${text ? ` ${text.slice(0, 200).replace(/\s+/g, " ")}` : ""}`;
    // 404: the patch is not there yet (patchwork parses mail after the list delivers it); 408,
    // 429 and 5xx pass. 400, 401 and 403 (no token, not a maintainer) need an operator.
    if (res.status === 404 || res.status === 408 || res.status === 429 || res.status >= 500) return { kind: "retry", reason: what };
    if (!res.ok) return { kind: "refused", reason: what };
    try {
      return { kind: "ok", value: JSON.parse(text) as unknown };
    } catch {
      return { kind: "retry", reason: `${method} ${path}: the answer is not JSON` };
    }
  }
}
