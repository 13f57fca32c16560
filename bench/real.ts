/**
 * The real archive (../shared/archives, linaro-mm-sig 2019-2022) opened as its README says: the
 * raw `git cat-file --batch` read of its blobs beside the backfill in the same run, peak and
 * live memory at a quarter, half and all of it, and `track` over the whole inbox.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { backfill, median, rawRead, SERVICE_HEAP, serviceBackfill, trackInbox, trackLine, type ChildResult } from "./public-inbox.js";

const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });
const ROUNDS = Number(process.env["BENCH_REAL_ROUNDS"] ?? 1);

function bundlePath(): string {
  const fromEnv = process.env["BENCH_REAL_BUNDLE"];
  if (fromEnv) return fromEnv;
  return fileURLToPath(new URL("../../../shared/archives/linaro-mm-sig-2019-2022.bundle", import.meta.url));
}

/** A v2 inbox whose epoch 0 is a bare clone of the bundle (or of a repository); kept between runs by its size and date. */
function openInbox(bundle: string): string {
  const st = statSync(bundle);
  const dir = join(tmpdir(), "dmabuf-review-bench", `real-${st.size}-${Math.floor(st.mtimeMs)}`);
  if (!existsSync(join(dir, "git", "0.git", "HEAD"))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, "git"), { recursive: true });
    execFileSync("git", ["clone", "-q", "--bare", bundle, join(dir, "git", "0.git")]);
  }
  return dir;
}

export async function benchReal(): Promise<void> {
  const bundle = bundlePath();
  if (!existsSync(bundle)) {
    console.log(`real archive: ${bundle} not found, skipped`);
    return;
  }
  const inbox = openInbox(bundle);
  const raws: Awaited<ReturnType<typeof rawRead>>[] = [];
  const fulls: ChildResult[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    raws.push(await rawRead(inbox));
    fulls.push(await backfill(inbox, Number.MAX_SAFE_INTEGER));
  }
  const raw = median(raws, (r) => r.ms);
  const rawRate = (raw.blobs / raw.ms) * 1000;
  const count = raw.blobs;
  const name = process.env["BENCH_REAL_BUNDLE"] ? basename(bundle.replace(/\/(repo|\.git)\/?$/, "")) : "linaro-mm-sig 2019-2022";
  console.log(`real archive: ${fmt(count)} messages of ${name} (${bundle})`);
  console.log(`raw cat-file --batch  ${fmt(raw.ms).padStart(6)} ms  ${fmt(rawRate)} msg/s  (${(raw.bytes / 1e6).toFixed(0)} MB)`);
  const full = median(fulls, (r) => r.seconds);
  const rate = full.messages / full.seconds;
  console.log(
    `backfill             ${fmt(full.seconds * 1000).padStart(6)} ms  ${fmt(rate)} msg/s  ${(rate / rawRate).toFixed(3)} of the raw rate (target >= 0.25); ${fmt(full.patches)} patches, ${fmt(full.reviewed)} series reviewed, ${fmt(full.skipped)} skipped; review time ${full.reviewSeconds.toFixed(1)} s`,
  );
  if (full.cpu) {
    const c = full.cpu;
    const where = (t: ChildResult["cpu"] & {}) => (full.inWorker ? `main thread ${t.main.toFixed(1)} s, review worker ${t.worker.toFixed(1)} s` : `main thread (reading and reviews) ${t.main.toFixed(1)} s`);
    console.log(
      `backfill CPU          ${where(c)}, V8's helper threads and the rest ${c.others.toFixed(1)} s: ${(c.main + c.worker + c.others).toFixed(1)} s of CPU in ${full.seconds.toFixed(1)} s on ${availableParallelism()} cores`,
    );
    // With V8's helper threads off, each thread collects and compiles for itself: the CPU the
    // read and the reviews need, without the helpers' overhead; spread evenly over every core it
    // estimates the shortest wall time that work could take here.
    const alone = (await backfill(inbox, count, ["--single-threaded"])).cpu!;
    const work = alone.main + alone.worker;
    const floor = work / availableParallelism();
    console.log(
      `work floor            --single-threaded: ${where(alone)} of CPU; spread evenly over ${availableParallelism()} cores, about ${floor.toFixed(1)} s at best: about ${(count / floor / rawRate).toFixed(3)} of the raw rate at most`,
    );
  }
  const runs = [await backfill(inbox, Math.floor(count / 4)), await backfill(inbox, Math.floor(count / 2)), full];
  console.log(`backfill peak RSS     ${runs.map((r) => `${fmt(r.messages)}: ${fmt(r.maxRssMb)} MB`).join(", ")}  (target < 300 MB, node's default heap limit)`);
  console.log(`live JS heap          ${runs.map((r) => `${fmt(r.messages)}: ${fmt(r.liveHeapMb)} MB`).join(", ")}  (after a full GC at the end${full.inWorker ? "" : ": what the reviews load and their bounded caches included"})`);
  console.log(`main heap at the end  ${runs.map((r) => `${fmt(r.messages)}: ${fmt(r.heapMb ?? 0)} MB (young ${fmt(r.newSpaceMb ?? 0)})`).join(", ")}  (committed, before that GC)`);
  const p = full.peakParts;
  if (p) {
    console.log(
      `at the peak          ${fmt(p.rssMb)} MB resident (the highest sample of the whole run): small anonymous mappings (V8's heap pages) ${fmt(p.pages)} MB, main malloc arena ${fmt(p.malloc)} MB, larger anonymous mappings (thread arenas, stacks, wasm memory, large objects) ${fmt(p.large)} MB, compiled code ${fmt(p.code)} MB, node binary ${fmt(p.binary)} MB, libraries ${fmt(p.libraries)} MB`,
    );
  }
  const capped = [await serviceBackfill(inbox, Math.floor(count / 4)), await serviceBackfill(inbox, Math.floor(count / 2)), await serviceBackfill(inbox, count)];
  const cappedRate = capped[2]!.messages / capped[2]!.seconds;
  console.log(
    `peak RSS, ${SERVICE_HEAP.join(" ")}  ${capped.map((r) => `${fmt(r.messages)}: ${fmt(r.maxRssMb)} MB`).join(", ")}  (as npm start runs it, reviews in a worker; ${fmt(cappedRate)} msg/s, ${(cappedRate / rawRate).toFixed(3)} of the raw rate)`,
  );
  console.log(trackLine([["all", await trackInbox(inbox)]], count, rawRate));
}
