import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "../../src/state/sqlite.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareSnapshots, snapshot } from "../../bench/snapshot.js";
import { appendToInbox, type ArchivedMessage } from "../../src/ingest/public-inbox/writer.js";
import { Store } from "../../src/state/store.js";
import { assertBuilt, ROOT } from "../helpers/cli.js";
import { fixture } from "../helpers/mail.js";
import { mail, PeerInbox } from "../peers/public-inbox.js";
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
      // Each take by its own author: one author is not told the same thing about the same code twice.
      const body = (n % 2 === 0 ? udmabuf : heap).replace(/^From: .*$/m, `From: Dev ${n} <dev${n}@example.org>`);
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
        `    - { name: dri-devel, inbox: ${inbox}, list: ${LIST}, history: reply, mode: send, max-age: 100000d }`,
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

/**
 * What is sent must not depend on where a crash came: a backfill with --reply (a real child
 * process) killed with SIGKILL at chosen and at random moments, then run to its end, leaves the
 * very mails and store an undisturbed run leaves (compared byte for byte, dates aside). Each
 * thread is committed on its own: a restart does not redo the threads committed before the kill.
 */
describe("a backfill killed at any moment ends as an undisturbed one", () => {
  const T = Date.UTC(2026, 9, 1, 10, 0);
  const at = (minutes: number) => new Date(T + minutes * 60_000);
  const single = (rel: string, id: string, title: string) =>
    Buffer.from(`Message-ID: <${id}>\nTo: ${LIST}\n${readFileSync(fixture(rel), "latin1").replace(/^From [0-9a-f]{40} .*\n/, "").replace(/^Subject: .*$/m, `Subject: [PATCH] ${title}`)}`, "latin1");
  const SINGLES = ["single-a", "single-b", "single-c", "single-d"];
  const PATCH_1 = "20221020121316.3946-2-christian.koenig@amd.com";
  const PATCH_3 = "20221020121316.3946-4-christian.koenig@amd.com";

  /**
   * Batches of four: four single patches due together (page 1); a series whose third patch
   * comes after series-wait has passed (pages 2 to 4), so it is reviewed once incomplete and
   * again when the patch arrives; a reading that ran ahead must not make it look complete.
   */
  function archive(): PeerInbox {
    const inbox = new PeerInbox();
    SINGLES.forEach((id, i) => inbox.add(single(i % 2 ? "model/system-heap-unmap-sync-dropped.patch" : "model/udmabuf-skip-cpu-sync.patch", `${id}@example.org`, `dma-buf: change ${id}`), { time: at(i) }));
    const [cover, p1, p2, p3, answer] = fixtureMessages("series/dma-coherent-v1.mbox") as [Buffer, Buffer, Buffer, Buffer, Buffer];
    for (const [i, m] of [cover, p1, p2].entries()) inbox.add(m, { time: at(10 + i) });
    inbox.add(mail({ id: "chat-0@example.org", subject: "fences" }, "?\n"), { time: at(13) });
    for (let i = 1; i <= 4; i++) inbox.add(mail({ id: `chat-${i}@example.org`, subject: `fences ${i}` }, "?\n"), { time: at(45 + i) });
    inbox.add(p3, { time: at(50) });
    inbox.add(answer, { time: at(51) });
    return inbox;
  }

  interface Child {
    readonly child: ChildProcess;
    readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    readonly reviewed: string[];
    readonly stderr: string[];
  }

  function backfill(dir: string, inbox: string): Child {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "info" };
    delete env["DMABUF_REVIEW_DEBUG"];
    // The mirror enabled (mode send), with no age limit: the fixtures are dated.
    const mirror = `  mirrors:\n    - { name: crash, inbox: ${inbox}, mode: send, max-age: 100000d }\n`;
    writeFileSync(join(dir, "config.yaml"), ["mail:", "  demo: false", "  batch: 4", "  series-wait: 30m", mirror].join("\n"));
    const args = ["backfill", inbox, "--config", join(dir, "config.yaml"), "--db", join(dir, "state.db"), "--outbox", join(dir, "outbox"), "--reply", "--format", "json"];
    const child = spawn(process.execPath, [join(ROOT, "bin/dmabuf-review.js"), ...args], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    const run: Child = { child, exited: new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal }))), reviewed: [], stderr: [] };
    let buf = "";
    child.stdout!.resume();
    child.stderr!.on("data", (c: Buffer) => {
      buf += c.toString();
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        run.stderr.push(line);
        if (line.startsWith("{")) {
          const j = JSON.parse(line) as { msg?: string; series?: string };
          if (j.msg === "series reviewed") run.reviewed.push(j.series!);
        }
      }
    });
    return run;
  }

  function workdir(): string {
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-crash-"));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.yaml"), ["mail:", "  demo: false", "  batch: 4", "  series-wait: 30m", ""].join("\n"));
    return dir;
  }

  /** Polls the child's store (read-only, beside its writer) until `cond` holds or the child ends. */
  async function watchStore(dir: string, run: Child, cond: (db: Database) => boolean): Promise<boolean> {
    let ended = false;
    void run.exited.then(() => (ended = true));
    let db: Database | undefined;
    try {
      for (;;) {
        if (ended) return false;
        try {
          db ??= existsSync(join(dir, "state.db")) ? new Database(join(dir, "state.db"), { readonly: true }) : undefined;
          if (db && cond(db)) return true;
        } catch {
          // not migrated yet
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      db?.close();
    }
  }

  const status = (db: Database, id: string) => db.prepare("SELECT status FROM messages WHERE message_id = ?").pluck().get(id) as string | undefined;

  it("the same mails and the same store, and no committed thread reviewed again", async () => {
    assertBuilt();
    const inbox = archive();
    const head = execFileSync("git", ["--git-dir", inbox.epochDir(0), "rev-list", "--first-parent", "--reverse", "HEAD"]).toString().trim().split("\n");

    // The undisturbed run beside the killed ones: they share nothing but the archive.
    const ref = workdir();
    const undisturbed = backfill(ref, inbox.dir);

    const dir = workdir();
    const runs: Child[] = [];
    const kill = async (run: Child) => {
      run.child.kill("SIGKILL");
      await run.exited;
    };

    // 1: once the first of the four singles is committed. Its page is not done (three more are
    // due in it): its review is in the store, the cursor still before the page.
    const r1 = backfill(dir, inbox.dir);
    runs.push(r1);
    let cursorThen: string | undefined | null = null;
    const committed = await watchStore(dir, r1, (db) => {
      if (!SINGLES.some((id) => status(db, `${id}@example.org`) === "reviewed")) return false;
      cursorThen = db.prepare("SELECT last_commit FROM cursors").pluck().get() as string | undefined;
      return true;
    });
    await kill(r1);
    expect(committed).toBe(true);
    expect(cursorThen).toBeUndefined();

    // 2: when the series' third patch is in the store while its first waits (a reading that ran
    // ahead of the reviews), or else once the incomplete series is reviewed.
    const r2 = backfill(dir, inbox.dir);
    runs.push(r2);
    await watchStore(dir, r2, (db) => (status(db, PATCH_3) !== undefined && status(db, PATCH_1) === "seen") || status(db, PATCH_1) === "reviewed");
    await kill(r2);

    // 3: at a moment of no choosing.
    const r3 = backfill(dir, inbox.dir);
    runs.push(r3);
    await Promise.race([new Promise((r) => setTimeout(r, 300 + Math.floor(Math.random() * 1500))), r3.exited]);
    await kill(r3);

    // 4: to the end.
    const r4 = backfill(dir, inbox.dir);
    runs.push(r4);
    expect((await r4.exited).code, r4.stderr.slice(-5).join("\n")).toBe(0);

    expect((await undisturbed.exited).code, undisturbed.stderr.slice(-5).join("\n")).toBe(0);
    // A review committed before a kill is not done again after it: the runs together logged no
    // review the undisturbed run did not log as often (a series reviewed incomplete, then whole,
    // twice); a kill between a commit and its log line may leave one line out.
    const left = new Map<string, number>();
    for (const id of undisturbed.reviewed) left.set(id, (left.get(id) ?? 0) + 1);
    for (const id of runs.flatMap((r) => r.reviewed)) left.set(id, (left.get(id) ?? 0) - 1);
    expect([...left].filter(([, n]) => n < 0)).toEqual([]);
    expect([...left.values()].reduce((a, n) => a + n, 0)).toBeLessThanOrEqual(runs.length - 1);
    // The series was answered incomplete first, as the undisturbed run did.
    const got = snapshot(join(dir, "outbox"), join(dir, "state.db"), [dir]);
    expect([...got.mails.values()].some((m) => m.includes("3/3 did not reach the list archive"))).toBe(true);
    expect(compareSnapshots(snapshot(join(ref, "outbox"), join(ref, "state.db"), [ref]), got)).toEqual([]);
    const db = new Database(join(dir, "state.db"), { readonly: true });
    try {
      expect(db.prepare("SELECT last_commit FROM cursors").pluck().get()).toBe(head[head.length - 1]);
      expect(db.prepare("SELECT COUNT(*) FROM messages").pluck().get()).toBe(head.length);
    } finally {
      db.close();
    }
  }, 120_000);
});
