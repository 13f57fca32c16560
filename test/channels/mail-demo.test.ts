import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, ROOT } from "../helpers/cli.js";
import { header } from "./mail-setup.js";

/** `npm start` on a fresh machine: the bot on its embedded defaults, the bundled demo inbox. */
function watch(cwd: string, args: string[], until?: (stderr: string) => boolean, nodeArgs: readonly string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: "0" };
  delete env["DMABUF_REVIEW_DEBUG"];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, join(ROOT, "bin/dmabuf-review.js"), "watch", ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let stopped = false;
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    // Once: the log goes on after the line waited for, and a second SIGTERM forces the exit.
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
      if (!stopped && until?.(stderr)) {
        stopped = true;
        child.kill("SIGTERM");
      }
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The node options of package.json's start script (`node <options> bin/dmabuf-review.js watch`). */
function startOptions(): string[] {
  const start = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start.split(/\s+/);
  expect(start[0]).toBe("node");
  return start.slice(1, start.indexOf("bin/dmabuf-review.js"));
}

const fresh = () => mkdtempSync(join(tmpdir(), "dmabuf-review-fresh-"));
const emls = (cwd: string) => readdirSync(join(cwd, "data", "outbox")).filter((f) => f.endsWith(".eml"));

beforeAll(() => assertBuilt());

describe("the demo on a fresh machine", () => {
  it("builds the demo inbox, answers it into data/outbox, says where; a second start adds nothing", async () => {
    const cwd = fresh();
    const first = await watch(cwd, ["--once"]);
    expect(first.code, first.stderr).toBe(0);
    const outbox = join(cwd, "data", "outbox");
    expect(first.stderr).toContain(`dmabuf-review: demo: 4 replies in ${outbox} (plain-text .eml files, one per reply; open them with any mail reader)\n`);
    const files = emls(cwd);
    expect(files).toHaveLength(4);
    const subjects = files.map((f) => header(readFileSync(join(outbox, f), "utf8"), "Subject")).sort();
    // No reply to the cover letter: the patch replies carry all the model's summary would say.
    expect(subjects).toEqual([
      "Re: [PATCH 1/3] dma-buf: add dma_coherent flag",
      "Re: [PATCH 2/3] drm/prime: set the dma_coherent flag for export",
      "Re: [PATCH 3/3] media: videobuf2: set dma_coherent flag for DMA-buf",
      "Re: [PATCH] dma-buf/udmabuf: skip the CPU sync when mapping for importers",
    ]);
    // The network driver patch in the demo touches no dma-buf code: no mail for it.
    expect(subjects.join("\n")).not.toMatch(/net: acme/);
    const again = await watch(cwd, ["--once"]);
    expect(again.code).toBe(0);
    expect(emls(cwd)).toEqual(files);
  });

  it("without --once (what npm start runs) it keeps watching after telling where the replies are, and stops cleanly", async () => {
    const cwd = fresh();
    const run = await watch(cwd, [], (stderr) => stderr.includes("watching for new mail"), startOptions());
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/dmabuf-review: demo: 4 replies in .*data\/outbox .*\ndmabuf-review: watching for new mail; Ctrl-C stops\n/);
    expect(emls(cwd)).toHaveLength(4);
  });
});
