/**
 * `dmabuf-review review <one patch>` and `dmabuf-review check` (the patch on stdin, as b4 runs it)
 * as a user runs them (bin/, a fresh process each time) beside `node -e 0` in the same run: the
 * wall time that is ours is the difference.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { fileURLToPath } from "node:url";

const RUNS = 7;

function wall(args: readonly string[], stdinFile?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const stdin = stdinFile === undefined ? "ignore" : openSync(stdinFile, "r");
    const t = performance.now();
    const p = spawn(process.execPath, args, { stdio: [stdin, "ignore", "ignore"] });
    if (typeof stdin === "number") closeSync(stdin);
    p.on("error", reject);
    p.on("close", (code) => (code !== null && code <= 1 ? resolve((performance.now() - t) / 1000) : reject(new Error(`${args.join(" ")} exited ${code}`))));
  });
}

const med = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (s: number) => `${(s * 1000).toFixed(0).padStart(6)} ms`;

export async function benchStartup(): Promise<void> {
  const bin = fileURLToPath(new URL("../../bin/dmabuf-review.js", import.meta.url));
  const patches = ["fixtures/model/udmabuf-skip-cpu-sync.patch", "fixtures/out-of-scope/net-dma-sync.patch"];
  for (const rel of patches) {
    const patch = fileURLToPath(new URL(`../../${rel}`, import.meta.url));
    const commands: readonly { name: string; run: () => Promise<number> }[] = [
      { name: "review one patch", run: () => wall([bin, "review", patch]) },
      { name: "check one patch", run: () => wall([bin, "check"], patch) },
    ];
    for (const c of commands) await c.run(); // the first run may fill the cache kept between runs
    const bare: number[] = [];
    const ours = commands.map(() => [] as number[]);
    // Alternated so that a busy minute on this shared machine weighs on all alike.
    for (let i = 0; i < RUNS; i++) {
      bare.push(await wall(["-e", "0"]));
      for (const [j, c] of commands.entries()) ours[j]!.push(await c.run());
    }
    for (const [j, c] of commands.entries()) {
      console.log(`${c.name.padEnd(20)} ${ms(med(ours[j]!))}  wall, median of ${RUNS}; node -e 0 ${ms(med(bare)).trim()} in the same run (target < 400 ms); ${rel}`);
    }
  }
}

// `node dist/bench/startup.js`: this part of `npm run bench` alone.
if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) await benchStartup();
