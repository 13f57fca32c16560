import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { caseDiff, readUserspaceSet, scoreUserspace, type UserspaceCase } from "../../eval/userspace.js";

// A real git repository laid out as a fetched mirror (`<owner>+<name>/repo`), with one commit
// that adds a SYNC bracket, so the three ways of reading a case run against git itself.
let root: string;
let commit: string;

const git = (dir: string, ...args: string[]) =>
  execFileSync("git", args, { cwd: dir, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_DATE: "2026-12-02T10:00:00Z", GIT_COMMITTER_DATE: "2026-12-02T10:00:00Z" } }).trim();

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "userspace-eval-"));
  const repo = join(root, "demo+frames", "repo");
  mkdirSync(repo, { recursive: true });
  git(repo, "init", "-q");
  git(repo, "config", "user.email", "jane.dev@example.org");
  git(repo, "config", "user.name", "Jane Dev");
  writeFileSync(join(repo, "frame.c"), "void\nframe_read(int fd, char *out, char *map)\n{\n\tout[0] = map[0];\n}\n");
  git(repo, "add", "frame.c");
  git(repo, "commit", "-qm", "frame: read");
  writeFileSync(
    join(repo, "frame.c"),
    "void\nframe_read(int fd, char *out, char *map)\n{\n\tstruct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };\n\n\tioctl(fd, DMA_BUF_IOCTL_SYNC, &s);\n\tout[0] = map[0];\n}\n",
  );
  git(repo, "commit", "-qam", "frame: bracket the read");
  commit = git(repo, "rev-parse", "HEAD");
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const base = (mode: UserspaceCase["mode"]): UserspaceCase => ({ repo: "demo/frames", commit, file: "frame.c", mode, labels: [] });

describe("userspace eval: reading a case from a mirror", () => {
  it("commit: the change as git show prints it", () => {
    const d = caseDiff(root, base("commit"));
    expect("diff" in d && d.diff).toMatch(/^\+\tioctl\(fd, DMA_BUF_IOCTL_SYNC, &s\);$/m);
  });

  it("revert: the same change taken back, under a Revert subject", () => {
    const d = caseDiff(root, base("revert"));
    if (!("diff" in d)) throw new Error(d.skipped);
    expect(d.diff).toMatch(/^    Revert "frame: bracket the read"$/m);
    expect(d.diff).toMatch(/^-\tioctl\(fd, DMA_BUF_IOCTL_SYNC, &s\);$/m);
    expect(d.diff).not.toMatch(/^\+\tioctl/m);
  });

  it("a missing commit is a skip with its reason, not a crash", () => {
    expect(caseDiff(root, { ...base("revert"), commit: "0".repeat(40) })).toEqual({ skipped: `demo/frames: commit ${"0".repeat(40)} not in the mirror` });
  });

  it("the set refuses an unknown mode, naming the case", () => {
    const path = join(root, "set.yaml");
    writeFileSync(path, "cases:\n  - {repo: a/b, commit: c, file: f, mode: backport, labels: []}\n");
    expect(() => readUserspaceSet(path)).toThrow(/cases\[0\]: mode must be whole-file, commit or revert/);
  });
});

describe("userspace eval: scoring", () => {
  it("a finding on a function labelled right counts against the rule and as on right code", () => {
    const c: UserspaceCase = { ...base("commit"), labels: [{ function: "frame_read", rule: "none", reason: "bracketed" }] };
    const s = scoreUserspace([{ case: c, findings: [{ rule: "userspace/unbracketed-cpu-read", function: "frame_read", line: 7 } as never] }]);
    expect({ right: s.right, wrong: s.wrong, onRightCode: s.onRightCode }).toEqual({ right: 0, wrong: 1, onRightCode: 1 });
  });
});
