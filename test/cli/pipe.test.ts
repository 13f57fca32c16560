import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { assertBuilt, ROOT } from "../helpers/cli.js";

const BIN = fileURLToPath(new URL("../../bin/dmabuf-review.js", import.meta.url));

/** The bin with its stdout closed by the reader after the first chunk, as `| head -1` does. */
function closedEarly(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, DMABUF_REVIEW_PROGRESS: "off" }, stdio: ["ignore", "pipe", "pipe"] });
    const err: Buffer[] = [];
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.stdout.once("data", () => child.stdout.destroy());
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr: Buffer.concat(err).toString("utf8") }));
  });
}

describe("a reader that stops early", () => {
  it("ends the review quietly, as SIGPIPE would, without an unhandled EPIPE", async () => {
    assertBuilt();
    // Two megabytes of JSON with the model's traces: far more than a pipe holds, so writes come after the close.
    const run = await closedEarly(["review", "fixtures/series/dma-coherent-v1.mbox", "--format", "json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(141);
  });
});
