import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "../../src/state/sqlite.js";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { splitMbox } from "../../src/ingest/mbox/reader.js";
import { assertBuilt, ROOT } from "../helpers/cli.js";
import { fixture } from "../helpers/mail.js";
import { GITLAB_SECRET } from "../peers/forge-server.js";
import { pushFromMbox } from "../peers/forge-series.js";
import { GITLAB_TOKEN } from "../peers/gitlab-standin.js";
import { mergeRequestHook } from "../peers/gitlab-hooks.js";
import { PeerInbox } from "../peers/public-inbox.js";

beforeAll(() => assertBuilt());

const BIN = join(ROOT, "bin", "dmabuf-review.js");

/** `node bin/dmabuf-review.js watch --config FILE`, its output kept, waited on by what it prints. */
class Watch {
  readonly proc: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  private readonly waiters = new Set<() => void>();

  constructor(config: string, env: NodeJS.ProcessEnv = {}) {
    const base = { ...process.env };
    for (const k of ["PORT", "HOST", "APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET", "GITLAB_URL", "GITLAB_TOKEN", "GITLAB_WEBHOOK_SECRET", "DMABUF_REVIEW_DEBUG"]) delete base[k];
    this.proc = spawn(process.execPath, [BIN, "watch", "--config", config], { cwd: ROOT, env: { ...base, DMABUF_REVIEW_PROGRESS: "off", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    this.proc.stdout!.on("data", (b: Buffer) => this.heard(() => (this.stdout += b.toString("utf8"))));
    this.proc.stderr!.on("data", (b: Buffer) => this.heard(() => (this.stderr += b.toString("utf8"))));
    this.exited = new Promise((resolve) => this.proc.on("exit", (code, signal) => resolve({ code, signal, at: Date.now() })));
    void this.exited.then(() => this.heard(() => undefined));
  }

  private heard(add: () => void): void {
    add();
    for (const w of [...this.waiters]) w();
  }

  /** What stderr says to a person: its lines that are not JSON log records. */
  human(): string {
    return this.stderr
      .split("\n")
      .filter((l) => !l.startsWith("{"))
      .join("\n");
  }

  /** The first log record (stderr, JSON lines when not on a terminal) whose message matches. */
  log(msg: RegExp): Record<string, any> | undefined {
    for (const line of this.stderr.split("\n")) {
      if (!line.startsWith("{")) continue;
      const rec = JSON.parse(line) as Record<string, any>;
      if (msg.test(String(rec["msg"]))) return rec;
    }
    return undefined;
  }

  /** Resolves once `found` holds on what was printed; fails if the process exits first. */
  until<T>(found: () => T | undefined, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = found();
        if (v !== undefined) {
          this.waiters.delete(check);
          return resolve(v);
        }
        if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
          this.waiters.delete(check);
          reject(new Error(`exited before ${what}; stderr: ${this.stderr}`));
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGKILL");
  }
}

/** A forge API that accepts connections and never answers. */
async function silentApi(): Promise<{ url: string; connected: Promise<void>; close(): void }> {
  const sockets: Socket[] = [];
  let heard: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (heard = resolve));
  const server: Server = createServer((s) => {
    sockets.push(s);
    s.once("data", () => heard());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connected,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

function writeConfig(dir: string, text: string): string {
  const path = join(dir, "config.yaml");
  writeFileSync(path, text);
  return path;
}

const running: Watch[] = [];
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const w of running.splice(0)) w.kill();
  for (const c of cleanups.splice(0)) c();
});

function start(config: string, env: NodeJS.ProcessEnv = {}): Watch {
  const w = new Watch(config, env);
  running.push(w);
  return w;
}

/** Something else on the port: a plain listener on loopback. */
async function occupied(): Promise<number> {
  const other = createServer(() => undefined);
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => other.close());
  return (other.address() as AddressInfo).port;
}

describe("watch: a port that is taken", () => {
  it("exits at once, exit code 2, one line naming the port and the setting to change; no mail is read", async () => {
    const port = await occupied();
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-watch-"));
    // A mirror that would keep the process polling if the mail channel ever started.
    writeFileSync(join(dir, "list.mbox"), "");
    const config = writeConfig(dir, `data-dir: ${dir}/data\nhttp:\n  port: ${port}\nmail:\n  mirrors:\n    - name: somewhere\n      inbox: ${dir}/list.mbox\n      poll: 1s\n`);
    const w = start(config);
    const end = await w.exited;
    expect(end.code).toBe(2);
    expect(w.human()).toBe(`dmabuf-review: port-unavailable: port ${port} on 127.0.0.1 is already in use; set http.port in ${config} to another port\n`);
    // Nothing slow was started, and no mail read.
    expect(w.log(/review pool/)).toBeUndefined();
    expect(w.log(/pass/)).toBeUndefined();
  });

  it("names PORT when the port came from the environment", async () => {
    const port = await occupied();
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-watch-"));
    const config = writeConfig(dir, `data-dir: ${dir}/data\nmail:\n  demo: false\n`);
    const w = start(config, { PORT: String(port) });
    expect((await w.exited).code).toBe(2);
    expect(w.human()).toBe(`dmabuf-review: port-unavailable: port ${port} on 127.0.0.1 is already in use; set PORT to another port\n`);
  });
});

describe("watch: /healthz and SIGTERM with a delivery in hand", () => {
  it("shows the mail channel beside the forges; on SIGTERM stops within the grace time and records the delivery as not done", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-watch-"));
    // The cover letter and patch 1 of 3, just archived: the series waits for the rest.
    const inbox = new PeerInbox(join(dir, "inbox"));
    const series = splitMbox(readFileSync(fixture("series/dma-coherent-v1.mbox")), "f").map((r) => r.bytes);
    const head = series.slice(0, 2).map((m) => inbox.add(m, { time: new Date() }))[1];
    const config = writeConfig(
      dir,
      [
        `data-dir: ${dir}/data`,
        "http:",
        "  port: 0",
        "  shutdown-grace: 1s",
        "mail:",
        "  series-wait: 1h",
        "  mirrors:",
        `    - name: dri-devel`,
        `      inbox: ${inbox.dir}`,
        "      poll: 1h",
        "",
      ].join("\n"),
    );
    const api = await silentApi();
    cleanups.push(() => api.close());
    const w = start(config, { GITLAB_URL: api.url, GITLAB_TOKEN, GITLAB_WEBHOOK_SECRET: GITLAB_SECRET });
    const url = (await w.until(() => w.log(/^http: listening on /), "listening"))["url"] as string;
    await w.until(() => w.log(/^pass done$/), "the first pass");

    const health = (await (await fetch(`${url}/healthz`)).json()) as any;
    expect(health.channels.gitlab).toMatchObject({ on: true, api: api.url });
    expect(health.mail).toEqual({
      on: true,
      mirrors: [
        {
          name: "dri-devel",
          inbox: inbox.dir,
          pollSeconds: 3600,
          mode: "shadow",
          lastPass: { at: expect.any(String), ok: true, messages: 2, reviewed: 0, replies: 0, skipped: 0, seconds: expect.any(Number) },
          cursors: { "0": head },
          waitingThreads: 1,
          oldestWaitingSince: expect.any(String),
        },
      ],
      pendingMail: expect.objectContaining({ pending: 0, failed: 0, lastError: null }),
    });

    // A merge request event whose API calls never come back.
    const push = await pushFromMbox();
    const delivery = fetch(`${url}/api/gitlab/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-gitlab-token": GITLAB_SECRET, "x-gitlab-event": "Merge Request Hook", "idempotency-key": "mr-7-open" },
      body: JSON.stringify(mergeRequestHook("open", push)),
    }).then(
      async (r) => ({ status: r.status, body: (await r.json()) as unknown }),
      (err: Error) => ({ status: 0, body: err.message }),
    );
    await api.connected;
    const signalled = Date.now();
    w.proc.kill("SIGTERM");
    const end = await w.exited;
    expect(end.code).toBe(0);
    // 1 s of grace, then out: not held by the request that never ends.
    expect(end.at - signalled).toBeLessThan(4_000);
    expect(await delivery).toEqual({ status: 503, body: { error: "shutting-down", detail: "the bot stopped before this delivery was done; send it again" } });
    expect(w.stderr).toContain("dmabuf-review: stopping (deliveries in hand get up to 1 s); Ctrl-C again exits at once\n");

    const db = new Database(join(dir, "data", "state.db"), { readonly: true });
    const row = db.prepare("SELECT outcome FROM deliveries WHERE channel = 'gitlab' AND delivery_id = 'mr-7-open'").get() as { outcome: string };
    db.close();
    // "failed:" is what lets the forge's redelivery claim it again.
    expect(row.outcome).toMatch(/^failed: interrupted: the bot stopped before this delivery was done/);
  });

  it("a second SIGINT exits at once, without waiting for the grace time", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-watch-"));
    const config = writeConfig(dir, `data-dir: ${dir}/data\nhttp:\n  port: 0\n  shutdown-grace: 5m\nmail:\n  demo: false\n`);
    const api = await silentApi();
    cleanups.push(() => api.close());
    const w = start(config, { GITLAB_URL: api.url, GITLAB_TOKEN, GITLAB_WEBHOOK_SECRET: GITLAB_SECRET });
    const url = (await w.until(() => w.log(/^http: listening on /), "listening"))["url"] as string;
    const push = await pushFromMbox();
    void fetch(`${url}/api/gitlab/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-gitlab-token": GITLAB_SECRET, "x-gitlab-event": "Merge Request Hook" },
      body: JSON.stringify(mergeRequestHook("open", push)),
    }).catch(() => undefined);
    await api.connected;
    w.proc.kill("SIGINT");
    await w.until(() => (w.stderr.includes("dmabuf-review: stopping") ? true : undefined), "the first stop");
    const again = Date.now();
    w.proc.kill("SIGINT");
    const end = await w.exited;
    expect(end.code).toBe(130);
    expect(end.at - again).toBeLessThan(2_000);
    expect(w.stderr).toContain("dmabuf-review: SIGINT again: exiting now\n");
  });
});
