/**
 * The userspace section of `npm run eval` (issue 20): real dma-buf userspace code (GStreamer,
 * libcamera, weston, v4l-utils, PipeWire, libdrm, kmscube) read from fetched mirrors at run time,
 * reviewed by the bot's own pipeline, and scored against eval/devset/userspace.yaml. A file "as
 * it stands" is reviewed as if one patch added it whole; a commit is reviewed as `git show`
 * prints it; a revert as `git diff <commit> <commit>^` with a Revert subject, which is how real
 * history that added bracketing is turned into the change that would take it away.
 *
 * The mirrors are bare git directories named `<owner>+<name>` under $USERSPACE_MIRRORS
 * (default /work/.mirror); a repository or commit that is absent is skipped with its reason.
 *
 *   node dist/eval/userspace.js [--set FILE] [--mirrors DIR] [--show]   (--show prints each finding)
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { loadOne } from "../src/ingest/mbox/messages.js";
import type { Message } from "../src/patch/message.js";
import { groupSeries } from "../src/patch/series.js";
import type { Finding } from "../src/review/finding.js";
import { reviewSeries } from "../src/review/review-series.js";
import { projectRoot } from "./archive.js";
import type { Pipeline } from "./eval.js";

/** One labelled piece of real code: a file as it stands at a commit, or one commit's change to it. */
export interface UserspaceCase {
  readonly repo: string;
  readonly commit: string;
  readonly file: string;
  /**
   * whole-file: the file at `commit` as one added file; commit: what `commit` changed in it;
   * revert: that change taken back, as a revert of `commit` would send it.
   */
  readonly mode: "whole-file" | "commit" | "revert";
  readonly labels: readonly UserspaceLabel[];
}

/** A function's expected finding (`rule`) or expected silence (`rule: none`), with why. */
export interface UserspaceLabel {
  readonly function: string;
  readonly rule: string;
  readonly reason: string;
}

export interface CaseOutcome {
  readonly case: UserspaceCase;
  readonly findings: readonly Finding[];
  readonly skipped?: string;
}

const CASE_KEYS = new Set(["repo", "commit", "file", "mode", "labels"]);

/** Read the labelled set; a malformed entry is an error naming its position and field. */
export function readUserspaceSet(path: string): UserspaceCase[] {
  const doc = parse(readFileSync(path, "utf8")) as { cases?: unknown };
  if (!doc || !Array.isArray(doc.cases)) throw new Error(`${path}: no cases list`);
  return doc.cases.map((raw, i) => {
    const c = raw as Record<string, unknown>;
    const where = `${path}: cases[${i}]`;
    for (const k of Object.keys(c)) if (!CASE_KEYS.has(k)) throw new Error(`${where}: unknown field ${k}`);
    for (const k of ["repo", "commit", "file"]) if (typeof c[k] !== "string") throw new Error(`${where}: ${k} missing`);
    if (c.mode !== "whole-file" && c.mode !== "commit" && c.mode !== "revert") throw new Error(`${where}: mode must be whole-file, commit or revert`);
    if (!Array.isArray(c.labels)) throw new Error(`${where}: labels missing`);
    const labels = c.labels.map((l: Record<string, unknown>, j: number) => {
      for (const k of ["function", "rule", "reason"]) {
        if (typeof l[k] !== "string") throw new Error(`${where}.labels[${j}]: ${k} missing`);
      }
      return { function: l.function as string, rule: l.rule as string, reason: l.reason as string };
    });
    return { repo: c.repo as string, commit: c.commit as string, file: c.file as string, mode: c.mode, labels };
  });
}

/** The git directory of a fetched mirror, or undefined when it is not on this machine. */
export function mirrorDir(mirrors: string, repo: string): string | undefined {
  const base = join(mirrors, repo.replace("/", "+"), "repo");
  for (const d of [join(base, ".git"), base]) if (existsSync(join(d, "HEAD")) && existsSync(join(d, "objects"))) return d;
  return undefined;
}

function git(dir: string, args: readonly string[]): string {
  // stderr kept: an absent commit is reported once as a skip, not as git's own line.
  return execFileSync("git", ["--git-dir", dir, ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] });
}

/** A plain diff that adds `text` as a new file: the whole file reviewed as one added patch. */
export function wholeFileDiff(path: string, text: string): string {
  const lines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
  return [
    `diff --git a/${path} b/${path}`,
    "new file mode 100644",
    "--- /dev/null",
    `+++ b/${path}`,
    `@@ -0,0 +1,${lines.length} @@`,
    ...lines.map((l) => `+${l}`),
    "",
  ].join("\n");
}

/** The diff a case is reviewed on, or the reason it cannot be built here. */
export function caseDiff(mirrors: string, c: UserspaceCase): { diff: string } | { skipped: string } {
  const dir = mirrorDir(mirrors, c.repo);
  if (!dir) return { skipped: `${c.repo}: no mirror under ${mirrors}` };
  try {
    git(dir, ["cat-file", "-e", `${c.commit}^{commit}`]);
  } catch {
    return { skipped: `${c.repo}: commit ${c.commit} not in the mirror` };
  }
  try {
    if (c.mode === "whole-file") return { diff: wholeFileDiff(c.file, git(dir, ["show", `${c.commit}:${c.file}`])) };
    if (c.mode === "commit") return { diff: git(dir, ["show", "--format=commit %H%nAuthor: %an <%ae>%nDate: %aD%n%n    %s%n", c.commit, "--", c.file]) };
    const head = git(dir, ["show", "-s", "--format=commit %H%nAuthor: %an <%ae>%nDate: %aD%n%n    Revert \"%s\"%n", c.commit]);
    return { diff: head + git(dir, ["diff", c.commit, `${c.commit}^`, "--", c.file]) };
  } catch (err) {
    return { skipped: `${c.repo}@${c.commit.slice(0, 12)}:${c.file}: ${(err as Error).message.split("\n")[0]}` };
  }
}

/** Review one diff as `dmabuf-review review` would and keep the userspace findings. */
export async function reviewUserspaceDiff(diff: string, source: string, pipeline: Pipeline): Promise<Finding[]> {
  const loaded = await loadOne({ bytes: Buffer.from(diff), source });
  if (!("kind" in loaded)) throw new Error(`${source}: ${loaded.reason}: ${loaded.detail}`);
  const messages: Message[] = [loaded];
  const out: Finding[] = [];
  for (const series of groupSeries(messages).series) {
    const review = reviewSeries(series, pipeline.rules, pipeline.parser, pipeline.model);
    for (const p of review.patches) out.push(...p.findings.filter((f) => f.rule.startsWith("userspace/")));
  }
  return out;
}

export async function runUserspaceCases(cases: readonly UserspaceCase[], mirrors: string, pipeline: Pipeline): Promise<CaseOutcome[]> {
  const out: CaseOutcome[] = [];
  for (const c of cases) {
    const d = caseDiff(mirrors, c);
    if ("skipped" in d) out.push({ case: c, findings: [], skipped: d.skipped });
    else out.push({ case: c, findings: await reviewUserspaceDiff(d.diff, `${c.repo}@${c.commit.slice(0, 12)}:${c.file}`, pipeline) });
  }
  return out;
}

export interface RuleFigures {
  right: number;
  wrong: number;
  missed: number;
}

export interface UserspaceScore {
  readonly cases: number;
  readonly skipped: readonly string[];
  readonly right: number;
  /** Warnings against a label: on code labelled right, or another rule than the label names. */
  readonly wrong: number;
  /** Of the wrong ones, those on functions labelled right. */
  readonly onRightCode: number;
  /** Findings on functions nobody labelled: read them and label them. */
  readonly unlabelled: readonly string[];
  readonly missed: readonly string[];
  readonly perRule: ReadonlyMap<string, RuleFigures>;
  readonly wrongList: readonly string[];
}

/**
 * A finding is right when its function carries a label naming its rule; wrong when the function is
 * labelled with other rules or `none`. A label naming a rule that no finding raised is a miss.
 */
export function scoreUserspace(outcomes: readonly CaseOutcome[]): UserspaceScore {
  let right = 0;
  let wrong = 0;
  let onRightCode = 0;
  const unlabelled: string[] = [];
  const missed: string[] = [];
  const wrongList: string[] = [];
  const perRule = new Map<string, RuleFigures>();
  const figures = (rule: string) => {
    let f = perRule.get(rule);
    if (!f) perRule.set(rule, (f = { right: 0, wrong: 0, missed: 0 }));
    return f;
  };
  for (const o of outcomes) {
    if (o.skipped) continue;
    const where = `${o.case.repo}@${o.case.commit.slice(0, 12)}:${o.case.file}`;
    const seen = new Set<string>();
    for (const f of o.findings) {
      const fn = f.function ?? "?";
      const labels = o.case.labels.filter((l) => l.function === fn);
      const at = `${where}:${f.line} ${fn}: ${f.rule}`;
      if (labels.length === 0) {
        unlabelled.push(at);
        continue;
      }
      if (labels.some((l) => l.rule === f.rule)) {
        right++;
        figures(f.rule).right++;
        seen.add(`${fn}\0${f.rule}`);
      } else {
        wrong++;
        figures(f.rule).wrong++;
        wrongList.push(at);
        if (labels.every((l) => l.rule === "none")) onRightCode++;
      }
    }
    for (const l of o.case.labels) {
      if (l.rule === "none" || seen.has(`${l.function}\0${l.rule}`)) continue;
      figures(l.rule).missed++;
      missed.push(`${where} ${l.function}: ${l.rule}`);
    }
  }
  return {
    cases: outcomes.length,
    skipped: outcomes.flatMap((o) => (o.skipped ? [o.skipped] : [])),
    right,
    wrong,
    onRightCode,
    unlabelled,
    missed,
    perRule,
    wrongList,
  };
}

function pct(n: number, d: number): string {
  return d === 0 ? "-" : `${((100 * n) / d).toFixed(0)}%`;
}

export function renderUserspaceScore(s: UserspaceScore, labels: number): string {
  const warned = s.right + s.wrong;
  const lines = [
    "",
    "Userspace (issue 20): real code from fetched mirrors, eval/devset/userspace.yaml",
    `  cases ${s.cases} (${s.skipped.length} skipped), labels ${labels}`,
    `  warnings ${warned + s.unlabelled.length}: right ${s.right}, wrong ${s.wrong} (${pct(s.right, warned)} right), ` +
      `on code labelled right ${s.onRightCode}, unlabelled ${s.unlabelled.length}, labelled findings missed ${s.missed.length}`,
    "  per rule (right / wrong / missed):",
    ...[...s.perRule.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([r, f]) => `    ${r.padEnd(40)} ${f.right} / ${f.wrong} / ${f.missed}`),
    ...s.skipped.map((k) => `  skipped: ${k}`),
    ...s.wrongList.map((w) => `  wrong: ${w}`),
    ...s.unlabelled.map((w) => `  unlabelled: ${w}`),
    ...s.missed.map((w) => `  missed: ${w}`),
  ];
  return `${lines.join("\n")}\n`;
}

export function defaultMirrors(): string {
  return process.env.USERSPACE_MIRRORS ?? "/work/.mirror";
}

/** The hook eval.ts calls: the whole userspace section as text, or why it was skipped. */
export async function userspaceSection(pipeline: Pipeline, setPath?: string, mirrors = defaultMirrors()): Promise<string> {
  const path = setPath ?? join(projectRoot(), "eval", "devset", "userspace.yaml");
  if (!existsSync(path)) return `\nUserspace (issue 20): skipped: no labelled set at ${path}\n`;
  const cases = readUserspaceSet(path);
  const outcomes = await runUserspaceCases(cases, mirrors, pipeline);
  return renderUserspaceScore(scoreUserspace(outcomes), cases.reduce((n, c) => n + c.labels.length, 0));
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { set: { type: "string" }, mirrors: { type: "string" }, show: { type: "boolean" }, scan: { type: "string" } },
  });
  const { loadPipeline } = await import("./eval.js");
  const pipeline = await loadPipeline();
  const mirrors = values.mirrors ?? defaultMirrors();
  if (values.scan) {
    // Exploring: `--scan owner/name[@commit] file...` prints what the bot says on each file as it stands.
    const [repo, commit = "HEAD"] = values.scan.split("@");
    const dir = mirrorDir(mirrors, repo!);
    if (!dir) throw new Error(`${repo}: no mirror under ${mirrors}`);
    const sha = git(dir, ["rev-parse", commit]).trim();
    for (const file of positionals) {
      const c: UserspaceCase = { repo: repo!, commit: sha, file, mode: file.includes(":") ? "commit" : "whole-file", labels: [] };
      const real = file.includes(":") ? { ...c, commit: file.split(":")[0]!, file: file.split(":")[1]! } : c;
      const [o] = await runUserspaceCases([real], mirrors, pipeline);
      process.stdout.write(`## ${repo}@${real.commit.slice(0, 12)} ${real.mode} ${real.file}${o!.skipped ? ` skipped: ${o!.skipped}` : ""}\n`);
      for (const f of o!.findings) process.stdout.write(`  ${f.line} ${f.function}: ${f.rule}: ${f.message}\n${(f.details ?? []).map((d) => `      ${d}\n`).join("")}`);
    }
    return 0;
  }
  const path = values.set ?? join(projectRoot(), "eval", "devset", "userspace.yaml");
  const cases = readUserspaceSet(path);
  const outcomes = await runUserspaceCases(cases, mirrors, pipeline);
  if (values.show) {
    for (const o of outcomes) for (const f of o.findings) process.stdout.write(`${o.case.repo} ${o.case.file}:${f.line} ${f.function}: ${f.rule}\n  ${f.message}\n`);
  }
  process.stdout.write(renderUserspaceScore(scoreUserspace(outcomes), cases.reduce((n, c) => n + c.labels.length, 0)));
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`eval: userspace: ${err.message}\n`);
      process.exit(2);
    },
  );
}
