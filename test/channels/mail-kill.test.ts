import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendToInbox, type ArchivedMessage } from "../../src/ingest/public-inbox/writer.js";
import { Store } from "../../src/state/store.js";
import { assertBuilt, ROOT } from "../helpers/cli.js";
import { fixture } from "../helpers/mail.js";
import { mail } from "../peers/public-inbox.js";
import { startSmtpPeer, type SmtpPeer } from "../peers/smtp.js";
import { BOT, fixtureMessages, header, LIST, mailEnv } from "./mail-setup.js";

/**
 * The watcher is a real child process (the built CLI, `watch --once`), killed with SIGKILL in the
 * middle of its work three times and started again each time. Every message must be recorded
 * once and every reply must reach the SMTP server exactly once: the same set of replies, by
 * Message-ID, as an undisturbed run produces.
 *
 * A kill never lands between the server's "250" and the bot's ledger write: no transport can
 * close that window (the reply left, the bot did not hear). The peer holds new mail unanswered
 * while a kill is on its way and waits for the bot to log every answered reply as posted; a
 * reply held unanswered when the bot dies was not delivered, and must come again.
 */

function archive(): ArchivedMessage[] {
  const out: ArchivedMessage[] = [];
  const t0 = Date.UTC(2026, 9, 1);
  const push = (b: Buffer | string) => out.push({ bytes: Buffer.isBuffer(b) ? b : Buffer.from(b), time: new Date(t0 + out.length * 60_000) });
  const udmabuf = readFileSync(fixture("model/udmabuf-skip-cpu-sync.patch"), "latin1").replace(/^From [0-9a-f]{40} .*\n/, "");
  const heap = readFileSync(fixture("model/system-heap-unmap-sync-dropped.patch"), "latin1").replace(/^From [0-9a-f]{40} .*\n/, "");
  for (let i = 0; i < 1500; i++) {
    // Mostly list traffic that is not about dma-buf, as on dri-devel.
    if (i % 3 === 0) push(mail({ id: `chat-${i}@example.org`, subject: `Question ${i} about fences` }, `How do fences work here? ${i}\n`));
    else push(mail({ id: `drv-${i}@example.org`, subject: `[PATCH] drm/foo: fix the vblank counter (${i})` }, `Fix it.\n\nSigned-off-by: A <a@example.org>\n---\ndiff --git a/drivers/gpu/drm/foo/foo_crtc.c b/drivers/gpu/drm/foo/foo_crtc.c\n--- a/drivers/gpu/drm/foo/foo_crtc.c\n+++ b/drivers/gpu/drm/foo/foo_crtc.c\n@@ -10,3 +10,4 @@ static void foo_crtc_enable(struct foo_crtc *c)\n \tfoo_start(c);\n+\tfoo_count(c, ${i});\n \treturn;\n }\n`));
    if (i % 100 === 50) {
      const n = Math.floor(i / 100);
      const body = n % 2 === 0 ? udmabuf : heap;
      push(Buffer.from(`Message-ID: <dmabuf-${n}@example.org>\nTo: ${LIST}\n${body.replace(/^Subject: (.*)$/m, `Subject: $1 (take ${n})`)}`, "latin1"));
    }
  }
  for (const m of fixtureMessages("series/dma-coherent-v1.mbox")) push(m);
  return out;
}

interface Run {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Messages the peer answered while this child lived, and replies it logged as posted. */
  acked: number;
  posted: number;
  reviewed: number;
  readonly lines: string[];
}

describe("the watcher killed mid-batch and restarted", () => {
  let peer: SmtpPeer;
  let dir: string;
  let inbox: string;
  let config: string;
  let current: Run | undefined;

  beforeAll(async () => {
    assertBuilt();
    peer = await startSmtpPeer();
    dir = mkdtempSync(join(tmpdir(), "dmabuf-review-kill-"));
    inbox = join(dir, "inbox");
    await appendToInbox(inbox, archive());
    config = join(dir, "config.yaml");
    writeFileSync(
      config,
      [
        `data-dir: ${join(dir, "data")}`,
        "mail:",
        `  from: "${BOT.name} <${BOT.email}>"`,
        "  delivery: smtp",
        `  smtp: { host: 127.0.0.1, port: ${peer.port}, secure: false }`,
        "  batch: 25",
        "  demo: false",
        "  mirrors:",
        `    - { name: dri-devel, inbox: ${inbox}, list: ${LIST}, history: reply }`,
        "",
      ].join("\n"),
    );
  });

  afterAll(async () => {
    current?.child.kill("SIGKILL");
    await peer.close();
  });

  function start(): Run {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "info" };
    delete env["DMABUF_REVIEW_DEBUG"];
    const child = spawn(process.execPath, [join(ROOT, "bin/dmabuf-review.js"), "watch", "--once", "--config", config], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    const run: Run = {
      child,
      exited: new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal }))),
      acked: 0,
      posted: 0,
      reviewed: 0,
      lines: [],
    };
    let buf = "";
    // The log is on stderr, one JSON line each (stderr is a pipe); stdout stays empty.
    child.stderr!.on("data", (c: Buffer) => {
      buf += c.toString();
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        run.lines.push(line);
        if (!line.startsWith("{")) continue;
        const msg = (JSON.parse(line) as { msg?: string }).msg;
        if (msg === "reply posted") run.posted++;
        if (msg === "series reviewed") run.reviewed++;
      }
    });
    child.stdout!.on("data", (c: Buffer) => run.lines.push(c.toString()));
    current = run;
    return run;
  }

  const until = async (cond: () => boolean, what: string) => {
    const t0 = Date.now();
    while (!cond()) {
      if (Date.now() - t0 > 60_000) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  /** Hold new mail unanswered, let every answered reply reach the ledger, then SIGKILL. */
  async function kill(run: Run): Promise<void> {
    peer.hold = () => true;
    await until(() => run.acked === run.posted, "the ledger to catch up with the server");
    run.child.kill("SIGKILL");
    expect(await run.exited).toMatchObject({ signal: "SIGKILL" });
    peer.hold = undefined;
  }

  /** Count what the server answers while `run` lives. */
  function counting(run: Run, hold?: (n: number) => boolean): void {
    peer.hold = () => {
      if (hold?.(run.acked + 1)) return true;
      run.acked++;
      return false;
    };
  }

  it("records every message once and sends every reply exactly once", async () => {
    // What an undisturbed run sends, by Message-ID (our own outbox, in process).
    const reference = await mailEnv(inbox, { mail: { batch: 25 } });
    await reference.engine.pass({ reply: "new" });
    const expected = reference.mails().map((m) => header(m, "Message-ID")!.slice(1, -1)).sort();
    await reference.close();
    expect(expected.length).toBeGreaterThanOrEqual(14);

    // 1: killed while the server holds the second reply's DATA unanswered.
    const r1 = start();
    let fire: (() => void) | undefined;
    const held = new Promise<void>((resolve) => (fire = resolve));
    counting(r1, (n) => {
      if (n === 2) fire!();
      return n >= 2;
    });
    await Promise.race([held, r1.exited]);
    await kill(r1);
    expect(r1.acked).toBe(1);

    // 2: killed in the middle of a batch, just after a series was reviewed.
    const r2 = start();
    counting(r2);
    await Promise.race([until(() => r2.reviewed >= 2, "a review"), r2.exited]);
    await kill(r2);

    // 3: killed at a moment of no choosing, while reading or reviewing.
    const r3 = start();
    counting(r3);
    await Promise.race([new Promise((r) => setTimeout(r, 1000 + Math.floor(Math.random() * 1500))), r3.exited]);
    if (r3.child.exitCode === null) await kill(r3);

    // 4: to the end.
    const r4 = start();
    counting(r4);
    const end = await r4.exited;
    expect(end, r4.lines.slice(-5).join("\n")).toEqual({ code: 0, signal: null });

    // The first kills came before the end of the work.
    expect(r1.acked + r2.acked).toBeLessThan(expected.length);
    console.log(`replies per run: ${[r1, r2, r3, r4].map((r) => r.acked).join(", ")} (${expected.length} in all)`);

    // Exactly once, and exactly the undisturbed run's replies.
    const got = peer.received.map((r) => r.messageId!);
    expect(new Set(got).size).toBe(got.length);
    expect([...got].sort()).toEqual(expected);

    // 5: nothing left to do.
    const r5 = start();
    counting(r5);
    expect(await r5.exited).toEqual({ code: 0, signal: null });
    expect(r5.posted).toBe(0);
    expect(peer.received).toHaveLength(expected.length);

    // Every archived message recorded once; the cursor at the head; nothing pending or waiting.
    const store = Store.open(join(dir, "data", "state.db"));
    try {
      expect(store.db.prepare("SELECT COUNT(*) FROM messages").pluck().get()).toBe(archive().length);
      expect(store.ledger.pending("mail")).toEqual([]);
      expect(store.cursors.get(inbox, "0")).toBe(execFileSync("git", ["--git-dir", join(inbox, "git", "0.git"), "rev-parse", "HEAD"]).toString().trim());
      expect(store.db.prepare("SELECT COUNT(*) FROM mail_threads WHERE relevant = 1 AND waiting = 1").pluck().get()).toBe(0);
      expect(store.db.prepare("SELECT COUNT(*) FROM messages WHERE status = 'seen' AND kind IN ('patch', 'cover') AND thread IN (SELECT thread FROM mail_threads WHERE relevant = 1)").pluck().get()).toBe(0);
    } finally {
      store.close();
    }
  }, 240_000);
});
