import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sign } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { GithubStandin, INSTALLATION_ID } from "../peers/github-standin.js";
import { GitlabStandin } from "../peers/gitlab-standin.js";
import { GITHUB_SECRET, GITLAB_SECRET, reviewDeps, startForgeServer, type ForgeServer } from "../peers/forge-server.js";
import { pushFromMbox, type Push } from "../peers/forge-series.js";
import { deliverGitlab, mergeRequestHook } from "../peers/gitlab-hooks.js";

const examples = createRequire(import.meta.url)("@octokit/webhooks-examples/api.github.com/index.json") as { name: string; examples: any[] }[];
const opened = () => structuredClone(examples.find((e) => e.name === "pull_request")!.examples.find((e) => e.action === "opened" && e.installation?.id === INSTALLATION_ID)!);

async function post(url: string, path: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`${url}${path}`, { method: "POST", headers, body });
  const text = await res.text();
  return { status: res.status, text };
}

async function health(url: string) {
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, body: (await res.json()) as any };
}

describe("one HTTP server: both channels on", () => {
  let gh: GithubStandin;
  let gl: GitlabStandin;
  let fs: ForgeServer;
  let v1: Push;

  beforeAll(async () => {
    v1 = await pushFromMbox();
    gh = await GithubStandin.start();
    gl = await GitlabStandin.start();
    fs = await startForgeServer({ github: gh, gitlab: gl }, { maxBodyBytes: 64 * 1024 });
  });

  afterAll(async () => {
    await fs.close();
    await gh.close();
    await gl.close();
  });

  it("reports channels, store and counters on /healthz", async () => {
    const h = await health(fs.server.url);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({
      status: "ok",
      channels: { github: { on: true, path: "/api/github/webhooks", api: `${gh.url}/api/v3` }, gitlab: { on: true, path: "/api/gitlab/webhooks", api: gl.url } },
      store: { ok: true, schemaVersion: expect.any(Number) },
      counters: { github: { received: 0, rejected: 0 }, gitlab: { received: 0, rejected: 0 } },
    });
  });

  it("answers a wrong or missing GitHub signature with 401, and nothing else happens", async () => {
    const body = JSON.stringify(opened());
    const base = { "content-type": "application/json", "x-github-event": "pull_request", "x-github-delivery": crypto.randomUUID() };
    const wrong = await post(fs.server.url, "/api/github/webhooks", body, { ...base, "x-hub-signature-256": await sign("not-the-secret", body) });
    const missing = await post(fs.server.url, "/api/github/webhooks", body, base);
    const garbage = await post(fs.server.url, "/api/github/webhooks", body, { ...base, "x-hub-signature-256": "sha256=zz" });
    expect([wrong.status, missing.status, garbage.status]).toEqual([401, 401, 401]);
    expect(JSON.parse(wrong.text)).toEqual({ error: "bad-signature" });
    expect(gh.requests).toEqual([]);
    expect(fs.store.db.prepare("SELECT COUNT(*) AS n FROM deliveries").get()).toEqual({ n: 0 });
    expect((await health(fs.server.url)).body.counters.github).toMatchObject({ rejected: 3, received: 3 });
  });

  it("answers a wrong or missing GitLab token with 401, and nothing else happens", async () => {
    const wrong = await deliverGitlab(fs.server.url, mergeRequestHook("open", v1), { token: `${GITLAB_SECRET}x` });
    const missing = await deliverGitlab(fs.server.url, mergeRequestHook("open", v1), { token: null });
    const empty = await deliverGitlab(fs.server.url, mergeRequestHook("open", v1), { token: "" });
    expect([wrong, missing, empty].map((r) => r.status)).toEqual([401, 401, 401]);
    expect(wrong.body).toEqual({ error: "bad-token" });
    expect(gl.requests).toEqual([]);
    // Counted as GitHub's are: every request on the forge's path is received, refused or not.
    expect((await health(fs.server.url)).body.counters.gitlab).toMatchObject({ rejected: 3, received: 3 });
  });

  it("answers malformed deliveries with 400 or 415 and keeps serving", async () => {
    const notJson = "{ not json";
    const signed = await post(fs.server.url, "/api/github/webhooks", notJson, {
      "content-type": "application/json",
      "x-github-event": "pull_request",
      "x-github-delivery": crypto.randomUUID(),
      "x-hub-signature-256": await sign(GITHUB_SECRET, notJson),
    });
    expect(signed.status).toBe(400);
    const formBody = "payload=%7B%7D";
    const form = await post(fs.server.url, "/api/github/webhooks", formBody, {
      "content-type": "application/x-www-form-urlencoded",
      "x-github-event": "pull_request",
      "x-github-delivery": crypto.randomUUID(),
      "x-hub-signature-256": await sign(GITHUB_SECRET, formBody),
    });
    expect(form.status).toBe(415);
    const noEvent = await post(fs.server.url, "/api/github/webhooks", "{}", { "content-type": "application/json", "x-github-delivery": "d", "x-hub-signature-256": await sign(GITHUB_SECRET, "{}") });
    expect(noEvent.status).toBe(400);

    expect((await deliverGitlab(fs.server.url, undefined, { raw: notJson })).status).toBe(400);
    expect((await deliverGitlab(fs.server.url, undefined, { raw: "{}", contentType: "text/plain" })).status).toBe(415);
    const half = mergeRequestHook("open", v1) as any;
    delete half.object_attributes.last_commit;
    expect(await deliverGitlab(fs.server.url, half)).toEqual({ status: 400, body: { error: "unknown-event", detail: "object_attributes.last_commit.id missing or not a commit id" } });
    expect(await deliverGitlab(fs.server.url, [1, 2, 3])).toEqual({ status: 400, body: { error: "unknown-event", detail: "payload is not a JSON object" } });

    // A signed pull_request delivery with a payload Probot accepts but the channel cannot use.
    const odd = JSON.stringify({ action: "opened", pull_request: { number: "two" }, repository: {}, installation: { id: INSTALLATION_ID } });
    const oddRes = await post(fs.server.url, "/api/github/webhooks", odd, {
      "content-type": "application/json",
      "x-github-event": "pull_request",
      "x-github-delivery": crypto.randomUUID(),
      "x-hub-signature-256": await sign(GITHUB_SECRET, odd),
    });
    expect(oddRes.status).toBe(200);
    expect(fs.logs.some((l) => l["msg"] === "github: payload skipped" && l["detail"] === "repository owner/name, number or head sha missing")).toBe(true);

    expect(gh.requests.filter((r) => !r.path.endsWith("/access_tokens"))).toEqual([]);
    expect(gl.requests).toEqual([]);
    expect((await health(fs.server.url)).status).toBe(200);
  });

  it("acknowledges events it does not review with a logged skip", async () => {
    const ping = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1, hook: {} });
    const res = await post(fs.server.url, "/api/github/webhooks", ping, {
      "content-type": "application/json",
      "x-github-event": "ping",
      "x-github-delivery": "ping-1",
      "x-hub-signature-256": await sign(GITHUB_SECRET, ping),
    });
    expect(res.status).toBe(200);
    const labeled = examples.find((e) => e.name === "pull_request")!.examples.find((e) => e.action === "labeled")!;
    const body = JSON.stringify(labeled);
    const res2 = await post(fs.server.url, "/api/github/webhooks", body, {
      "content-type": "application/json",
      "x-github-event": "pull_request",
      "x-github-delivery": "labeled-1",
      "x-hub-signature-256": await sign(GITHUB_SECRET, body),
    });
    expect(res2.status).toBe(200);
    expect(fs.logs.filter((l) => l["msg"] === "github: event not reviewed, skipped").map((l) => `${l["event"]}.${l["action"] ?? ""}`)).toEqual(["ping.", "pull_request.labeled"]);
    // The published opened example sent by an app without an installation (a user webhook).
    const bare = JSON.stringify(examples.find((e) => e.name === "pull_request")!.examples.find((e) => e.action === "opened" && !e.installation)!);
    const res3 = await post(fs.server.url, "/api/github/webhooks", bare, {
      "content-type": "application/json",
      "x-github-event": "pull_request",
      "x-github-delivery": "no-installation-1",
      "x-hub-signature-256": await sign(GITHUB_SECRET, bare),
    });
    expect(res3.status).toBe(200);
    expect(fs.logs.some((l) => l["msg"] === "github: delivery without an installation, skipped")).toBe(true);
    expect(gh.requests.filter((r) => !r.path.endsWith("/access_tokens"))).toEqual([]);
  });

  it("refuses bodies over the limit, unknown routes and wrong methods", async () => {
    const big = "x".repeat(65 * 1024);
    expect((await post(fs.server.url, "/api/gitlab/webhooks", big, { "content-type": "application/json", "x-gitlab-token": GITLAB_SECRET })).status).toBe(413);
    expect((await fetch(`${fs.server.url}/api/gitlab/webhooks`)).status).toBe(405);
    expect((await fetch(`${fs.server.url}/nope`)).status).toBe(404);
    expect((await post(fs.server.url, "/healthz", "", {})).status).toBe(405);
    expect((await health(fs.server.url)).status).toBe(200);
  });
});

describe("one HTTP server: channels without credentials", () => {
  let fs: ForgeServer;

  beforeAll(async () => {
    await reviewDeps();
    fs = await startForgeServer({}, {}, { GITLAB_URL: "https://gitlab.freedesktop.org", GITLAB_TOKEN: "glpat-x" });
  });

  afterAll(async () => {
    await fs.close();
  });

  it("says which channel is off and why, at start and on /healthz, and answers 503 there", async () => {
    const h = await health(fs.server.url);
    expect(h.body.channels).toEqual({
      github: { on: false, path: "/api/github/webhooks", reason: "APP_ID, PRIVATE_KEY, WEBHOOK_SECRET not set" },
      gitlab: { on: false, path: "/api/gitlab/webhooks", reason: "GITLAB_WEBHOOK_SECRET not set" },
    });
    expect(fs.logs.filter((l) => typeof l["msg"] === "string" && (l["msg"] as string).includes("channel off")).map((l) => l["msg"])).toEqual([
      "github channel off: APP_ID, PRIVATE_KEY, WEBHOOK_SECRET not set",
      "gitlab channel off: GITLAB_WEBHOOK_SECRET not set",
    ]);
    const gh = await post(fs.server.url, "/api/github/webhooks", "{}", { "content-type": "application/json" });
    expect(gh.status).toBe(503);
    expect(JSON.parse(gh.text)).toEqual({ error: "channel-off", detail: "APP_ID, PRIVATE_KEY, WEBHOOK_SECRET not set" });
    const gl = await post(fs.server.url, "/api/gitlab/webhooks", "{}", { "content-type": "application/json" });
    expect(gl.status).toBe(503);
  });
});

describe("GitHub App credentials the Probot way", () => {
  it("reads the private key from PRIVATE_KEY_PATH, and says clearly when it cannot", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-key-"));
    writeFileSync(join(dir, "app.pem"), "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n");
    const config = await loadConfig(undefined, { APP_ID: "1", PRIVATE_KEY_PATH: join(dir, "app.pem") });
    expect(config.github.privateKey).toContain("BEGIN PRIVATE KEY");
    await expect(loadConfig(undefined, { PRIVATE_KEY_PATH: join(dir, "missing.pem") })).rejects.toMatchObject({ reason: "bad-config", message: `bad-config: PRIVATE_KEY_PATH=${join(dir, "missing.pem")}: cannot read: ENOENT` });
  });
});

describe("one HTTP server: a GitHub App key that is not a key", () => {
  it("keeps the channel off and says so, instead of failing at the first delivery", async () => {
    await reviewDeps();
    const fs = await startForgeServer({}, {}, { APP_ID: "1", PRIVATE_KEY: "not a key", WEBHOOK_SECRET: "s" });
    try {
      const h = await health(fs.server.url);
      expect(h.body.channels.github).toMatchObject({ on: false, reason: expect.stringMatching(/^PRIVATE_KEY is not a PEM private key \(/) });
    } finally {
      await fs.close();
    }
  });
});
