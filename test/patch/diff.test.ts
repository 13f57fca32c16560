import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.js";
import { parseDiff, splitBody } from "../../src/patch/diff.js";
import { fixtureBody } from "../helpers/mail.js";

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err.reason;
    throw err;
  }
  return undefined;
}

describe("splitBody", () => {
  it("puts the changelog and diffstat below --- into notes, and reads base-commit and change-id after the diff", () => {
    const parts = splitBody(fixtureBody("messages/changelog-diffstat.eml"));
    expect(parts.commitMessage.split("\n").at(0)).toBe("dma_buf_begin_cpu_access() already refuses a NULL buffer with -EINVAL,");
    expect(parts.commitMessage.split("\n").at(-1)).toBe("Signed-off-by: Jane Dev <jane.dev@example.org>");
    expect(parts.notes).toMatch(/^Changes in v2:\n- also record exp_name \(Sam\)/);
    expect(parts.notes).toContain(" 2 files changed, 4 insertions(+), 1 deletion(-)");
    expect(parts.notes).not.toContain("diff --git");
    expect(parts.diffText.startsWith("diff --git a/drivers/dma-buf/dma-buf.c b/drivers/dma-buf/dma-buf.c\n")).toBe(true);
    expect(parts.diffText.endsWith(" #endif /* __DMA_BUF_H__ */\n")).toBe(true);
    expect(parts.baseCommit).toBe("d0f9033f753f87db714be5a663023d6c2ed934b6");
    expect(parts.changeId).toBe("20261030-dmabuf-null-0c4f2a");
  });

  it("leaves the -- signature and the list footer in the tail, outside the last hunk", () => {
    const parts = splitBody(fixtureBody("messages/changelog-diffstat.eml"));
    expect(parts.diffText).not.toContain("Best regards");
    expect(parts.tail).toContain("\n-- \nJane Dev <jane.dev@example.org>\n");
    expect(parts.tail).toContain("Linaro-mm-sig mailing list");
    const files = parseDiff(parts.diffText);
    expect(files.map((f) => f.hunks.at(-1)?.lines.at(-1)?.text)).toEqual(["\t\tret = dmabuf->ops->end_cpu_access(dmabuf, dir);", "#endif /* __DMA_BUF_H__ */"]);
  });

  it("is not fooled by lines starting with '--- ' in the commit message", () => {
    const parts = splitBody(fixtureBody("messages/dashes-in-message.patch"));
    expect(parts.commitMessage).toContain("\n--- a/drivers/dma-buf/dma-buf.c\n+++ b/drivers/dma-buf/dma-buf.c\n");
    expect(parts.commitMessage).toContain("\n--- and the end side simply was forgotten.\n");
    expect(parts.commitMessage.endsWith("Signed-off-by: Jane Dev <jane.dev@example.org>")).toBe(true);
    expect(parts.diffText.startsWith("diff --git a/drivers/dma-buf/dma-buf.c")).toBe(true);
    const files = parseDiff(parts.diffText);
    expect(files.map((f) => [f.path, f.hunks.length])).toEqual([
      ["drivers/dma-buf/dma-buf.c", 2],
      ["include/linux/dma-buf.h", 1],
    ]);
  });

  it("finds the diff right after the message when there is no --- separator", () => {
    const parts = splitBody(fixtureBody("messages/no-separator.patch"));
    expect(parts.commitMessage.endsWith("Signed-off-by: Jane Dev <jane.dev@example.org>")).toBe(true);
    expect(parts.notes).toBe("");
    expect(parseDiff(parts.diffText).map((f) => f.path)).toEqual(["drivers/dma-buf/dma-buf.c", "include/linux/dma-buf.h"]);
    expect(parts.baseCommit).toBe("d0f9033f753f87db714be5a663023d6c2ed934b6");
  });

  it("finds a diff that comes before the only --- line (b4's base-commit block after it)", () => {
    const body = fixtureBody("messages/no-separator.patch").replace(/\nbase-commit: /, "\n---\nbase-commit: ");
    const parts = splitBody(body);
    expect(parts.commitMessage.endsWith("Signed-off-by: Jane Dev <jane.dev@example.org>")).toBe(true);
    expect(parseDiff(parts.diffText).map((f) => f.path)).toEqual(["drivers/dma-buf/dma-buf.c", "include/linux/dma-buf.h"]);
    expect(parts.baseCommit).toBe("d0f9033f753f87db714be5a663023d6c2ed934b6");
  });

  it("reads a second diff further down, as git apply would, instead of dropping it into the tail", () => {
    const first = fixtureBody("messages/series-unthreaded/0001-dma-buf-warn-about-one-sided-CPU-access-callbacks.patch");
    const second = fixtureBody("messages/series-unthreaded/0002-dma-buf-note-that-the-CPU-access-callbacks-come-in-p.patch");
    const parts = splitBody(`${first}\n${second}`);
    expect(parseDiff(parts.diffText).map((f) => f.path)).toEqual(["drivers/dma-buf/dma-buf.c", "include/linux/dma-buf.h"]);
    expect(parts.commitMessage).not.toContain("Implement both or neither");
    // The second commit message is kept, in the tail, not in the diff.
    expect(parts.diffText).not.toContain("Signed-off-by");
    expect(parts.tail).toContain("\nSigned-off-by: Jane Dev <jane.dev@example.org>\n---\n include/linux/dma-buf.h | 1 +\n");
    expect(parts.tail.endsWith("-- \n2.39.5\n\n")).toBe(true);
  });

  it("gives a message without a diff no diff text and keeps what follows --- as notes", () => {
    const parts = splitBody("Just a question about the heaps.\n---\nsent from my phone\n");
    expect(parts).toMatchObject({ commitMessage: "Just a question about the heaps.", notes: "sent from my phone", diffText: "" });
  });

  it("reads the same parts from CRLF text", () => {
    const lf = fixtureBody("messages/changelog-diffstat.eml");
    const crlf = splitBody(lf.replace(/\n/g, "\r\n"));
    expect(crlf).toEqual(splitBody(lf));
  });

  it("says truncated-diff when the mail ends inside a hunk", () => {
    expect(reasonOf(() => splitBody(fixtureBody("broken/truncated-diff.patch")))).toBe("truncated-diff");
    try {
      splitBody(fixtureBody("broken/truncated-diff.patch"));
    } catch (err) {
      expect((err as InputError).detail).toMatch(/^hunk "@@ -68,7 \+69,8 @@ .*" ends after 7 lines, 2 old and 2 new lines missing$/);
    }
  });

  it("says truncated-diff when prose cuts into a hunk before its counts are met", () => {
    const body = "x\n---\ndiff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1,3 +1,3 @@\n a\n-b\nSorry, the rest got lost.\n";
    expect(reasonOf(() => splitBody(body))).toBe("truncated-diff");
  });
});

describe("parseDiff", () => {
  const basic = parseDiff(splitBody(fixtureBody("messages/changelog-diffstat.eml")).diffText);

  it("numbers every line in the old and the new file", () => {
    const hunk = basic[0]!.hunks[1]!;
    expect(hunk).toMatchObject({ oldStart: 68, oldLines: 7, newStart: 69, newLines: 8, heading: "int dma_buf_end_cpu_access(struct dma_buf *dmabuf," });
    expect(hunk.lines.map((l) => [l.type, l.oldLine, l.newLine, l.text])).toEqual([
      [" ", 68, 69, "{"],
      [" ", 69, 70, "\tint ret = 0;"],
      [" ", 70, 71, ""],
      ["-", 71, undefined, "\tWARN_ON(!dmabuf);"],
      ["+", undefined, 72, "\tif (WARN_ON(!dmabuf))"],
      ["+", undefined, 73, "\t\treturn -EINVAL;"],
      [" ", 72, 74, ""],
      [" ", 73, 75, "\tif (dmabuf->ops->end_cpu_access)"],
      [" ", 74, 76, "\t\tret = dmabuf->ops->end_cpu_access(dmabuf, dir);"],
    ]);
  });

  it("strips a/ and b/ and names files by their new path", () => {
    expect(basic.map((f) => [f.oldPath, f.newPath, f.path, f.status])).toEqual([
      ["drivers/dma-buf/dma-buf.c", "drivers/dma-buf/dma-buf.c", "drivers/dma-buf/dma-buf.c", "modified"],
      ["include/linux/dma-buf.h", "include/linux/dma-buf.h", "include/linux/dma-buf.h", "modified"],
    ]);
  });

  it("reads a create, a delete and a pure rename", () => {
    const files = parseDiff(splitBody(fixtureBody("messages/rename-create-delete.patch")).diffText);
    expect(files.map((f) => ({ old: f.oldPath, new: f.newPath, path: f.path, status: f.status, hunks: f.hunks.length }))).toEqual([
      { old: undefined, new: "drivers/dma-buf/dma-buf-trace.h", path: "drivers/dma-buf/dma-buf-trace.h", status: "added", hunks: 1 },
      { old: "drivers/dma-buf/old-helper.c", new: undefined, path: "drivers/dma-buf/old-helper.c", status: "deleted", hunks: 1 },
      { old: "drivers/dma-buf/sync_debug.c", new: "drivers/dma-buf/sync-debug.c", path: "drivers/dma-buf/sync-debug.c", status: "renamed", hunks: 0 },
    ]);
    const created = files[0]!.hunks[0]!;
    expect(created.lines.every((l) => l.type === "+")).toBe(true);
    expect(created.lines.map((l) => l.newLine)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const deleted = files[1]!.hunks[0]!;
    expect(deleted.lines.map((l) => l.oldLine)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("reads a rename with changes as renamed, with its hunk", () => {
    const diff = [
      "diff --git a/drivers/dma-buf/sync_file.c b/drivers/dma-buf/sync-file.c",
      "similarity index 90%",
      "rename from drivers/dma-buf/sync_file.c",
      "rename to drivers/dma-buf/sync-file.c",
      "index 1111111..2222222 100644",
      "--- a/drivers/dma-buf/sync_file.c",
      "+++ b/drivers/dma-buf/sync-file.c",
      "@@ -1,2 +1,2 @@",
      "-/* sync_file.c */",
      "+/* sync-file.c */",
      " #include <linux/sync_file.h>",
      "",
    ].join("\n");
    expect(parseDiff(diff)).toMatchObject([
      { oldPath: "drivers/dma-buf/sync_file.c", newPath: "drivers/dma-buf/sync-file.c", status: "renamed", hunks: [{ oldStart: 1, newStart: 1 }] },
    ]);
  });

  it("marks a GIT binary patch section binary and ends the diff after it", () => {
    const parts = splitBody(fixtureBody("messages/binary-and-text.patch"));
    const files = parseDiff(parts.diffText);
    expect(files.map((f) => [f.path, f.status, f.hunks.length])).toEqual([
      ["drivers/net/ethernet/acme/acme_rx.c", "modified", 1],
      ["firmware/acme/rx.bin", "binary", 0],
    ]);
    expect(parts.baseCommit).toBe("dc6c7f1470f125f12cc51a01bb5a941ca51ea4be");
    expect(parts.tail).toMatch(/^\nbase-commit: dc6c7f14/);
  });

  it("marks a 'Binary files ... differ' section binary", () => {
    const diff = "diff --git a/fw.bin b/fw.bin\nindex 1111111..2222222 100644\nBinary files a/fw.bin and b/fw.bin differ\n";
    expect(parseDiff(diff)).toMatchObject([{ path: "fw.bin", status: "binary", hunks: [] }]);
  });

  it("reads CRLF input exactly like LF input, heading included", () => {
    const lf = splitBody(fixtureBody("messages/changelog-diffstat.eml")).diffText;
    const crlf = parseDiff(lf.replace(/\n/g, "\r\n"));
    expect(crlf).toEqual(basic);
    expect(crlf[0]!.hunks[0]!.heading).toBe("struct dma_buf *dma_buf_export(const struct dma_buf_export_info *exp_info)");
    expect(JSON.stringify(crlf)).not.toContain("\\r");
  });

  it("skips the no-newline marker when numbering", () => {
    const diff = "diff --git a/k.h b/k.h\n--- a/k.h\n+++ b/k.h\n@@ -1,2 +1,2 @@\n #define A 1\n-#define B 2\n\\ No newline at end of file\n+#define B 3\n\\ No newline at end of file\n";
    const parts = splitBody(`x\n---\n${diff}`);
    expect(parts.diffText).toBe(diff);
    const [file] = parseDiff(parts.diffText);
    expect(file!.hunks[0]!.lines.map((l) => [l.type, l.oldLine, l.newLine])).toEqual([
      [" ", 1, 1],
      ["-", 2, undefined],
      ["+", undefined, 2],
    ]);
  });

  it("reads a plain unified diff without diff --git (quilt, diff -u)", () => {
    const body = "x\n---\n--- a/drivers/dma-buf/dma-fence.c\n+++ b/drivers/dma-buf/dma-fence.c\n@@ -10 +10 @@ void f(void)\n-\told();\n+\tnew();\n";
    const files = parseDiff(splitBody(body).diffText);
    expect(files).toMatchObject([{ path: "drivers/dma-buf/dma-fence.c", status: "modified", hunks: [{ oldStart: 10, oldLines: 1, heading: "void f(void)" }] }]);
  });

  it("accepts header-only sections git writes: mode change, empty new file", () => {
    const mode = parseDiff("diff --git a/scripts/x.sh b/scripts/x.sh\nold mode 100644\nnew mode 100755\n");
    expect(mode).toMatchObject([{ path: "scripts/x.sh", status: "modified", hunks: [] }]);
    const empty = parseDiff("diff --git a/drivers/dma-buf/empty.h b/drivers/dma-buf/empty.h\nnew file mode 100644\nindex 0000000..e69de29\n");
    expect(empty).toMatchObject([{ path: "drivers/dma-buf/empty.h", status: "added", hunks: [] }]);
  });

  it("says truncated-diff for a file header with nothing after it", () => {
    expect(reasonOf(() => parseDiff("diff --git a/x.c b/x.c\nindex 1111111..2222222 100644\n"))).toBe("truncated-diff");
    expect(reasonOf(() => parseDiff("diff --git a/x.c b/x.c\nindex 1111111..2222222 100644\n--- a/x.c\n+++ b/x.c\n"))).toBe("truncated-diff");
    const body = fixtureBody("broken/header-only-diff.patch");
    expect(reasonOf(() => parseDiff(splitBody(body).diffText))).toBe("truncated-diff");
  });

  it("says truncated-diff, naming the file, when a --- or +++ line lost its path (wrapped by a mail client)", () => {
    const detail = (text: string) => {
      try {
        parseDiff(text);
      } catch (err) {
        if (err instanceof InputError) return `${err.reason}: ${err.detail}`;
        throw err;
      }
      return "read";
    };
    // The wrapped path is not a diff line, so splitBody ends the diff on the empty `+++ `.
    const wrapped = splitBody("x\n---\ndiff --git a/x.c b/x.c\nnew file mode 100644\n--- /dev/null\n+++ \nb/x.c\n@@ -0,0 +1 @@\n+a\n");
    expect(detail(wrapped.diffText)).toBe('truncated-diff: the "+++" line of the diff of x.c names no file (wrapped by a mail client, or cut off)');
    expect(detail("diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/\n")).toBe('truncated-diff: the "+++" line of the diff of x.c names no file (wrapped by a mail client, or cut off)');
    expect(detail("--- \n+++ b/y.c\n@@ -1 +1 @@\n-a\n+b\n")).toBe('truncated-diff: the "---" line of the diff of y.c names no file (wrapped by a mail client, or cut off)');
    expect(detail("--- \n+++ \n@@ -1 +1 @@\n-a\n+b\n")).toBe('truncated-diff: the "---" line names no file (wrapped by a mail client, or cut off)');
  });

  it("says truncated-diff when --- and +++ both say /dev/null above a hunk, instead of dropping the hunk", () => {
    expect(() => parseDiff("diff --git a/x.c b/x.c\n--- /dev/null\n+++ /dev/null\n@@ -0,0 +1 @@\n+a\n")).toThrow(
      'truncated-diff: the "---" and "+++" lines of the diff of x.c both say /dev/null above a hunk',
    );
    expect(reasonOf(() => parseDiff("--- /dev/null\n+++ /dev/null\n@@ -0,0 +1 @@\n+a\n"))).toBe("truncated-diff");
  });

  it("gives nothing for empty diff text", () => {
    expect(parseDiff("")).toEqual([]);
    expect(parseDiff("\n\n")).toEqual([]);
  });
});
