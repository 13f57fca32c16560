import { createVerify, generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { diffLines, type Push } from "./forge-series.js";

/**
 * A loopback stand-in for the GitHub REST API, for the calls the bot makes: installation tokens
 * (the app's JWT checked against its public key), a pull request, its files, review comments and
 * reviews, creating a review (each line checked against the diff, 422 as GitHub answers when a
 * line is not in it), editing a review comment, and check runs. Every request is recorded, in
 * order, with its parsed body.
 */
export interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingMessage["headers"];
  readonly body: any;
  readonly at: number;
}

export interface PullState {
  owner: string;
  repo: string;
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  push: Push;
  comments: ReviewComment[];
  reviews: { id: number; node_id: string; body: string; commit_id: string; state: string; user: { login: string; type?: string }; submitted_at?: string }[];
  /** Every push, oldest first (the compare of an earlier head reads them). */
  pushes?: Push[];
  /** The conversation: issue comments on the pull request. */
  issueComments?: IssueComment[];
}

export interface IssueComment {
  id: number;
  node_id: string;
  body: string;
  user: { login: string; type: string };
  created_at: string;
  updated_at: string;
}

/** A person's line comment: where, on which head, when; a reply names the comment it answers. */
export interface ReviewCommentSpec {
  readonly user: string;
  readonly body: string;
  readonly at: string;
  readonly path?: string;
  readonly line?: number;
  /** A multi-line comment: its first line, on the same side. */
  readonly startLine?: number;
  readonly side?: "LEFT" | "RIGHT";
  readonly head?: string;
  readonly inReplyTo?: number;
}

export interface ReviewComment {
  id: number;
  node_id: string;
  pull_request_review_id: number;
  path: string;
  line: number;
  side: "LEFT" | "RIGHT";
  commit_id: string;
  original_commit_id: string;
  original_line: number;
  start_line: number | null;
  original_start_line: number | null;
  start_side?: "LEFT" | "RIGHT";
  diff_hunk: string;
  in_reply_to_id?: number;
  created_at: string;
  body: string;
  user: { login: string; type?: string };
}

export interface CheckRun {
  id: number;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string;
  output: { title: string; summary: string; annotations: any[] };
}

interface Failure {
  readonly method: string;
  readonly path: RegExp;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
  times: number;
}

export const APP_ID = 4242;
export const INSTALLATION_ID = 1;

export class GithubStandin {
  readonly requests: Recorded[] = [];
  readonly pulls = new Map<string, PullState>();
  readonly checkRuns: CheckRun[] = [];
  readonly privateKey: string;
  private readonly publicKey: string;
  private readonly tokens = new Set<string>();
  private readonly failures: Failure[] = [];
  private nextId = 1000;
  /** Serves a pull request nobody pushed explicitly (the bench: a new number per delivery). */
  pullFactory: ((owner: string, repo: string, n: number) => PullState | undefined) | undefined;
  /** Called for every recorded request (the bench times posted reviews). */
  onRequest: ((r: Recorded) => void) | undefined;

  private constructor(
    private readonly server: Server,
    keys: { privateKey: string; publicKey: string },
  ) {
    this.privateKey = keys.privateKey;
    this.publicKey = keys.publicKey;
  }

  static async start(): Promise<GithubStandin> {
    const keys = generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
    let self: GithubStandin | undefined;
    const server = createServer((req, res) => void self!.handle(req, res));
    self = new GithubStandin(server, keys);
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

  /** Open a pull request, or push to it: the head moves, its files are those of `push`. */
  push(owner: string, repo: string, number: number, push: Push, opts: { body?: string } = {}): PullState {
    const key = `${owner}/${repo}#${number}`;
    const pr = this.pulls.get(key) ?? { owner, repo, number, title: push.title, body: "", state: "open" as const, push, comments: [], reviews: [] };
    pr.push = push;
    pr.title = push.title;
    if (opts.body !== undefined) pr.body = opts.body;
    (pr.pushes ??= []).push(push);
    this.pulls.set(key, pr);
    return pr;
  }

  /** A person comments on a line of the head they were reading (or answers a comment), as GitHub stores it. */
  reviewComment(owner: string, repo: string, number: number, spec: ReviewCommentSpec): ReviewComment {
    const pr = this.pulls.get(`${owner}/${repo}#${number}`)!;
    const parent = spec.inReplyTo !== undefined ? pr.comments.find((c) => c.id === spec.inReplyTo)! : undefined;
    const head = parent?.original_commit_id ?? spec.head ?? pr.push.headSha;
    const push = (pr.pushes ?? [pr.push]).find((p) => p.headSha === head)!;
    const path = parent?.path ?? spec.path!;
    const side = parent?.side ?? spec.side ?? "RIGHT";
    const line = parent?.original_line ?? spec.line!;
    const file = push.files.find((f) => (side === "LEFT" ? f.oldPath : f.newPath) === path)!;
    const id = this.nextId++;
    const c: ReviewComment = {
      id,
      node_id: `PRRC_${id}`,
      pull_request_review_id: this.nextId++,
      path,
      line,
      side,
      commit_id: pr.push.headSha,
      original_commit_id: head,
      original_line: line,
      start_line: parent ? null : (spec.startLine ?? null),
      original_start_line: parent ? null : (spec.startLine ?? null),
      ...(spec.startLine !== undefined && !parent ? { start_side: side } : {}),
      diff_hunk: hunkUpTo(file.hunks, side, line),
      ...(parent ? { in_reply_to_id: parent.id } : {}),
      created_at: spec.at,
      body: spec.body,
      user: { login: spec.user, type: "User" },
    };
    pr.comments.push(c);
    return c;
  }

  /** A person writes in the pull request's conversation. */
  conversation(owner: string, repo: string, number: number, spec: { user: string; body: string; at: string }): IssueComment {
    const pr = this.pulls.get(`${owner}/${repo}#${number}`)!;
    const id = this.nextId++;
    const c: IssueComment = { id, node_id: `IC_${id}`, body: spec.body, user: { login: spec.user, type: "User" }, created_at: spec.at, updated_at: spec.at };
    (pr.issueComments ??= []).push(c);
    return c;
  }

  /** The next `times` requests matching method and path fail with this status (and headers). */
  fail(method: string, path: RegExp, status: number, opts: { times?: number; headers?: Record<string, string>; body?: unknown } = {}): void {
    this.failures.push({ method, path, status, headers: opts.headers ?? {}, body: opts.body ?? { message: "Server Error" }, times: opts.times ?? 1 });
  }

  /** An installation token handed out directly, for tests that drive a client without the app. */
  issueToken(): string {
    const token = `ghs_${randomBytes(18).toString("hex")}`;
    this.tokens.add(token);
    return token;
  }

  /** Requests other than the installation token exchange: what the bot did. */
  calls(): Recorded[] {
    return this.requests.filter((r) => !r.path.endsWith("/access_tokens"));
  }

  private pull(owner: string, repo: string, n: number): PullState | undefined {
    const key = `${owner}/${repo}#${n}`;
    let pr = this.pulls.get(key);
    if (!pr && this.pullFactory) {
      pr = this.pullFactory(owner, repo, n);
      if (pr) this.pulls.set(key, pr);
    }
    return pr;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://x");
    // GHE_HOST puts the API under /api/v3, as GitHub Enterprise serves it.
    url.pathname = url.pathname.replace(/^\/api\/v3(?=\/)/, "");
    const rec: Recorded = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: raw ? JSON.parse(raw) : undefined,
      at: performance.now(),
    };
    this.requests.push(rec);
    this.onRequest?.(rec);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers }).end(body === undefined ? "" : JSON.stringify(body));
    };
    const failure = this.failures.find((f) => f.times > 0 && f.method === rec.method && f.path.test(rec.path));
    if (failure) {
      failure.times--;
      return send(failure.status, failure.body, failure.headers);
    }
    try {
      this.route(rec, send);
    } catch (err) {
      send(500, { message: (err as Error).message });
    }
  }

  private route(r: Recorded, send: (status: number, body: unknown, headers?: Record<string, string>) => void): void {
    let m: RegExpExecArray | null;
    if (r.method === "POST" && (m = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(r.path))) {
      if (!this.validJwt(r.headers.authorization)) return send(401, { message: "A JSON web token could not be decoded" });
      const token = `ghs_${randomBytes(18).toString("hex")}`;
      this.tokens.add(token);
      return send(201, { token, expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: { contents: "read", pull_requests: "write", checks: "write" }, repository_selection: "all" });
    }
    const auth = r.headers.authorization?.replace(/^(token|bearer) /i, "");
    if (!auth || !this.tokens.has(auth)) return send(401, { message: "Bad credentials" });

    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)(\/.*)?$/.exec(r.path))) {
      const pr = this.pull(m[1]!, m[2]!, Number(m[3]));
      if (!pr) return send(404, { message: "Not Found" });
      const rest = m[4] ?? "";
      if (r.method === "GET" && rest === "") return send(200, this.pullJson(pr));
      if (r.method === "GET" && rest === "/files") return this.page(r, send, pr.push.files.map((f) => fileJson(f)));
      if (r.method === "GET" && rest === "/comments") return this.page(r, send, pr.comments);
      if (r.method === "GET" && rest === "/reviews") return this.page(r, send, pr.reviews);
      if (r.method === "POST" && rest === "/reviews") return this.createReview(pr, r.body, send);
    }
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(r.path))) {
      const pr = this.pull(m[1]!, m[2]!, Number(m[3]));
      if (!pr) return send(404, { message: "Not Found" });
      pr.issueComments ??= [];
      if (r.method === "GET") return this.page(r, send, pr.issueComments);
      if (r.method === "POST") {
        const id = this.nextId++;
        const at = this.clock();
        const c: IssueComment = { id, node_id: `IC_${id}`, body: String(r.body?.body ?? ""), user: { login: "dmabuf-review[bot]", type: "Bot" }, created_at: at, updated_at: at };
        pr.issueComments.push(c);
        return send(201, c);
      }
    }
    if (r.method === "PATCH" && (m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(r.path))) {
      const id = Number(m[3]);
      const c = [...this.pulls.values()].flatMap((p) => p.issueComments ?? []).find((x) => x.id === id);
      if (!c) return send(404, { message: "Not Found" });
      c.body = String(r.body?.body ?? "");
      c.updated_at = this.clock();
      return send(200, c);
    }
    if (r.method === "GET" && (m = /^\/repos\/([^/]+)\/([^/]+)\/compare\/([0-9a-f]+)\.\.\.([0-9a-f]+)$/.exec(r.path))) {
      const [, owner, repo, base, head] = m;
      const push = [...this.pulls.values()].filter((p) => p.owner === owner && p.repo === repo).flatMap((p) => p.pushes ?? [p.push]).find((p) => p.headSha === head);
      if (!push || push.baseSha !== base) return send(404, { message: "Not Found" });
      return send(200, { status: "ahead", ahead_by: push.commits.length, behind_by: 0, total_commits: push.commits.length, commits: [], files: push.files.map((f) => fileJson(f)) });
    }
    if (r.method === "PATCH" && (m = /^\/repos\/([^/]+)\/([^/]+)\/pulls\/comments\/(\d+)$/.exec(r.path))) {
      const id = Number(m[3]);
      const c = [...this.pulls.values()].flatMap((p) => p.comments).find((x) => x.id === id);
      if (!c) return send(404, { message: "Not Found" });
      c.body = String(r.body?.body ?? "");
      return send(200, c);
    }
    if (r.method === "GET" && (m = /^\/repos\/[^/]+\/[^/]+\/commits\/([^/]+)\/check-runs$/.exec(r.path))) {
      const runs = this.checkRuns.filter((c) => c.head_sha === m![1] && (!r.query["check_name"] || c.name === r.query["check_name"]));
      return send(200, { total_count: runs.length, check_runs: runs });
    }
    if (r.method === "POST" && /^\/repos\/[^/]+\/[^/]+\/check-runs$/.test(r.path)) {
      const b = r.body ?? {};
      if (!b.name || !b.head_sha) return send(422, { message: "Invalid request", errors: ["name and head_sha are required"] });
      const annotations = b.output?.annotations ?? [];
      if (annotations.length > 50) return send(422, { message: "Only 50 annotations are allowed per request" });
      const run: CheckRun = { id: this.nextId++, name: b.name, head_sha: b.head_sha, status: b.status, conclusion: b.conclusion, output: { title: b.output?.title, summary: b.output?.summary, annotations: [...annotations] } };
      this.checkRuns.push(run);
      return send(201, run);
    }
    if (r.method === "PATCH" && (m = /^\/repos\/[^/]+\/[^/]+\/check-runs\/(\d+)$/.exec(r.path))) {
      const run = this.checkRuns.find((c) => c.id === Number(m![1]));
      if (!run) return send(404, { message: "Not Found" });
      const annotations = r.body?.output?.annotations ?? [];
      if (annotations.length > 50) return send(422, { message: "Only 50 annotations are allowed per request" });
      run.output.annotations.push(...annotations);
      return send(200, run);
    }
    send(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
  }

  private pullJson(pr: PullState) {
    return {
      number: pr.number,
      state: pr.state,
      title: pr.title,
      body: pr.body,
      html_url: `https://github.com/${pr.owner}/${pr.repo}/pull/${pr.number}`,
      user: { login: "ckoenig" },
      head: { sha: pr.push.headSha, ref: "dma-coherent" },
      base: { sha: pr.push.baseSha, ref: "main" },
      changed_files: pr.push.files.length,
      updated_at: "2022-10-20T12:13:16Z",
    };
  }

  /** GitHub's pagination: `page` and `per_page`, a Link header naming the next page. */
  private page(r: Recorded, send: (status: number, body: unknown, headers?: Record<string, string>) => void, all: readonly unknown[]): void {
    const perPage = Math.min(100, Number(r.query["per_page"] ?? 30));
    const page = Number(r.query["page"] ?? 1);
    const items = all.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    if (page * perPage < all.length) headers["link"] = `<${this.url}${r.path}?per_page=${perPage}&page=${page + 1}>; rel="next"`;
    send(200, items, headers);
  }

  private createReview(pr: PullState, b: any, send: (status: number, body: unknown) => void): void {
    if (b?.commit_id && b.commit_id !== pr.push.headSha) return send(422, { message: "Unprocessable Entity", errors: ["commit_id is not part of the pull request"] });
    const comments: any[] = b?.comments ?? [];
    for (const c of comments) {
      const file = pr.push.files.find((f) => (c.side === "LEFT" ? f.oldPath : f.newPath) === c.path);
      const lines = file ? diffLines(file.hunks) : [];
      const ok = c.side === "LEFT" ? lines.some((l) => l.type !== "+" && l.oldLine === c.line) : lines.some((l) => l.type !== "-" && l.newLine === c.line);
      if (!ok) return send(422, { message: "Unprocessable Entity", errors: ["Line could not be resolved"] });
    }
    const at = this.clock();
    const review = { id: this.nextId++, node_id: `PRR_${this.nextId}`, body: b?.body ?? "", commit_id: pr.push.headSha, state: "COMMENTED", user: { login: "dmabuf-review[bot]", type: "Bot" }, submitted_at: at };
    pr.reviews.push(review);
    for (const c of comments) {
      const id = this.nextId++;
      const side = c.side ?? "RIGHT";
      const file = pr.push.files.find((f) => (side === "LEFT" ? f.oldPath : f.newPath) === c.path)!;
      pr.comments.push({
        id,
        node_id: `PRRC_${id}`,
        pull_request_review_id: review.id,
        path: c.path,
        line: c.line,
        side,
        commit_id: pr.push.headSha,
        original_commit_id: pr.push.headSha,
        original_line: c.line,
        start_line: null,
        original_start_line: null,
        diff_hunk: hunkUpTo(file.hunks, side, c.line),
        created_at: at,
        body: c.body,
        user: review.user,
      });
    }
    send(200, review);
  }

  private validJwt(header: string | undefined): boolean {
    const jwt = header?.replace(/^bearer /i, "");
    const parts = jwt?.split(".");
    if (!parts || parts.length !== 3) return false;
    const verify = createVerify("RSA-SHA256");
    verify.update(`${parts[0]}.${parts[1]}`);
    if (!verify.verify(this.publicKey, Buffer.from(parts[2]!, "base64url"))) return false;
    const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as { iss?: number | string; exp?: number };
    return String(claims.iss) === String(APP_ID) && (claims.exp ?? 0) * 1000 > Date.now();
  }
}

/** GitHub's diff_hunk: the hunk's header and its lines up to the commented one. */
function hunkUpTo(hunks: string, side: "LEFT" | "RIGHT", line: number): string {
  const lines = hunks.split("\n");
  let header = 0;
  let oldLine = 0;
  let newLine = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const m = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(l);
    if (m) {
      header = i;
      oldLine = Number(m[1]);
      newLine = Number(m[2]);
      continue;
    }
    const hit = side === "LEFT" ? !l.startsWith("+") && oldLine === line : !l.startsWith("-") && newLine === line;
    if (hit) return lines.slice(header, i + 1).join("\n");
    if (!l.startsWith("+")) oldLine++;
    if (!l.startsWith("-")) newLine++;
  }
  return "";
}

function fileJson(f: Push["files"][number]) {
  const status = f.status === "added" ? "added" : f.status === "deleted" ? "removed" : f.status === "renamed" ? "renamed" : "modified";
  const name = f.newPath ?? f.oldPath!;
  return {
    sha: "0".repeat(40),
    filename: name,
    ...(status === "renamed" ? { previous_filename: f.oldPath } : {}),
    status,
    additions: f.additions,
    deletions: f.deletions,
    changes: f.additions + f.deletions,
    ...(f.hunks && !f.binary ? { patch: f.hunks } : {}),
  };
}
