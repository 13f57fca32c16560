import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { defaultRulesDir } from "../../../src/analysis/rules/load.js";
import { allFindings, reviewPath } from "../../helpers/review.js";

// The real list archive lives beside the project (../shared), never inside it.
const repo = resolve(defaultRulesDir(), "..");
const bundle = ["../shared", "../../shared"]
  .map((up) => join(repo, up, "archives", "linaro-mm-sig-2019-2022.bundle"))
  .find((p) => existsSync(p));

interface Revision {
  readonly version: number;
  readonly cover_commit?: string;
  readonly patches?: readonly { readonly commit?: string }[];
}

let work: string;
let gitDir: string;

/** One revision of a labelled devset series, as the messages the list delivered. */
function revisionDir(id: string, version: number): string {
  const doc = parseYaml(readFileSync(join(repo, "eval", "devset", "positive", `${id}.yaml`), "utf8")) as { revisions: Revision[] };
  const rev = doc.revisions.find((r) => r.version === version)!;
  const commits = [rev.cover_commit, ...(rev.patches ?? []).map((p) => p.commit)].filter((c): c is string => !!c);
  const dir = join(work, `${id}-v${version}`);
  mkdirSync(dir, { recursive: true });
  commits.forEach((c, i) => writeFileSync(join(dir, `${String(i).padStart(3, "0")}.eml`), execFileSync("git", ["--git-dir", gitDir, "show", `${c}:m`])));
  return dir;
}

async function findingsOf(id: string, version: number, rulePrefix: string): Promise<string[]> {
  const review = await reviewPath(revisionDir(id, version));
  return allFindings(review)
    .filter((f) => f.rule.startsWith(rulePrefix))
    .map((f) => `${f.rule} ${f.file}:${f.line}`)
    .sort();
}

describe.skipIf(!bundle)("catalog facts on real series of the linaro-mm-sig archive", () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "dmabuf-catalog-archive-"));
    gitDir = join(work, "0.git");
    execFileSync("git", ["clone", "-q", "--bare", bundle!, gitDir]);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("an importer that attaches and then maps without the lock (tee, 2022) earns the lock finding", async () => {
    expect(await findingsOf("tee-shm-register-fd-2022", 1, "locking/")).toEqual([
      "locking/map-attachment-without-resv drivers/tee/tee_shm.c:282",
      "locking/map-attachment-without-resv drivers/tee/tee_shm.c:313",
    ]);
  });

  it("the series that introduced the locking convention gets no lock finding on its own renames", async () => {
    expect(await findingsOf("dmabuf-locking-convention-2022", 3, "locking/")).toEqual([]);
  });

  it("a PCI BAR exporter that skips the CPU sync earns no missing-sync warning (vfio, 2022)", async () => {
    expect(await findingsOf("vfio-mmio-dmabuf-2022", 2, "sync/skip-cpu-sync-added")).toEqual([]);
  });

  it("a heap whose map_dma_buf hands out its own table is told to map it for the importer", async () => {
    expect(await findingsOf("secure-heap-2022", 2, "dma-api/")).toEqual([
      "dma-api/map-dma-buf-without-dma-mapping drivers/dma-buf/heaps/secure_heap.c:129",
    ]);
  });

  // amdgpu maps and unmaps with one count and never stores dma_map_sg's return in nents there.
  it("an exporter that unmaps with the count it mapped (nents never overwritten) is not told to pass orig_nents (amdgpu, 2019)", async () => {
    expect(await findingsOf("dynamic-locking-2019", 1, "dma-api/")).toEqual([]);
  });
});
