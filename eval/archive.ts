/**
 * The real list archive beside the project (../shared/archives), read at run time: the bundle
 * is cloned bare into a temporary directory and messages are read by archive commit (blob `m`).
 * Nothing read here is ever written into the project.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MAX_MESSAGE_BYTES } from "../src/errors.js";
import { CatFile, gitEnv } from "../src/ingest/public-inbox/cat-file.js";

export const BUNDLE_NAME = "linaro-mm-sig-2019-2022.bundle";

const ROOT = fileURLToPath(new URL(import.meta.url.includes("/dist/") ? "../../" : "../", import.meta.url));

/** The project's root directory, from the source file or its compiled copy in dist/. */
export function projectRoot(): string {
  return ROOT;
}

/**
 * ../shared/archives beside the project (/work/main), or beside the worktrees' folder
 * (/work/wt/<name>); undefined when neither holds the bundle.
 */
export function findArchiveBundle(root = ROOT): string | undefined {
  return [join(root, "..", "shared", "archives", BUNDLE_NAME), join(root, "..", "..", "shared", "archives", BUNDLE_NAME)].find((p) =>
    existsSync(p),
  );
}

export interface Archive {
  /** The bare clone: one public-inbox epoch repository, as `track` reads an inbox. */
  readonly gitDir: string;
  /** The raw bytes of each commit's message; a commit without one is left out of the map. */
  read(commits: readonly string[]): Promise<Map<string, Buffer>>;
  /** Every message commit of the archive, oldest first. */
  list(): string[];
  close(): Promise<void>;
}

/** Clone `bundle` bare into a temporary directory and read messages from it by commit. */
export function openArchive(bundle: string): Archive {
  const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-archive-"));
  const gitDir = join(dir, "0.git");
  try {
    execFileSync("git", ["clone", "-q", "--bare", bundle, gitDir], { env: gitEnv(), stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot clone ${bundle}: ${(err as Error).message}`);
  }
  const cat = new CatFile(gitDir, MAX_MESSAGE_BYTES);
  return {
    gitDir,
    async read(commits) {
      const out = new Map<string, Buffer>();
      const unique = [...new Set(commits)];
      let i = 0;
      for await (const r of cat.read(unique.map((c) => `${c}:m`))) {
        if (r.kind === "blob") out.set(unique[i]!, r.bytes);
        i++;
      }
      return out;
    },
    list() {
      const out = execFileSync("git", ["--git-dir", gitDir, "rev-list", "--reverse", "--all"], { env: gitEnv(), maxBuffer: 64 << 20 });
      return out.toString("utf8").split("\n").filter((c) => c !== "");
    },
    async close() {
      await cat.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
