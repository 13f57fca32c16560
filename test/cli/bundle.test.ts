import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, ROOT, runCli, runCliBatch, type CliCase } from "../helpers/cli.js";

const BUNDLE = join(ROOT, "dist", "cli-review.mjs");
const CODE = join(ROOT, "dist", "cli-review.cjs");
const TREE = join(ROOT, "dist", "src", "cli", "main.js");
const INPUTS = join(ROOT, "dist", "cli-review.inputs.json");

// bin/dmabuf-review.js takes the bundle only while none of the files it was made from is newer; so does this test.
const fresh =
  existsSync(BUNDLE) &&
  existsSync(INPUTS) &&
  (JSON.parse(readFileSync(INPUTS, "utf8")) as string[]).every((f) => statSync(join(ROOT, "dist", f)).mtimeMs <= statSync(BUNDLE).mtimeMs);

const DIRS = ["fixtures/series", "fixtures/model", "fixtures/model/derived", "fixtures/userspace", "fixtures/out-of-scope"];
const inputs = DIRS.flatMap((d) =>
  readdirSync(join(ROOT, d))
    .filter((n) => /\.(patch|mbox|eml)$/.test(n))
    .sort()
    .map((n) => `${d}/${n}`),
);

const cases: CliCase[] = [
  ...inputs.flatMap((f): CliCase[] => [
    { args: ["review", f] },
    { args: ["review", f, "--format", "json", "--fail-on", "error"] },
    { args: ["check", "--url", "https://review.example.org"], stdin: readFileSync(join(ROOT, f)) },
  ]),
  // What reads files beside the modules: package.json, the rules directory by default and given.
  { args: ["--version"] },
  { args: ["review", "-"], stdin: readFileSync(join(ROOT, "fixtures/model/udmabuf-skip-cpu-sync.patch")) },
  { args: ["review", "fixtures/model/udmabuf-skip-cpu-sync.patch", "--rules", "rules"] },
  { args: ["review", "fixtures/broken/not-mail.txt"] },
  { args: ["review", "fixtures/no-such.patch"] },
  { args: ["check", "--series", "--thread", "fixtures/series/dma-coherent-v1.mbox"], stdin: readFileSync(join(ROOT, "fixtures/series/dma-coherent-v1.mbox")) },
];

describe.skipIf(!fresh)(`the bundled review and check path${fresh ? "" : " (skipped: dist/cli-review.mjs is absent or older than a file it was made from; run npm run build)"}`, () => {
  let cache: string;
  beforeAll(() => {
    assertBuilt();
    cache = mkdtempSync(join(tmpdir(), "dmabuf-review-bundle-"));
  });
  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  it("prints byte for byte what the compiled tree prints, with the same exit codes", async () => {
    expect(inputs.length).toBeGreaterThan(30);
    const env = { DMABUF_REVIEW_CACHE: cache, B4_TRACKING_FILE: "" };
    const [tree, bundle] = await Promise.all([runCliBatch(cases, TREE, env), runCliBatch(cases, BUNDLE, env)]);
    // Not a comparison of two empty outputs: the fixtures give findings, clean reviews and refusals.
    expect(new Set(tree.map((r) => r.code))).toEqual(new Set([0, 1, 2]));
    for (const [i, c] of cases.entries()) {
      expect(bundle[i], `${c.args.join(" ")}`).toEqual(tree[i]);
    }
    // Both keyed the model's kept searches alike: the bundle hashed the compiled tree's model code.
    expect(readdirSync(cache).filter((n) => n.startsWith("searches-"))).toHaveLength(1);
    // Every fixture reviewed and checked twice over: some 20 s alone, past 30 s on a busy machine.
  }, 120_000);

  it("the bin runs review and check from the bundle, and the other commands from the tree", async () => {
    const trace = `--import=data:text/javascript,${encodeURIComponent(
      `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(`export async function load(url, context, next) { console.error("LOADED " + url); return next(url, context); }`)}`)});`,
    )}`;
    const loaded = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("LOADED file:")).map((l) => l.slice("LOADED ".length));
    const review = await runCli(["review", "fixtures/model/udmabuf-skip-cpu-sync.patch"], undefined, [trace], { DMABUF_REVIEW_CACHE: cache });
    expect(review.code).toBe(1);
    expect(loaded(review.stderr).filter((u) => u.includes("/dist/"))).toEqual([`file://${BUNDLE}`]);
    const track = await runCli(["track", "fixtures/series/dma-coherent-v1.mbox"], undefined, [trace], { DMABUF_REVIEW_CACHE: cache });
    expect(track.code).toBe(0);
    expect(loaded(track.stderr)).toContain(`file://${TREE}`);
    expect(loaded(track.stderr)).not.toContain(`file://${BUNDLE}`);
  });

  it("holds nothing of the service: no channel, store or configuration module", () => {
    // esbuild names each bundled file in a comment line before its code.
    const modules = [...readFileSync(CODE, "utf8").matchAll(/^\/\/ (dist\/src\/\S+\.js)$/gm)].map((m) => m[1]!);
    expect(modules).toContain("dist/src/cli/review.js");
    expect(modules).toContain("dist/src/cli/check.js");
    expect(modules.filter((m) => /^dist\/src\/(channels|state|config|publish\/(mail|github|gitlab|patchwork))\//.test(m))).toEqual([]);
    expect(modules.filter((m) => /^dist\/src\/cli\/(watch|backfill|track)\.js$/.test(m))).toEqual([]);
  });

  it("keeps V8's code for the bundle in the cache directory, and runs alike from it, without it and with it damaged", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-code-"));
    try {
      const args = ["review", "fixtures/model/udmabuf-skip-cpu-sync.patch"];
      const kept = () => readdirSync(dir).filter((n) => /^bundle-[0-9a-f]+\.v8$/.test(n));
      const first = await runCli(args, undefined, [], { DMABUF_REVIEW_CACHE: dir });
      expect(first.code).toBe(1);
      expect(kept()).toHaveLength(1);
      const file = join(dir, kept()[0]!);
      const made = statSync(file).mtimeMs;
      // Accepted: not written again.
      const second = await runCli(args, undefined, [], { DMABUF_REVIEW_CACHE: dir });
      expect(second).toEqual(first);
      expect(statSync(file).mtimeMs).toBe(made);
      // Refused by V8: compiled afresh and kept anew.
      writeFileSync(file, "not V8's code");
      const third = await runCli(args, undefined, [], { DMABUF_REVIEW_CACHE: dir });
      expect(third).toEqual(first);
      expect(readFileSync(file).length).toBeGreaterThan(1000);
      const off = await runCli(args, undefined, [], { DMABUF_REVIEW_CACHE: "off" });
      expect(off).toEqual(first);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
