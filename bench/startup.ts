/**
 * `dmabuf-review review <one patch>` as a user runs it (bin/, a fresh process each time) beside
 * `node -e 0` in the same run: the wall time that is ours is the difference.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const RUNS = 7;

function wall(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const p = spawn(process.execPath, args, { stdio: "ignore" });
    p.on("error", reject);
    p.on("close", (code) => (code !== null && code <= 1 ? resolve((performance.now() - t) / 1000) : reject(new Error(`${args.join(" ")} exited ${code}`))));
  });
}

const med = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchStartup(): Promise<void> {
  const bin = fileURLToPath(new URL("../../bin/dmabuf-review.js", import.meta.url));
  const patches = ["fixtures/model/udmabuf-skip-cpu-sync.patch", "fixtures/out-of-scope/net-dma-sync.patch"];
  for (const rel of patches) {
    const patch = fileURLToPath(new URL(`../../${rel}`, import.meta.url));
    await wall([bin, "review", patch]); // the first run may fill the cache kept between runs
    const ours: number[] = [];
    const bare: number[] = [];
    // Alternated so that a busy minute on this shared machine weighs on both alike.
    for (let i = 0; i < RUNS; i++) {
      bare.push(await wall(["-e", "0"]));
      ours.push(await wall([bin, "review", patch]));
    }
    console.log(
      `review one patch     ${(med(ours) * 1000).toFixed(0).padStart(6)} ms  wall, median of ${RUNS}; node -e 0 ${(med(bare) * 1000).toFixed(0)} ms in the same run (target < 400 ms); ${rel}`,
    );
  }
}
