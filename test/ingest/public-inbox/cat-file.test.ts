import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { gitEnv, withRoomyStdout } from "../../../src/ingest/public-inbox/cat-file.js";

/** Run `file args` the way CatFile runs git (Node's stdio pipes) and collect its stdout. */
function run(cmd: { file: string; args: string[] }, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd.file, cmd.args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (c: Buffer) => (out += c.toString()));
    p.on("error", reject);
    p.on("close", () => resolve(out));
    p.stdin.end();
  });
}

// Reports the send buffer of its own stdout, as git's would be.
const REPORT = ["-MSocket", "-e", 'print unpack("i", getsockopt(STDOUT, SOL_SOCKET, SO_SNDBUF))'];

describe("cat-file's stdout", () => {
  it.runIf(existsSync("/proc/sys/net/core/wmem_max"))("gets a send buffer of 4 MB (as far as the kernel allows), where the default holds 3 ms of git's output", async () => {
    const env = gitEnv();
    const before = Number(await run({ file: "perl", args: REPORT }, env));
    const after = Number(await run(withRoomyStdout("perl", REPORT, env), env));
    const max = Number(readFileSync("/proc/sys/net/core/wmem_max", "utf8"));
    // Linux doubles what it is asked for, for its own bookkeeping.
    expect(after).toBe(2 * Math.min(4 << 20, max));
    expect(after).toBeGreaterThanOrEqual(before);
  });

  it("runs the command as it is where there is no perl", () => {
    const env = { ...gitEnv(), PATH: "/nonexistent" };
    expect(withRoomyStdout("git", ["cat-file", "--batch"], env)).toEqual({ file: "git", args: ["cat-file", "--batch"] });
  });
});
