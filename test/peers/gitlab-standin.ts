import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { diffLines, type Push } from "./forge-series.js";

/**
 * A loopback stand-in for the GitLab REST API (v4), for the calls the bot makes: diff versions
 * of a merge request, discussions (positions checked against the latest version's commits and
 * lines, 400 as GitLab answers otherwise), resolving them, and notes. `PRIVATE-TOKEN` is
 * checked. Every request is recorded in order, with its body decoded (JSON or the multipart
 * form gitbeaker sends for a position).
 */
export interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingMessage["headers"];
  readonly body: any;
  readonly at: number;
}

export interface Version {
  id: number;
  head_commit_sha: string;
  base_commit_sha: string;
  start_commit_sha: string;
  created_at: string;
  merge_request_id: number;
  state: "collected";
  real_size: string;
  push: Push;
}

export interface Note {
  id: number;
  type: "DiffNote" | "DiscussionNote" | null;
  body: string;
  author: { username: string; name: string };
  created_at: string;
  system: boolean;
  resolvable: boolean;
  resolved: boolean;
  position?: Record<string, unknown>;
}

export interface Discussion {
  id: string;
  individual_note: boolean;
  notes: Note[];
}

export interface MergeRequestState {
  projectId: number;
  path: string;
  iid: number;
  title: string;
  description: string;
  author: { username: string; name: string };
  versions: Version[];
  discussions: Discussion[];
}

/** Someone writing on a merge request: who, when, and for a diff note the lines (GitLab's position fields). */
export interface NoteSpec {
  readonly author: { readonly username: string; readonly name: string };
  readonly body: string;
  readonly at: string;
  readonly position?: {
    readonly head_sha: string;
    readonly old_path: string;
    readonly new_path: string;
    readonly new_line?: number;
    readonly old_line?: number;
    /** A multi-line note: where its range starts (GitLab's line_range.start). */
    readonly start_new_line?: number;
  };
}

export const BOT_USER = { username: "dmabuf-review", name: "dmabuf-review" };

interface Failure {
  readonly method: string;
  readonly path: RegExp;
  readonly status: number;
  readonly headers: Record<string, string>;
  times: number;
}

export const GITLAB_TOKEN = "glpat-standin-token";

export class GitlabStandin {
  readonly requests: Recorded[] = [];
  readonly mrs = new Map<string, MergeRequestState>();
  private readonly failures: Failure[] = [];
  private nextId = 5000;
  /** Serves a merge request nobody pushed explicitly (the bench: a new iid per delivery). */
  mrFactory: ((projectId: number, iid: number) => MergeRequestState | undefined) | undefined;
  onRequest: ((r: Recorded) => void) | undefined;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<GitlabStandin> {
    let self: GitlabStandin | undefined;
    const server = createServer((req, res) => void self!.handle(req, res));
    self = new GitlabStandin(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The time the stand-in stamps on what the bot writes. */
  clock: () => string = () => new Date().toISOString();

  /** Open a merge request or push to it: a new diff version with the push's files. */
  push(projectId: number, path: string, iid: number, push: Push, opts: { description?: string; at?: string } = {}): MergeRequestState {
    const key = `${projectId}!${iid}`;
    const mr = this.mrs.get(key) ?? { projectId, path, iid, title: push.title, description: "", author: { username: "ckoenig", name: "Christian König" }, versions: [], discussions: [] };
    mr.title = push.title;
    if (opts.description !== undefined) mr.description = opts.description;
    mr.versions.push({
      id: this.nextId++,
      head_commit_sha: push.headSha,
      base_commit_sha: push.baseSha,
      start_commit_sha: push.baseSha,
      created_at: opts.at ?? new Date(Date.UTC(2022, 9, 20, 12, mr.versions.length)).toISOString(),
      merge_request_id: 900 + iid,
      state: "collected",
      real_size: String(push.files.length),
      push,
    });
    this.mrs.set(key, mr);
    return mr;
  }

  fail(method: string, path: RegExp, status: number, opts: { times?: number; headers?: Record<string, string> } = {}): void {
    this.failures.push({ method, path, status, headers: opts.headers ?? {}, times: opts.times ?? 1 });
  }

  /** A person starts a discussion: a diff note when it has a position, as GitLab stores one. */
  discuss(projectId: number, iid: number, spec: NoteSpec): Discussion {
    const mr = this.mrs.get(`${projectId}!${iid}`)!;
    const note = this.note(spec, spec.position ? "DiffNote" : "DiscussionNote");
    const d: Discussion = { id: discussionId(note.id), individual_note: false, notes: [note] };
    mr.discussions.push(d);
    return d;
  }

  /** A person answers in a discussion. */
  reply(projectId: number, iid: number, discussion: string, spec: NoteSpec): Note {
    const d = this.discussionsOf(projectId, iid).find((x) => x.id === discussion)!;
    const note = this.note(spec, d.notes[0]!.type);
    d.notes.push(note);
    return note;
  }

  private note(spec: NoteSpec, type: Note["type"]): Note {
    let position: Record<string, unknown> | undefined;
    if (spec.position) {
      const { start_new_line, ...p } = spec.position;
      const version = this.versionOf(p.head_sha);
      position = { position_type: "text", base_sha: version?.base_commit_sha ?? "", start_sha: version?.start_commit_sha ?? "", old_line: null, new_line: null, ...p };
      if (start_new_line !== undefined) {
        position["line_range"] = { start: { line_code: `x_${start_new_line}`, type: "new", old_line: null, new_line: start_new_line }, end: { line_code: `x_${p.new_line}`, type: "new", old_line: null, new_line: p.new_line } };
      }
    }
    return { id: this.nextId++, type, body: spec.body, author: { ...spec.author }, created_at: spec.at, system: false, resolvable: true, resolved: false, ...(position ? { position } : {}) };
  }

  private versionOf(head: string): Version | undefined {
    return [...this.mrs.values()].flatMap((m) => m.versions).find((v) => v.head_commit_sha === head);
  }

  discussionsOf(projectId: number, iid: number): Discussion[] {
    return this.mrs.get(`${projectId}!${iid}`)?.discussions ?? [];
  }

  private mr(project: string, iid: number): MergeRequestState | undefined {
    const id = decodeURIComponent(project);
    let mr = [...this.mrs.values()].find((m) => (String(m.projectId) === id || m.path === id) && m.iid === iid);
    if (!mr && this.mrFactory && /^\d+$/.test(id)) {
      mr = this.mrFactory(Number(id), iid);
      if (mr) this.mrs.set(`${mr.projectId}!${iid}`, mr);
    }
    return mr;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", "http://x");
    const type = req.headers["content-type"] ?? "";
    let body: any;
    if (type.startsWith("multipart/form-data")) body = Object.fromEntries(await new Request("http://x", { method: "POST", headers: { "content-type": type }, body: raw }).formData());
    else if (raw.length > 0) body = JSON.parse(raw.toString("utf8"));
    const rec: Recorded = { method: req.method ?? "GET", path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body, at: performance.now() };
    this.requests.push(rec);
    this.onRequest?.(rec);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(payload));
    };
    if (req.headers["private-token"] !== GITLAB_TOKEN) return send(401, { message: "401 Unauthorized" });
    const failure = this.failures.find((f) => f.times > 0 && f.method === rec.method && f.path.test(rec.path));
    if (failure) {
      failure.times--;
      return send(failure.status, { message: `${failure.status} stand-in failure` }, failure.headers);
    }
    try {
      this.route(rec, send);
    } catch (err) {
      send(500, { message: (err as Error).message });
    }
  }

  private route(r: Recorded, send: (status: number, body: unknown, headers?: Record<string, string>) => void): void {
    const m = /^\/api\/v4\/projects\/([^/]+)\/merge_requests\/(\d+)(\/.*)?$/.exec(r.path);
    if (!m) return send(404, { message: "404 Not Found" });
    const mr = this.mr(m[1]!, Number(m[2]));
    if (!mr) return send(404, { message: "404 Merge Request Not Found" });
    const rest = m[3] ?? "";
    let k: RegExpExecArray | null;
    if (r.method === "GET" && rest === "") {
      const latest = mr.versions[mr.versions.length - 1];
      return send(200, {
        id: 90000 + mr.iid,
        iid: mr.iid,
        project_id: mr.projectId,
        title: mr.title,
        description: mr.description,
        state: "opened",
        author: { id: 17, ...mr.author },
        sha: latest?.head_commit_sha,
        web_url: `https://gitlab.example.org/${mr.path}/-/merge_requests/${mr.iid}`,
      });
    }
    if (r.method === "GET" && rest === "/versions") {
      return this.page(r, send, [...mr.versions].reverse().map(({ push: _push, ...v }) => v));
    }
    if (r.method === "GET" && (k = /^\/versions\/(\d+)$/.exec(rest))) {
      const v = mr.versions.find((x) => x.id === Number(k![1]));
      if (!v) return send(404, { message: "404 Not found" });
      const { push, ...meta } = v;
      return send(200, {
        ...meta,
        commits: push.commits.map((c) => ({ id: c.sha, short_id: c.sha.slice(0, 8), title: c.title, message: c.message })),
        diffs: push.files.map((f) => ({
          old_path: f.oldPath ?? f.newPath,
          new_path: f.newPath ?? f.oldPath,
          a_mode: f.status === "added" ? "0" : "100644",
          b_mode: f.status === "deleted" ? "0" : "100644",
          new_file: f.status === "added",
          renamed_file: f.status === "renamed",
          deleted_file: f.status === "deleted",
          generated_file: false,
          diff: f.binary ? `Binary files a/${f.oldPath} and b/${f.newPath} differ\n` : f.hunks ? `${f.hunks}\n` : "",
        })),
      });
    }
    if (r.method === "GET" && rest === "/discussions") return this.page(r, send, mr.discussions);
    if (r.method === "POST" && rest === "/discussions") return this.createDiscussion(mr, r.body ?? {}, send);
    if (r.method === "PUT" && (k = /^\/discussions\/([0-9a-f]+)$/.exec(rest))) {
      const d = mr.discussions.find((x) => x.id === k![1]);
      if (!d) return send(404, { message: "404 Discussion Not Found" });
      const resolved = r.query["resolved"] === "true";
      for (const n of d.notes) if (n.resolvable) n.resolved = resolved;
      return send(200, d);
    }
    if (r.method === "GET" && rest === "/notes") return this.page(r, send, mr.discussions.flatMap((d) => d.notes));
    if (r.method === "POST" && rest === "/notes") {
      const note: Note = { id: this.nextId++, type: null, body: String(r.body?.body ?? ""), author: { ...BOT_USER }, created_at: this.clock(), system: false, resolvable: false, resolved: false };
      mr.discussions.push({ id: discussionId(note.id), individual_note: true, notes: [note] });
      return send(201, note);
    }
    if (r.method === "PUT" && (k = /^\/notes\/(\d+)$/.exec(rest))) {
      const note = mr.discussions.flatMap((d) => d.notes).find((n) => n.id === Number(k![1]));
      if (!note) return send(404, { message: "404 Note Not Found" });
      note.body = String(r.body?.body ?? note.body);
      return send(200, note);
    }
    send(404, { message: "404 Not Found" });
  }

  private createDiscussion(mr: MergeRequestState, b: Record<string, string>, send: (status: number, body: unknown) => void): void {
    const latest = mr.versions[mr.versions.length - 1]!;
    let position: Record<string, string> | undefined;
    if (b["position[position_type]"] !== undefined) {
      position = Object.fromEntries(Object.entries(b).flatMap(([key, v]) => (key.startsWith("position[") ? [[key.slice(9, -1), String(v)]] : [])));
      const refsOk = position["base_sha"] === latest.base_commit_sha && position["start_sha"] === latest.start_commit_sha && position["head_sha"] === latest.head_commit_sha;
      const file = latest.push.files.find((f) => (f.newPath ?? f.oldPath) === position!["new_path"] && (f.oldPath ?? f.newPath) === position!["old_path"]);
      const lines = file ? diffLines(file.hunks) : [];
      const newLine = position["new_line"] ? Number(position["new_line"]) : undefined;
      const oldLine = position["old_line"] ? Number(position["old_line"]) : undefined;
      const lineOk = lines.some((l) =>
        newLine !== undefined && oldLine !== undefined
          ? l.type === " " && l.newLine === newLine && l.oldLine === oldLine
          : newLine !== undefined
            ? l.type === "+" && l.newLine === newLine
            : l.type === "-" && l.oldLine === oldLine,
      );
      if (!refsOk || !lineOk) return send(400, { message: '400 Bad request - Note {:line_code=>["can\'t be blank", "must be a valid line code"]}' });
    }
    const note: Note = {
      id: this.nextId++,
      type: position ? "DiffNote" : "DiscussionNote",
      body: String(b["body"] ?? ""),
      author: { ...BOT_USER },
      created_at: this.clock(),
      system: false,
      resolvable: true,
      resolved: false,
      ...(position ? { position } : {}),
    };
    const d: Discussion = { id: discussionId(note.id), individual_note: false, notes: [note] };
    mr.discussions.push(d);
    send(201, d);
  }

  /** GitLab's offset pagination: `page`, `per_page`, X-Next-Page and a Link header. */
  private page(r: Recorded, send: (status: number, body: unknown, headers?: Record<string, string>) => void, all: readonly unknown[]): void {
    const perPage = Math.min(100, Number(r.query["per_page"] ?? 20));
    const page = Number(r.query["page"] ?? 1);
    const items = all.slice((page - 1) * perPage, page * perPage);
    const more = page * perPage < all.length;
    const headers: Record<string, string> = { "x-page": String(page), "x-per-page": String(perPage), "x-total": String(all.length), "x-next-page": more ? String(page + 1) : "" };
    if (more) headers["link"] = `<${this.url}${r.path}?page=${page + 1}&per_page=${perPage}>; rel="next"`;
    send(200, items, headers);
  }
}

function discussionId(seed: number): string {
  return createHash("sha1").update(`discussion ${seed}`).digest("hex");
}
