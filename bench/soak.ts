/**
 * The SIGKILL soak (`npm run soak`): a backfill with --reply over the real linaro-mm-sig archive
 * (../shared/archives), once undisturbed and once killed with SIGKILL at random moments and
 * started again, SOAK_KILLS times (20), then run to its end. Both must leave exactly the same
 * mails in the outbox and the same store, compared byte for byte with wall-clock times masked.
 *
 * SOAK_SEED picks the kill moments (printed, so a failing run can be repeated), SOAK_BUNDLE
 * another public-inbox bundle, SOAK_BATCH the messages per batch (mail.batch).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
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

/** One backfill child; SIGKILLed after `killAfter` ms if it is still running then. */
function backfill(dir: string, inbox: string, killAfter?: number): Promise<Run> {
  const t0 = performance.now();
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "warn" };
  delete env["DMABUF_REVIEW_DEBUG"];
  const args = [BIN, "backfill", inbox, "--config", join(dir, "config.yaml"), "--db", join(dir, "state.db"), "--outbox", join(dir, "outbox"), "--reply", "--format", "json"];
  const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => out.push(c));
  child.stderr.on("data", (c: Buffer) => err.push(c));
  const timer = killAfter === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfter);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, seconds: (performance.now() - t0) / 1000, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

function prepare(dir: string, batch: string | undefined): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.yaml"), ["mail:", "  demo: false", ...(batch ? [`  batch: ${batch}`] : []), ""].join("\n"));
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
  const work = mkdtempSync(join(tmpdir(), "dmabuf-review-soak-"));
  const inbox = join(work, "inbox");
  mkdirSync(join(inbox, "git"), { recursive: true });
  execFileSync("git", ["clone", "-q", "--bare", BUNDLE, join(inbox, "git", "0.git")]);
  console.log(`soak: ${BUNDLE}, seed ${seed}, ${KILLS} kills, batch ${batch ?? "default"}, in ${work}`);

  const ref = join(work, "reference");
  prepare(ref, batch);
  const undisturbed = await backfill(ref, inbox);
  if (undisturbed.code !== 0) throw new Error(`the undisturbed run failed (${undisturbed.code}):\n${undisturbed.stderr.slice(-2000)}`);
  const r = summary(undisturbed);
  console.log(`undisturbed: ${r.messages} messages, ${r.replies} mails, ${r.skipped} skipped, ${undisturbed.seconds.toFixed(1)} s`);

  const soak = join(work, "killed");
  prepare(soak, batch);
  const t0 = performance.now();
  let kills = 0;
  let runs = 0;
  let finished: Run | undefined;
  const killedAt: string[] = [];
  // Kill moments spread over about a tenth of the undisturbed run each, so that the kills
  // land all through the work (start-up, reading, reviews, the tail) and the run still ends.
  const span = Math.max(1000, (undisturbed.seconds * 1000) / 8);
  while (kills < KILLS) {
    const after = 200 + Math.floor(next() * span);
    const run = await backfill(soak, inbox, after);
    runs++;
    if (run.signal === "SIGKILL") {
      kills++;
      killedAt.push(`${(after / 1000).toFixed(1)}s`);
      continue;
    }
    if (run.code !== 0) throw new Error(`a restarted run failed (${run.code}):\n${run.stderr.slice(-2000)}`);
    // It got to the end before its kill: the rest of the kills land on runs with nothing to do.
    finished ??= run;
  }
  const last = await backfill(soak, inbox);
  runs++;
  if (last.code !== 0) throw new Error(`the last run failed (${last.code}):\n${last.stderr.slice(-2000)}`);
  const wall = (performance.now() - t0) / 1000;
  console.log(`killed: ${kills} kills at ${killedAt.join(", ")}; ${runs} runs, ${wall.toFixed(1)} s in all`);

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
    console.log(`left in ${work}`);
    process.exitCode = 1;
    return;
  }
  console.log("no differences");
  rmSync(work, { recursive: true, force: true });
}

await main();
