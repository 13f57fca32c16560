import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CatFile, gitEnv, withRoomyStdout } from "../../../src/ingest/public-inbox/cat-file.js";

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

describe("CatFile", () => {
  function repoWith(blobs: string[]): { dir: string; oids: string[] } {
    const dir = mkdtempSync(join(tmpdir(), "cat-file-"));
    execFileSync("git", ["init", "-q", "--bare", dir], { env: gitEnv() });
    const oids = blobs.map((b) => execFileSync("git", ["--git-dir", dir, "hash-object", "-w", "--stdin"], { input: b, env: gitEnv(), encoding: "utf8" }).trim());
    return { dir, oids };
  }

  async function answers(cat: CatFile, names: string[]): Promise<string[]> {
    const out: string[] = [];
    for await (const r of cat.read(names)) out.push(r.kind === "blob" ? `blob ${r.bytes.toString()}` : r.kind === "missing" ? `missing ${r.name}` : `too-large ${r.size}`);
    return out;
  }

  // Buffered commands hold git's output until a flush: a request whose last answer is "missing"
  // (a removal commit has no `m`) or a short blob must still be answered in full.
  for (const mode of ["batch", "batch-command"] as const) {
    it(`answers every request in full and in order, its last answer missing or not (${mode})`, async () => {
      const { dir, oids } = repoWith(["first\n", "second message\n", "x".repeat(200)]);
      const cat = new CatFile(dir, 100, mode);
      try {
        const missing = "0".repeat(39) + "1";
        expect(await answers(cat, [oids[0]!, missing])).toEqual(["blob first\n", `missing ${missing}`]);
        expect(await answers(cat, [oids[1]!])).toEqual(["blob second message\n"]);
        expect(await answers(cat, [oids[2]!, oids[0]!, "HEAD:m"])).toEqual(["too-large 200", "blob first\n", "missing HEAD:m"]);
        // Two requests in flight at once: each gets its own answers.
        const a = cat.read([oids[1]!, missing]);
        const b = cat.read([oids[0]!]);
        const got: string[] = [];
        for await (const r of a) got.push(r.kind);
        for await (const r of b) got.push(r.kind);
        expect(got).toEqual(["blob", "missing", "blob"]);
      } finally {
        await cat.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
