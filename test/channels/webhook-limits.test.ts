import { request } from "node:http";
import { sign } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GithubStandin } from "../peers/github-standin.js";
import { GitlabStandin } from "../peers/gitlab-standin.js";
import { GITHUB_SECRET, GITLAB_SECRET, startForgeServer, type ForgeServer } from "../peers/forge-server.js";

const LIMIT = 64 * 1024;

interface Answer {
  readonly status: number;
  readonly body: any;
  /** Bytes of the body the client had written when the answer came. */
  readonly sentBeforeAnswer: number;
}

/**
 * A POST that declares `declared` bytes (Content-Length) and writes only `send` of them, in
 * 16 KiB chunks, then waits: the answer has to come from the headers, not from the body.
 */
function slowPost(url: string, path: string, headers: Record<string, string>, declared: number, send = Math.min(declared, LIMIT) / 2): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    let sent = 0;
    let answered = false;
    const req = request(`${url}${path}`, { method: "POST", headers: { ...headers, "content-length": String(declared) } });
    req.on("response", (res) => {
      answered = true;
      const at = sent;
      const parts: Buffer[] = [];
      res.on("data", (b: Buffer) => parts.push(b));
      res.on("end", () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString("utf8")), sentBeforeAnswer: at });
      });
    });
    // The server closing the connection under a client still writing is the point, not a failure.
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    const pump = () => {
      while (!answered && sent < send) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      // The rest is held back: a server that waits for the body never answers.
    };
    req.flushHeaders();
    pump();
  });
}

/**
 * A chunked body streamed until the server stops reading it: the answer, how much was written,
 * and whether the connection was closed within `closeWithinMs` of the answer.
 */
function floodChunked(url: string, path: string, headers: Record<string, string>, max: number, closeWithinMs = 3_000): Promise<{ status: number | undefined; written: number; closed: boolean }> {
  return new Promise((resolve) => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let written = 0;
    let status: number | undefined;
    let done = false;
    let deadline: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      req.destroy();
      resolve({ status, written, closed });
    };
    const req = request(`${url}${path}`, { method: "POST", headers: { ...headers, "transfer-encoding": "chunked" } });
    req.on("response", (res) => {
      status = res.statusCode;
      res.resume();
      deadline = setTimeout(() => finish(false), closeWithinMs);
    });
    req.on("error", () => finish(true));
    req.on("close", () => finish(true));
    const pump = () => {
      while (!done && written < max) {
        const more = req.write(chunk);
        written += chunk.length;
        if (!more) return void req.once("drain", pump);
      }
      if (written >= max) finish(false);
    };
    pump();
  });
}

const githubHeaders = (extra: Record<string, string> = {}) => ({
  "content-type": "application/json",
  "x-github-event": "pull_request",
  "x-github-delivery": crypto.randomUUID(),
  ...extra,
});

describe("webhook requests refused early, and bodies that are not objects", () => {
  let gh: GithubStandin;
  let gl: GitlabStandin;
  let fs: ForgeServer;

  beforeAll(async () => {
    gh = await GithubStandin.start();
    gl = await GitlabStandin.start();
    fs = await startForgeServer({ github: gh, gitlab: gl }, { maxBodyBytes: LIMIT });
  });

  afterAll(async () => {
    await fs.close();
    await gh.close();
    await gl.close();
  });

  it("answers a signed JSON scalar, array or null with 400 and a JSON reason (GitHub and GitLab)", async () => {
    for (const body of ["42", "null", '"opened"', "[]", "true"]) {
      const res = await fetch(`${fs.server.url}/api/github/webhooks`, { method: "POST", headers: githubHeaders({ "x-hub-signature-256": await sign(GITHUB_SECRET, body) }), body });
      expect({ body, status: res.status, answer: await res.json() }).toEqual({ body, status: 400, answer: { error: "unknown-event", detail: "payload is not a JSON object" } });
      for (const event of ["Merge Request Hook", "Note Hook", "Push Hook"]) {
        const glRes = await fetch(`${fs.server.url}/api/gitlab/webhooks`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-gitlab-token": GITLAB_SECRET, "x-gitlab-event": event },
          body,
        });
        expect({ body, event, status: glRes.status, answer: await glRes.json() }).toEqual({ body, event, status: 400, answer: { error: "unknown-event", detail: "payload is not a JSON object" } });
      }
    }
    expect(fs.store.db.prepare("SELECT COUNT(*) AS n FROM deliveries").get()).toEqual({ n: 0 });
    expect(gh.requests.filter((r) => !r.path.endsWith("/access_tokens"))).toEqual([]);
    expect(gl.requests).toEqual([]);
  });

  it("answers a signed GitHub delivery whose installation.id is not a positive whole number with 400, not Probot's 500", async () => {
    for (const installation of [{ id: "x" }, { id: "1" }, { id: 0 }, { id: -1 }, { id: 1.5 }, { id: true }, { id: null }, {}, "x", [1]]) {
      const body = JSON.stringify({ action: "opened", installation });
      const res = await fetch(`${fs.server.url}/api/github/webhooks`, { method: "POST", headers: githubHeaders({ "x-hub-signature-256": await sign(GITHUB_SECRET, body) }), body });
      expect({ body, status: res.status, answer: await res.json() }).toEqual({ body, status: 400, answer: { error: "unknown-event", detail: "installation.id is not a positive whole number" } });
    }
    expect(fs.store.db.prepare("SELECT COUNT(*) AS n FROM deliveries").get()).toEqual({ n: 0 });
    expect(gh.requests.filter((r) => !r.path.endsWith("/access_tokens"))).toEqual([]);
  });

  it("answers a signed GitHub delivery with an empty or missing X-GitHub-Event with 400, not Probot's 500", async () => {
    const body = JSON.stringify({ action: "opened", installation: { id: 1 } });
    for (const event of ["", " ", undefined]) {
      const headers: Record<string, string> = githubHeaders({ "x-hub-signature-256": await sign(GITHUB_SECRET, body) });
      if (event === undefined) delete headers["x-github-event"];
      else headers["x-github-event"] = event;
      const res = await fetch(`${fs.server.url}/api/github/webhooks`, { method: "POST", headers, body });
      expect({ event, status: res.status, answer: await res.json() }).toEqual({ event, status: 400, answer: { error: "unknown-event", detail: "X-GitHub-Event is missing or empty" } });
    }
    expect(fs.store.db.prepare("SELECT COUNT(*) AS n FROM deliveries").get()).toEqual({ n: 0 });
  });

  it("rejects an unsigned GitHub body by its headers, before reading it", async () => {
    const res = await slowPost(fs.server.url, "/api/github/webhooks", githubHeaders(), LIMIT - 1024);
    expect(res).toMatchObject({ status: 401, body: { error: "bad-signature" } });
    expect(res.sentBeforeAnswer).toBeLessThan(LIMIT - 1024);
  });

  it("rejects a GitLab body with a wrong or missing token by its headers, before reading it", async () => {
    for (const token of [undefined, `${GITLAB_SECRET}x`]) {
      const headers: Record<string, string> = { "content-type": "application/json", "x-gitlab-event": "Merge Request Hook" };
      if (token) headers["x-gitlab-token"] = token;
      expect(await slowPost(fs.server.url, "/api/gitlab/webhooks", headers, LIMIT - 1024)).toMatchObject({ status: 401, body: { error: "bad-token" } });
    }
  });

  it("rejects a wrong content type, and a Content-Length over the limit, before reading the body", async () => {
    const signature = { "x-hub-signature-256": `sha256=${"0".repeat(64)}` };
    const form = await slowPost(fs.server.url, "/api/github/webhooks", githubHeaders({ ...signature, "content-type": "application/x-www-form-urlencoded" }), LIMIT - 1024);
    expect(form.status).toBe(415);
    const glForm = await slowPost(fs.server.url, "/api/gitlab/webhooks", { "content-type": "text/plain", "x-gitlab-token": GITLAB_SECRET }, LIMIT - 1024);
    expect(glForm.status).toBe(415);
    // 24 MB declared, a few KiB sent: the answer comes from the Content-Length alone.
    const declared = 24 * 1024 * 1024;
    const big = await slowPost(fs.server.url, "/api/github/webhooks", githubHeaders(signature), declared, 16 * 1024);
    expect(big).toMatchObject({ status: 413, body: { error: "too-large", detail: `body over ${LIMIT} bytes` } });
    const glBig = await slowPost(fs.server.url, "/api/gitlab/webhooks", { "content-type": "application/json", "x-gitlab-token": GITLAB_SECRET }, declared, 16 * 1024);
    expect(glBig.status).toBe(413);
  });

  it("stops reading a chunked body at the limit: 413, and the connection is closed", async () => {
    const max = 32 * 1024 * 1024;
    const gh413 = await floodChunked(fs.server.url, "/api/github/webhooks", githubHeaders({ "x-hub-signature-256": `sha256=${"0".repeat(64)}` }), max);
    expect(gh413).toMatchObject({ status: 413, closed: true });
    // What the kernel's socket buffers take in besides the limit; not the whole body.
    expect(gh413.written).toBeLessThan(max / 2);
    const gl413 = await floodChunked(fs.server.url, "/api/gitlab/webhooks", { "content-type": "application/json", "x-gitlab-token": GITLAB_SECRET }, max);
    expect(gl413).toMatchObject({ status: 413, closed: true });
    expect(gl413.written).toBeLessThan(max / 2);
    // The server still serves.
    expect((await fetch(`${fs.server.url}/healthz`)).status).toBe(200);
  });
});
