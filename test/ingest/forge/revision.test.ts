import { describe, expect, it } from "vitest";
import { describeSkipped, forgeSeries, type ForgeFile, type ForgeRevision } from "../../../src/ingest/forge/revision.js";
import { parseDiff } from "../../../src/patch/diff.js";
import { pushFromMbox } from "../../peers/forge-series.js";

const rev: ForgeRevision = {
  id: "gitlab:mesa/kernel!7@abc",
  title: "dma-buf: add dma_coherent flag",
  description: "Some text.\n\n---\n\ndiff --git a/fake b/fake\nnot a diff, a pasted one in Markdown\n\nFixes: 0123456789ab (\"dma-buf: something\")\n",
  author: { name: "Christian König", email: "christian.koenig@amd.com" },
  date: new Date("2022-10-20T12:13:16Z"),
  revision: 2,
  url: "https://gitlab.example.org/mesa/kernel/-/merge_requests/7",
};

const file = (over: Partial<ForgeFile> & Pick<ForgeFile, "newPath">): ForgeFile => ({
  oldPath: over.newPath,
  status: "modified",
  hunks: "@@ -1,2 +1,2 @@\n int a;\n-int b;\n+int c;",
  binary: false,
  tooLarge: false,
  ...over,
});

describe("forgeSeries", () => {
  it("numbers every line as the core's parser does for the same diff in a mail", async () => {
    const push = await pushFromMbox();
    const { series, skipped } = forgeSeries(rev, push.files.map((f) => ({ oldPath: f.oldPath, newPath: f.newPath, status: f.status === "binary" ? "modified" : f.status, hunks: f.hunks, binary: false, tooLarge: false })));
    expect(skipped).toEqual([]);
    const files = series!.slots[0]!.files;
    const direct = push.files.flatMap((f) => parseDiff(`--- a/${f.oldPath}\n+++ b/${f.newPath}\n${f.hunks}\n`));
    expect(files.map((f) => f.hunks)).toEqual(direct.map((f) => f.hunks));
    expect(files.find((f) => f.path === "drivers/dma-buf/dma-buf.c")!.hunks[2]!.lines.find((l) => l.type === "+")!.newLine).toBe(838);
  });

  it("is one patch of one revision; the description is kept whole and never read as a diff", () => {
    const { series } = forgeSeries(rev, [file({ newPath: "drivers/dma-buf/dma-buf.c" })]);
    const m = series!.slots[0]!;
    expect(series).toMatchObject({ id: rev.id, revision: 2, total: 1, missing: [], title: "dma-buf: add dma_coherent flag" });
    expect(m).toMatchObject({ kind: "patch", subject: "[PATCH v2] dma-buf: add dma_coherent flag", source: rev.url });
    expect(m.commitMessage).toContain("diff --git a/fake b/fake");
    expect(m.files.map((f) => f.path)).toEqual(["drivers/dma-buf/dma-buf.c"]);
    expect(m.trailers.map((t) => t.key)).toContain("Fixes");
  });

  it("keeps renames, creations and deletions as the forge says, with their line numbers", () => {
    const { series } = forgeSeries(rev, [
      file({ oldPath: "old.c", newPath: "new.c", status: "renamed", hunks: undefined }),
      file({ oldPath: undefined, newPath: "added.c", status: "added", hunks: "@@ -0,0 +1,2 @@\n+int a;\n+int b;" }),
      file({ oldPath: "gone.c", newPath: undefined, status: "deleted", hunks: "@@ -1,2 +0,0 @@\n-int a;\n-int b;" }),
    ]);
    const [renamed, added, deleted] = series!.slots[0]!.files;
    expect(renamed).toEqual({ oldPath: "old.c", newPath: "new.c", path: "new.c", status: "renamed", hunks: [] });
    expect(added).toMatchObject({ oldPath: undefined, path: "added.c", status: "added" });
    expect(added!.hunks[0]!.lines.map((l) => l.newLine)).toEqual([1, 2]);
    expect(deleted).toMatchObject({ newPath: undefined, path: "gone.c", status: "deleted" });
    expect(deleted!.hunks[0]!.lines.map((l) => l.oldLine)).toEqual([1, 2]);
  });

  it("lists what it leaves out: binaries, diffs over the limits, files over the count, diffs that do not parse", () => {
    const files = [
      file({ newPath: "logo.png", binary: true, hunks: undefined }),
      file({ newPath: "huge.c", tooLarge: true, hunks: undefined }),
      file({ newPath: "big.c", hunks: `@@ -1,1 +1,1 @@\n-a\n+${"x".repeat(2000)}` }),
      file({ newPath: "broken.c", hunks: "@@ -1,5 +1,5 @@\n int a;" }),
      ...Array.from({ length: 4 }, (_, i) => file({ newPath: `drivers/gpu/drm/tiny/f${i}.c` })),
      file({ newPath: "docs/readme.txt" }),
      file({ newPath: "drivers/dma-buf/dma-buf.c", hunks: "@@ -1,1 +1,1 @@\n-a\n+dma_buf_put(buf);" }),
    ];
    const { series, skipped, files: n } = forgeSeries(rev, files, { maxFiles: 3, maxFileDiffBytes: 1000, maxTotalDiffBytes: 10_000 });
    expect(n).toBe(files.length);
    // dma-buf work first, then C sources, in the forge's order; the file count stops at three.
    expect(series!.slots[0]!.files.map((f) => f.path)).toEqual(["drivers/gpu/drm/tiny/f0.c", "drivers/gpu/drm/tiny/f1.c", "drivers/dma-buf/dma-buf.c"]);
    expect(skipped.map((s) => `${s.path}: ${s.reason}`)).toEqual([
      "logo.png: binary",
      "huge.c: too-large",
      "big.c: too-large",
      "broken.c: truncated-diff",
      "drivers/gpu/drm/tiny/f2.c: too-many-files",
      "drivers/gpu/drm/tiny/f3.c: too-many-files",
      "docs/readme.txt: too-many-files",
    ]);
    expect(skipped.find((s) => s.path === "big.c")!.detail).toMatch(/^diff of \d+ bytes, over the limit of 1000$/);
    expect(describeSkipped(skipped, 2)).toEqual([
      "Not reviewed: 7 files.",
      "- 1 binary: `logo.png`",
      "- 2 over the size limits (the forge left the diff out as too large, ...): `huge.c`, `big.c`",
      "- 3 over the file limit (over the limit of 3 files per review, ...): `drivers/gpu/drm/tiny/f2.c`, `drivers/gpu/drm/tiny/f3.c` and 1 more",
      `- 1 with a diff that does not parse (${skipped.find((s) => s.path === "broken.c")!.detail}): \`broken.c\``,
    ]);
  });

  it("has no series when nothing is left to review", () => {
    const { series, skipped } = forgeSeries(rev, [file({ newPath: "a.png", binary: true, hunks: undefined })]);
    expect(series).toBeUndefined();
    expect(skipped).toHaveLength(1);
    expect(forgeSeries(rev, []).series).toBeUndefined();
  });
});
