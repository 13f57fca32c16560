/**
 * Large inputs through the CLI, each in its own process: a long mbox of model-heavy patches
 * reviewed to JSON (streamed series by series), hunks of 5,000 to 120,000 lines (linear up to
 * MAX_FILE_DIFF_LINES, refused above it), and an `else if` chain as deep as it is long.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MAX_FILE_DIFF_LINES } from "../src/errors.js";
import { elseIfChainPatch, largeHunkPatch } from "./generate.js";

const MESSAGES = Number(process.env["BENCH_LARGE_MESSAGES"] ?? 5000);
const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });

interface Run {
  readonly code: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly maxRssMb: number;
  readonly bytes: number;
  readonly stderr: string;
}

function review(path: string, format: "text" | "json"): Promise<Run> {
  const child = fileURLToPath(new URL("./review-child.js", import.meta.url));
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, path, format], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (b: Buffer) => (out += b.toString()));
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve(JSON.parse(out) as Run) : reject(new Error(`review child exited ${code}`))));
  });
}

/** The udmabuf model fixture under `count` Message-IDs: every message a review with the model's traces. */
function modelMbox(count: number): string {
  const patch = readFileSync(new URL("../../fixtures/model/udmabuf-skip-cpu-sync.patch", import.meta.url), "utf8");
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(patch.replace(/^Subject: \[PATCH\] (.*)$/m, `Message-ID: <udmabuf-${i}@example.org>\nSubject: [PATCH] $1 (${i})`));
  return parts.join("\n");
}

function line(label: string, r: Run, note = ""): void {
  const out = r.bytes >= 1e6 ? `${(r.bytes / 1e6).toFixed(0)} MB` : `${fmt(r.bytes / 1e3)} KB`;
  console.log(
    `${label.padEnd(44)} ${r.seconds.toFixed(1).padStart(6)} s  cpu ${r.cpuSeconds.toFixed(1).padStart(5)} s  peak ${fmt(r.maxRssMb).padStart(5)} MB  ${out.padStart(7)} out, exit ${r.code}${note}`,
  );
}

export async function benchLarge(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-large-"));
  try {
    console.log(`large inputs (one process each: wall time, CPU, peak RSS, output bytes; files over ${fmt(MAX_FILE_DIFF_LINES)} lines are listed as not reviewed)`);
    const mbox = join(dir, "model.mbox");
    writeFileSync(mbox, modelMbox(MESSAGES));
    line(`${fmt(MESSAGES)} model-heavy messages, --format json`, await review(mbox, "json"));
    for (const lines of [5_000, 10_000, 20_000, 50_000, 120_000]) {
      const path = join(dir, `hunk-${lines}.patch`);
      writeFileSync(path, largeHunkPatch(lines));
      const r = await review(path, "text");
      line(`${fmt(lines)}-line hunk`, r, lines > MAX_FILE_DIFF_LINES ? " (not reviewed: over the limit)" : "");
    }
    const chain = join(dir, "else-if.patch");
    writeFileSync(chain, elseIfChainPatch(MAX_FILE_DIFF_LINES));
    line(`${fmt(MAX_FILE_DIFF_LINES)}-line else-if chain`, await review(chain, "text"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
