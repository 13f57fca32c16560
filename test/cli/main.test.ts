import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { describeFailure } from "../../src/cli/main.js";
import { InputError } from "../../src/errors.js";
import { repeated, topLevelKeys } from "../helpers/log.js";
import { assertBuilt, ROOT, runCli, type Run } from "../helpers/cli.js";

beforeAll(() => assertBuilt());

const COMMANDS = ["review", "track", "watch", "backfill", "check"] as const;

/** Every environment variable the code reads, by name: `env["X"]` and `process.env["X"]`. */
function variablesRead(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".ts")) for (const m of readFileSync(path, "utf8").matchAll(/\benv\["([A-Z][A-Z0-9_]*)"\]/g)) names.add(m[1]!);
    }
  };
  walk(join(ROOT, "src"));
  // Read for git's own sake (cat-file, rev-list), not settings of the bot.
  names.delete("PATH");
  names.delete("HOME");
  return names;
}

describe("--help", () => {
  // One run each, shared by the tests below: starting the CLI is most of the time they take.
  const runs = new Map<string, Run>();
  beforeAll(async () => {
    const names = [...COMMANDS, ""] as const;
    const done = await Promise.all(names.map((c) => runCli(c ? [c, "--help"] : ["--help"])));
    names.forEach((c, i) => runs.set(c, done[i]!));
  });

  for (const command of COMMANDS) {
    it(`${command} --help lists options, environment, exit status and an example`, () => {
      const run = runs.get(command)!;
      expect(run.code).toBe(0);
      expect(run.stderr).toBe("");
      const help = run.stdout;
      for (const section of ["Options:", "Environment:", "Exit status:"]) expect(help).toContain(`\n${section}\n`);
      expect(help).toMatch(/\nExamples?:\n {2}\$ (\S+ )*dmabuf-review /);
      expect(help).toMatch(/^ {2}2 {2}unusable input/m);
      expect(help).toContain("DMABUF_REVIEW_PROGRESS");
    });
  }

  it("names every environment variable the code reads in some command's help", () => {
    const helps = [...runs.values()].map((r) => r.stdout).join("\n");
    const missing = [...variablesRead()].filter((v) => !new RegExp(`\\b${v}\\b`).test(helps));
    expect(missing).toEqual([]);
    expect(variablesRead().size).toBeGreaterThan(10);
  });

  it("says which variables the service reads where they matter: logging and the forges under watch", () => {
    const watch = runs.get("watch")!.stdout;
    for (const v of ["LOG_LEVEL", "LOG_FORMAT", "PORT", "GITLAB_TOKEN", "WEBHOOK_SECRET", "DMABUF_REVIEW_SMTP_PASSWORD"]) expect(watch).toContain(v);
    // review does not log: it lists no logging variables.
    expect(runs.get("review")!.stdout).not.toContain("LOG_LEVEL");
  });
});

describe("errors at the top", () => {
  it("prints an input error as one line, exit 2, and 'no such file' for a missing path", () => {
    expect(describeFailure(new InputError("not-a-patch", "no patch series in the input", "x.mbox"))).toEqual({ line: "x.mbox: not-a-patch: no patch series in the input", code: 2 });
    expect(describeFailure(new InputError("unreadable", "no such file", "x.mbox"))).toEqual({ line: "x.mbox: no such file", code: 2 });
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/srv/x.yaml'"), { code: "ENOENT", path: "/srv/x.yaml" });
    expect(describeFailure(enoent)).toEqual({ line: "/srv/x.yaml: no such file", code: 2 });
  });

  it("prints a typed error's message naming its file, and keeps 'internal error' for bugs", () => {
    class StoreError extends Error {
      override readonly name = "StoreError";
      constructor(
        message: string,
        readonly file: string,
      ) {
        super(message);
      }
    }
    expect(describeFailure(new StoreError("the store is corrupt (database disk image is malformed)", "/var/lib/dmabuf-review/state.db"))).toEqual({
      line: "/var/lib/dmabuf-review/state.db: the store is corrupt (database disk image is malformed)",
      code: 3,
    });
    // A message that already names the file is not prefixed again.
    expect(describeFailure(new StoreError("/d/state.db: not a database", "/d/state.db")).line).toBe("/d/state.db: not a database");
    expect(describeFailure(new TypeError("x is undefined"))).toEqual({ line: "internal error: x is undefined", code: 3 });
  });

  it("refuses a missing configuration file in one line", async () => {
    const run = await runCli(["watch", "--config", "/nonexistent/dmabuf-review.yaml"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("dmabuf-review: /nonexistent/dmabuf-review.yaml: no such file\n");
  });

  it("stops watch when a mirror's inbox does not exist and cannot be cloned, naming the mirror, the inbox and the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-main-"));
    mkdirSync(join(dir, "not-an-inbox"));
    const config = join(dir, "config.yaml");
    writeFileSync(
      config,
      [
        `data-dir: ${join(dir, "data")}`,
        "mail:",
        "  mirrors:",
        "    - { name: dri-devel, inbox: lore/dri-devel }",
        "    - { name: media, inbox: not-an-inbox }",
        "    - { name: later, inbox: lore/later, remote: https://lore.kernel.org/later }",
      ].join("\n"),
    );
    const run = await runCli(["watch", "--once", "--config", config]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      `dmabuf-review: ${config}: bad-config: mirror dri-devel: inbox ${join(dir, "lore/dri-devel")} does not exist, and the mirror has no remote to clone it from; ` +
        `mirror media: inbox ${join(dir, "not-an-inbox")}: not a public-inbox v2 inbox (no git/<n>.git) nor an epoch repository\n`,
    );
    // Nothing was started: no store, no demo.
    expect(() => statSync(join(dir, "data"))).toThrow();
  });
});

describe("stdout is the result, stderr the rest", () => {
  it("review --format json prints pure JSON on stdout while progress and logging settings are on", async () => {
    const run = await runCli(["review", "fixtures/series/dma-coherent-v1.mbox", "--format", "json"], undefined, [], {
      LOG_LEVEL: "trace",
      LOG_FORMAT: "json",
      DMABUF_REVIEW_PROGRESS: "lines",
      DMABUF_REVIEW_PROGRESS_SECONDS: "0",
    });
    expect(run.code, run.stderr).toBe(1);
    expect(JSON.parse(run.stdout)).toHaveProperty("series");
    expect(run.stderr).toMatch(/^review fixtures\/series\/dma-coherent-v1\.mbox: reading: 5\/5 messages \(100%\)/m);
    expect(run.stderr).toMatch(/^review fixtures\/series\/dma-coherent-v1\.mbox: reviewing: 1\/1 series \(100%\)/m);
  });

  it("watch --once writes its log to stderr, JSON lines with each key once, and nothing to stdout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-main-"));
    const config = join(dir, "config.yaml");
    writeFileSync(config, `data-dir: ${join(dir, "data")}\n`);
    const run = await runCli(["watch", "--once", "--config", config], undefined, [], { LOG_LEVEL: "debug" });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe("");
    const logs = run.stderr.split("\n").filter((l) => l.startsWith("{"));
    expect(logs.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain("pass done");
    for (const l of logs) expect(repeated(topLevelKeys(l)), l).toEqual([]);
    // The rest of stderr is what a person reads: the demo's line.
    expect(run.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("{"))).toEqual([expect.stringMatching(/^dmabuf-review: demo: 4 replies in /)]);
  });
});
