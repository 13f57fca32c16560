import { readFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// A test file that starts processes (the built CLI, git, a bot killed with SIGKILL) is slow.
const STARTS_PROCESSES = /\b(?:runCli|spawn|spawnSync|execFile|execFileSync|fork)\(/g;

/**
 * The longest files start first, so that they do not run alone at the end while the other
 * workers idle: by the duration vitest recorded last time, and, in a fresh clone (CI) where
 * there is none, by how many processes a file starts, then by its size.
 */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cost = new Map(files.map((f) => [f, this.cost(f)]));
    return [...files].sort((a, b) => cost.get(b)! - cost.get(a)!);
  }

  private cost(file: TestSpecification): number {
    const known = this.ctx.cache.getFileTestResults(`${file.project.name}:${relative(this.ctx.config.root, file.moduleId)}`);
    // A file that failed last time goes first, as vitest's own order has it: its answer matters most.
    if (known) return known.duration + (known.failed ? 1e9 : 0);
    const source = readFileSync(file.moduleId, "utf8");
    return (source.match(STARTS_PROCESSES)?.length ?? 0) * 2_000 + source.length / 10;
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Files share a worker's module cache instead of importing everything again each (probot,
    // the rules, the C grammar): a third of the suite's CPU. No test mocks a module or leaves a
    // global changed; one that needs to must put it back in afterAll.
    isolate: false,
    // vitest's default is one worker fewer than the cores, one on a 2-core machine; the tests
    // spend much of their time waiting on child processes and loopback peers.
    maxWorkers: Math.max(2, availableParallelism()),
    sequence: { sequencer: LongestFirst },
    // Kept documents and searches go to a cache of the test runs, never the user's own.
    env: { DMABUF_REVIEW_CACHE: join(tmpdir(), "dmabuf-review-test-cache") },
  },
});
