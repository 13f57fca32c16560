import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, ROOT, runCli } from "../helpers/cli.js";

// A module hook that names on stderr every module the CLI process loads: ESM through the loader
// hook, CommonJS (createRequire, which the loader hook does not see on Node 20) through Module._load.
const HOOK = `export async function load(url, context, next) { console.error("LOADED " + url); return next(url, context); }`;
const CJS = `const load = Module._load; Module._load = function (request, parent, isMain) {
  try { const f = Module._resolveFilename(request, parent, isMain); if (!f.endsWith("/package.json")) console.error("LOADED file://" + f); } catch {}
  return load.apply(this, arguments);
};`;
const REGISTER = `import Module, { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)}); ${CJS}`;
const TRACE = `--import=data:text/javascript,${encodeURIComponent(REGISTER)}`;

const PATCH = "fixtures/model/udmabuf-skip-cpu-sync.patch";

async function loadedBy(args: readonly string[], env: NodeJS.ProcessEnv, stdin?: Buffer): Promise<{ code: number | null; modules: string[] }> {
  const run = await runCli(args, stdin, [TRACE], env);
  const modules = run.stderr.split("\n").flatMap((l) => (l.startsWith("LOADED ") ? [l.slice("LOADED ".length)] : []));
  return { code: run.code, modules };
}

/** The files dist/cli-review.cjs was made from, as the bin runs review and check from it. */
function bundled(): string[] {
  const inputs = join(ROOT, "dist", "cli-review.inputs.json");
  return existsSync(inputs) ? (JSON.parse(readFileSync(inputs, "utf8")) as string[]) : [];
}

// The innermost package: mailparser's own nodemailer is nodemailer, not mailparser.
const packageOf = (url: string) => [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].pop()?.[1];

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
    // nodemailer's address parser alone (one file, mailparser's own copy) reads From/To/Cc; the rest of it is SMTP.
    const addressParser = /node_modules\/nodemailer\/dist\/(cjs|esm)\/addressparser\/index\.js$/;
    const packages = new Set(modules.filter((u) => !addressParser.test(u)).flatMap((u) => packageOf(u) ?? []));
    for (const p of ["probot", "@octokit/core", "@gitbeaker/rest", "nodemailer", "libsql", "pino", "pino-pretty", "simple-git"]) {
      expect(packages, p).not.toContain(p);
    }
    expect(modules.filter((u) => /\/dist\/src\/(channels|state|config)\//.test(u))).toEqual([]);
  });

  // mailparser brings libmime, iconv-lite and an HTML stack; diff's index every diff algorithm.
  const MAIL_STACK = ["mailparser", "libmime", "iconv-lite", "html-to-text", "linkify-it"];

  it("a format-patch file, reviewed or checked, is read without mailparser and without diff's algorithms", async () => {
    for (const [args, stdin] of [[["review", PATCH]], [["check"], readFileSync(join(ROOT, PATCH))]] as const) {
      const { code, modules: loaded } = await loadedBy(args, { DMABUF_REVIEW_CACHE: cache }, stdin);
      expect(code, args[0]).toBe(args[0] === "check" ? 0 : 1);
      // What the bundle holds runs as well as what is loaded (scripts/bundle.ts takes diff in).
      const modules = [...loaded, ...bundled()];
      const packages = new Set(modules.flatMap((u) => packageOf(u) ?? []));
      expect(packages, args[0]).toContain("diff");
      for (const p of MAIL_STACK) expect(packages, `${args[0]}: ${p}`).not.toContain(p);
      expect(modules.filter((u) => /node_modules\/diff\/lib(esm|cjs)\/diff\//.test(u)), args[0]).toEqual([]);
    }
  });

  it("mail the fast path leaves (a multipart message with the patch attached) still gets mailparser", async () => {
    const { modules } = await loadedBy(["review", "fixtures/messages/attachment-format-patch.eml"], { DMABUF_REVIEW_CACHE: cache });
    expect(new Set(modules.flatMap((u) => packageOf(u) ?? []))).toContain("mailparser");
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
