import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = fileURLToPath(new URL("../../bin/dmabuf-review.js", import.meta.url));
const ENTRY = fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url));

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
  return new Promise((resolve, reject) => {
    // Progress lines come after seconds, and a loaded machine can take them: a test that checks
    // stderr line by line asks for progress when it wants it.
    const env: NodeJS.ProcessEnv = { ...process.env, DMABUF_REVIEW_PROGRESS: "off", ...extraEnv };
    // The debug switch would add a stack trace to stderr; these tests check there is none.
    delete env["DMABUF_REVIEW_DEBUG"];
    const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
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

/** stderr split into lines, without the final newline. */
export function stderrLines(run: Run): string[] {
  return run.stderr.split("\n").filter((l, i, all) => !(l === "" && i === all.length - 1));
}
