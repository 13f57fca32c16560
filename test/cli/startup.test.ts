import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runCli } from "../helpers/cli.js";

// A module hook that names on stderr every module the CLI process loads.
const HOOK = `export async function load(url, context, next) { console.error("LOADED " + url); return next(url, context); }`;
const REGISTER = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});`;
const TRACE = `--import=data:text/javascript,${encodeURIComponent(REGISTER)}`;

const PATCH = "fixtures/model/udmabuf-skip-cpu-sync.patch";

async function loadedBy(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; modules: string[] }> {
  const run = await runCli(args, undefined, [TRACE], env);
  const modules = run.stderr.split("\n").flatMap((l) => (l.startsWith("LOADED ") ? [l.slice("LOADED ".length)] : []));
  return { code: run.code, modules };
}

const packageOf = (url: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];

describe("review of one patch loads only what the review needs", () => {
  let cache: string;
  beforeAll(() => {
    assertBuilt();
    cache = mkdtempSync(join(tmpdir(), "dmabuf-review-startup-"));
  });
  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  it("nothing of the service: no Probot, forge clients, SMTP, SQLite, logger, channels or store", async () => {
    const { code, modules } = await loadedBy(["review", PATCH], { DMABUF_REVIEW_CACHE: cache });
    expect(code).toBe(1);
    const packages = new Set(modules.flatMap((u) => packageOf(u) ?? []));
    for (const p of ["probot", "@octokit/core", "@gitbeaker/rest", "nodemailer", "libsql", "pino", "pino-pretty", "simple-git"]) {
      expect(packages, p).not.toContain(p);
    }
    expect(modules.filter((u) => /\/dist\/src\/(channels|state|config)\//.test(u))).toEqual([]);
  });

  it("neither the YAML parser nor the schema compiler once the rules and catalog are kept", async () => {
    await loadedBy(["review", PATCH], { DMABUF_REVIEW_CACHE: cache }); // fills the cache, if the test above did not
    const { code, modules } = await loadedBy(["review", PATCH], { DMABUF_REVIEW_CACHE: cache });
    expect(code).toBe(1);
    const packages = new Set(modules.flatMap((u) => packageOf(u) ?? []));
    expect(packages).not.toContain("yaml");
    expect(packages).not.toContain("ajv");
  });

  it("loads them again with the cache off, with the same review", async () => {
    const kept = await runCli(["review", PATCH, "--format", "json"], undefined, [], { DMABUF_REVIEW_CACHE: cache });
    const { modules } = await loadedBy(["review", PATCH], { DMABUF_REVIEW_CACHE: "off" });
    const packages = new Set(modules.flatMap((u) => packageOf(u) ?? []));
    expect(packages).toContain("yaml");
    const off = await runCli(["review", PATCH, "--format", "json"], undefined, [], { DMABUF_REVIEW_CACHE: "off" });
    expect(kept.stdout).toBe(off.stdout);
    expect(kept.code).toBe(off.code);
  });
});
