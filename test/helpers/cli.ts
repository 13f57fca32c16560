import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = fileURLToPath(new URL("../../bin/dmabuf-review.js", import.meta.url));
const ENTRY = fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url));
const BATCH = fileURLToPath(new URL("../../dist/test/helpers/cli-batch.js", import.meta.url));

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI tests run the built bin; `npm test` (scripts/test.sh) builds before vitest. */
export function assertBuilt(): void {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run node_modules/.bin/tsc -p . first`);
}

/** Run `node [...nodeArgs] bin/dmabuf-review.js ...args` from the package root, optionally feeding stdin and adding to its environment. */
export function runCli(args: readonly string[], stdin?: Buffer | string, nodeArgs: readonly string[] = [], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runNode([...nodeArgs, BIN, ...args], stdin, extraEnv);
}

function runNode(args: readonly string[], stdin?: Buffer | string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Progress lines come after seconds, and a loaded machine can take them: a test that checks
    // stderr line by line asks for progress when it wants it.
    const env: NodeJS.ProcessEnv = { ...process.env, DMABUF_REVIEW_PROGRESS: "off", ...extraEnv };
    // The debug switch would add a stack trace to stderr; these tests check there is none.
    delete env["DMABUF_REVIEW_DEBUG"];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    // The CLI may exit before reading all of a large stdin; that is its right, not a test failure.
    child.stdin.on("error", () => {});
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }));
    if (stdin === undefined) child.stdin.end();
    else child.stdin.end(stdin);
  });
}

export interface CliCase {
  readonly args: readonly string[];
  readonly stdin?: Buffer | string;
}

/**
 * Each case as `runCli` would run it, but all in one process of the built CLI (its `main`, with
 * its own streams per case): for many short runs whose start-up would cost more than the run.
 * The batch process itself must print nothing: a write that bypasses a case's streams fails it.
 * `entry`: another module exporting the CLI's `main` (the bundled one) instead of the compiled tree's.
 */
export async function runCliBatch(cases: readonly CliCase[], entry?: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Run[]> {
  const input = JSON.stringify(cases.map((c) => ({ args: c.args, stdin: c.stdin === undefined ? undefined : Buffer.from(c.stdin).toString("base64") })));
  const run = await runNode(entry === undefined ? [BATCH] : [BATCH, entry], input, extraEnv);
  if (run.code !== 0 || run.stderr !== "") throw new Error(`the CLI batch exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as Run[];
}

/**
 * A test file's batch: `add` registers a case while the file is collected and gives the
 * function its test awaits; `start` (in beforeAll) runs them all in one process.
 */
export function cliBatch(): { add: (args: readonly string[], stdin?: Buffer | string) => () => Promise<Run>; start: () => void } {
  const cases: CliCase[] = [];
  let runs: Promise<Run[]> | undefined;
  return {
    add(args, stdin) {
      const i = cases.push({ args, stdin }) - 1;
      return async () => {
        if (!runs) throw new Error("cliBatch: start() was not called");
        return (await runs)[i]!;
      };
    },
    start() {
      runs = runCliBatch(cases);
      // Each case's test awaits it; a batch that fails to run must not be an unhandled rejection first.
      runs.catch(() => {});
    },
  };
}

/** stderr split into lines, without the final newline. */
export function stderrLines(run: Run): string[] {
  return run.stderr.split("\n").filter((l, i, all) => !(l === "" && i === all.length - 1));
}
