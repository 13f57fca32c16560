/**
 * The SIGKILL soak (`npm run soak`): a backfill with --reply over the real linaro-mm-sig archive
 * (../shared/archives), once undisturbed and once killed with SIGKILL at random points of its
 * work and started again, SOAK_KILLS times (20), then run to its end. Both must leave exactly
 * the same mails in the outbox and the same store, compared byte for byte with wall-clock times
 * masked. The kill points are spread over the work (messages recorded, messages reviewed, mails
 * intended, as the undisturbed run ended with them), each a random moment after its point.
 *
 * SOAK_SEED picks the kill moments (printed, so a failing run can be repeated), SOAK_BUNDLE
 * another public-inbox bundle, SOAK_BATCH the messages per batch (mail.batch).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Database } from "../src/state/sqlite.js";
import { compareSnapshots, snapshot } from "./snapshot.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "bin", "dmabuf-review.js");
// ../shared beside the project (/work/main), or beside the worktrees' folder (/work/wt/<name>).
const ARCHIVE = "shared/archives/linaro-mm-sig-2019-2022.bundle";
const BUNDLE = process.env["SOAK_BUNDLE"] ?? [join(ROOT, "..", ARCHIVE), join(ROOT, "..", "..", ARCHIVE)].find((p) => existsSync(p)) ?? join(ROOT, "..", ARCHIVE);
const KILLS = Number(process.env["SOAK_KILLS"] ?? 20);

/** A small seeded generator (mulberry32): the same seed, the same kill moments. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly seconds: number;
  readonly stdout: string;
  readonly stderr: string;
}

const PROGRESS = "SELECT (SELECT COUNT(*) FROM messages) + (SELECT COUNT(*) FROM messages WHERE status = 'reviewed') + (SELECT COUNT(*) FROM posts)";

/** How far a run got: messages recorded, reviewed, and mails intended (0 before the store exists). */
function progress(db: string): number {
  if (!existsSync(db)) return 0;
  try {
    const handle = new Database(db, { readonly: true });
    try {
      return handle.prepare(PROGRESS).pluck().get() as number;
    } finally {
      handle.close();
    }
  } catch {
    return 0; // being created or migrated
  }
}

/** One backfill child; SIGKILLed once `kill` says so (polled every 20 ms), if it still runs then. */
function backfill(dir: string, inbox: string, kill?: () => boolean): Promise<Run> {
  const t0 = performance.now();
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "warn" };
  delete env["DMABUF_REVIEW_DEBUG"];
  const args = [BIN, "backfill", inbox, "--config", join(dir, "config.yaml"), "--db", join(dir, "state.db"), "--outbox", join(dir, "outbox"), "--reply", "--format", "json"];
  const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => out.push(c));
  child.stderr.on("data", (c: Buffer) => err.push(c));
  const timer = kill === undefined ? undefined : setInterval(() => kill() && child.kill("SIGKILL"), 20);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearInterval(timer);
      resolve({ code, signal, seconds: (performance.now() - t0) / 1000, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

function prepare(dir: string, inbox: string, batch: string | undefined): void {
  mkdirSync(dir, { recursive: true });
  // Mail enabled on the archive's mirror without age limit or daily cap: its years of threads go in one run.
  const mirror = `  mirrors:\n    - { name: soak, inbox: ${inbox}, mode: send, max-age: 100000d, per-day: 1000 }`;
  writeFileSync(join(dir, "config.yaml"), ["mail:", "  demo: false", ...(batch ? [`  batch: ${batch}`] : []), mirror, ""].join("\n"));
}

function summary(run: Run): { messages: number; replies: number; skipped: number } {
  const last = run.stdout.trim().split("\n").pop() ?? "{}";
  const j = JSON.parse(last) as { messages?: number; replies?: number; skipped?: unknown[] };
  return { messages: j.messages ?? 0, replies: j.replies ?? 0, skipped: j.skipped?.length ?? 0 };
}

async function main(): Promise<void> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing (SOAK_BUNDLE names another bundle)`);
  if (!existsSync(join(ROOT, "dist", "src", "cli", "main.js"))) throw new Error("dist/ is missing: npm run build first");
  const seed = Number(process.env["SOAK_SEED"] ?? Date.now() % 1_000_000);
  const next = random(seed);
  const batch = process.env["SOAK_BATCH"];
  const tmp = mkdtempSync(join(tmpdir(), "dmabuf-review-soak-"));
  const inbox = join(tmp, "inbox");
  mkdirSync(join(inbox, "git"), { recursive: true });
  execFileSync("git", ["clone", "-q", "--bare", BUNDLE, join(inbox, "git", "0.git")]);
  console.log(`soak: ${BUNDLE}, seed ${seed}, ${KILLS} kills, batch ${batch ?? "default"}, in ${tmp}`);

  const ref = join(tmp, "reference");
  prepare(ref, inbox, batch);
  const undisturbed = await backfill(ref, inbox);
  if (undisturbed.code !== 0) throw new Error(`the undisturbed run failed (${undisturbed.code}):\n${undisturbed.stderr.slice(-2000)}`);
  const r = summary(undisturbed);
  const work = progress(join(ref, "state.db"));
  console.log(`undisturbed: ${r.messages} messages, ${r.replies} mails, ${r.skipped} skipped, ${undisturbed.seconds.toFixed(1)} s`);
  const points = Array.from({ length: KILLS }, () => Math.floor(next() * work)).sort((a, b) => a - b);

  const soak = join(tmp, "killed");
  prepare(soak, inbox, batch);
  const t0 = performance.now();
  let kills = 0;
  let runs = 0;
  const killedAt: string[] = [];
  const db = join(soak, "state.db");
  for (const point of points) {
    // Killed at a random moment of up to a second after the run passed its point.
    let due: number | undefined;
    const delay = Math.floor(next() * 1000);
    const run = await backfill(soak, inbox, () => {
      due ??= progress(db) >= point ? performance.now() + delay : undefined;
      return due !== undefined && performance.now() >= due;
    });
    runs++;
    if (run.signal === "SIGKILL") {
      kills++;
      killedAt.push(`${point}+${delay}ms`);
    } else if (run.code !== 0) throw new Error(`a restarted run failed (${run.code}):\n${run.stderr.slice(-2000)}`);
  }
  const last = await backfill(soak, inbox);
  runs++;
  if (last.code !== 0) throw new Error(`the last run failed (${last.code}):\n${last.stderr.slice(-2000)}`);
  const wall = (performance.now() - t0) / 1000;
  console.log(`killed: ${kills} kills at work points ${killedAt.join(", ")} of ${work}; ${runs} runs, ${wall.toFixed(1)} s in all`);

  const expected = snapshot(join(ref, "outbox"), join(ref, "state.db"), [ref]);
  const got = snapshot(join(soak, "outbox"), join(soak, "state.db"), [soak]);
  const diffs = compareSnapshots(expected, got);
  const rows = [...expected.tables.values()].reduce((n, t) => n + t.length, 0);
  console.log(`compared: ${expected.mails.size} mails against ${got.mails.size}, ${rows} store rows in ${expected.tables.size} tables`);
  if (diffs.length > 0) {
    const byWhere = new Map<string, number>();
    for (const d of diffs) byWhere.set(`${d.where} (${d.only})`, (byWhere.get(`${d.where} (${d.only})`) ?? 0) + 1);
    console.log(`DIFFERENCES: ${diffs.length}: ${[...byWhere].map(([w, n]) => `${w} ${n}`).join(", ")}`);
    for (const d of diffs.slice(0, 20)) console.log(`  ${d.where} ${d.only}: ${d.what.slice(0, 300)}`);
    console.log(`left in ${tmp}`);
    process.exitCode = 1;
    return;
  }
  console.log("no differences");
  rmSync(tmp, { recursive: true, force: true });
}

await main();
