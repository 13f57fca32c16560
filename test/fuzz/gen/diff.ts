import fc from "fast-check";
import { cPath, hunkSpec, type HunkSpec } from "./c-code.js";

/** One file of a generated diff, before it is written out as git would. */
export interface FileSpec {
  readonly path: string;
  readonly status: "modified" | "added" | "deleted" | "renamed" | "binary";
  readonly oldPath: string;
  readonly hunks: readonly HunkSpec[];
  /** Gaps of unchanged lines before each hunk. */
  readonly gaps: readonly number[];
  readonly noNewlineAtEnd: boolean;
}

/** What a hunk was written with: the header numbers as git prints them. */
export interface WrittenHunk {
  readonly oldStart: number;
  readonly oldLines: number;
  readonly newStart: number;
  readonly newLines: number;
  readonly spec: HunkSpec;
}

export interface WrittenFile {
  readonly spec: FileSpec;
  readonly hunks: readonly WrittenHunk[];
}

export function fileSpec(maxHunks: number, maxLines: number): fc.Arbitrary<FileSpec> {
  return fc
    .record({
      path: cPath,
      status: fc.constantFrom<FileSpec["status"]>("modified", "modified", "modified", "added", "deleted", "renamed", "binary"),
      hunks: fc.array(hunkSpec(maxLines), { minLength: 1, maxLength: maxHunks }),
      gaps: fc.array(fc.nat({ max: 400 }), { minLength: maxHunks, maxLength: maxHunks }),
      noNewlineAtEnd: fc.boolean(),
      renamedFrom: fc.constantFrom("drivers/dma-buf/old-name.c", "drivers/gpu/drm/foo/foo_old.c"),
    })
    .map(({ renamedFrom, ...f }): FileSpec => {
      // A created file is all additions from line 1, a deleted one all removals.
      if (f.status === "added") return { ...f, oldPath: f.path, hunks: [onlyOp(f.hunks, "+")], gaps: [0] };
      if (f.status === "deleted") return { ...f, oldPath: f.path, hunks: [onlyOp(f.hunks, "-")], gaps: [0] };
      if (f.status === "binary") return { ...f, oldPath: f.path, hunks: [] };
      return { ...f, oldPath: f.status === "renamed" ? renamedFrom : f.path };
    });
}

function onlyOp(hunks: readonly HunkSpec[], op: "+" | "-"): HunkSpec {
  return { heading: "", lines: hunks.flatMap((h) => h.lines).map((l) => ({ op, text: l.text })) };
}

export function writeFile(f: FileSpec): { text: string; written: WrittenFile } {
  const out: string[] = [];
  const a = f.status === "added" ? "/dev/null" : `a/${f.oldPath}`;
  const b = f.status === "deleted" ? "/dev/null" : `b/${f.path}`;
  out.push(`diff --git a/${f.oldPath} b/${f.path}`);
  if (f.status === "added") out.push("new file mode 100644");
  if (f.status === "deleted") out.push("deleted file mode 100644");
  if (f.status === "renamed") out.push("similarity index 90%", `rename from ${f.oldPath}`, `rename to ${f.path}`);
  if (f.status === "binary") {
    out.push("index 0123456..89abcde 100644", `Binary files a/${f.path} and b/${f.path} differ`);
    return { text: `${out.join("\n")}\n`, written: { spec: f, hunks: [] } };
  }
  out.push("index 0123456..89abcde 100644", `--- ${a}`, `+++ ${b}`);
  const hunks: WrittenHunk[] = [];
  let oldNext = 1;
  let newNext = 1;
  f.hunks.forEach((h, i) => {
    const gap = f.status === "modified" || f.status === "renamed" ? (f.gaps[i] ?? 0) : 0;
    oldNext += gap;
    newNext += gap;
    const oldLines = h.lines.filter((l) => l.op !== "+").length;
    const newLines = h.lines.filter((l) => l.op !== "-").length;
    // git prints the line before an empty side: "-0,0" for a created file.
    const oldStart = oldLines === 0 ? oldNext - 1 : oldNext;
    const newStart = newLines === 0 ? newNext - 1 : newNext;
    out.push(`@@ -${oldStart},${oldLines} +${newStart},${newLines} @@${h.heading ? ` ${h.heading}` : ""}`);
    for (const l of h.lines) out.push(`${l.op}${l.text}`);
    hunks.push({ oldStart, oldLines, newStart, newLines, spec: h });
    oldNext += oldLines;
    newNext += newLines;
  });
  if (f.noNewlineAtEnd) out.push("\\ No newline at end of file");
  return { text: `${out.join("\n")}\n`, written: { spec: f, hunks } };
}

/** A diff of one or more files, as text and as what was meant. */
export function diffOf(maxFiles: number, maxHunks: number, maxLines: number): fc.Arbitrary<{ text: string; files: WrittenFile[] }> {
  return fc
    .uniqueArray(fileSpec(maxHunks, maxLines), { minLength: 1, maxLength: maxFiles, selector: (f) => f.path })
    .map((specs) => {
      const parts = specs.map(writeFile);
      return { text: parts.map((p) => p.text).join(""), files: parts.map((p) => p.written) };
    });
}

/** A patch mail body around a diff, the way `git format-patch` lays it out. */
export function patchBody(diff: string, commitMessage = "dma-buf: fuzzed change\n\nSigned-off-by: Jane Dev <jane.dev@example.org>"): string {
  return `${commitMessage}\n---\n 1 file changed\n\n${diff}-- \n2.43.0\n`;
}

/** What breaks a diff on its way through mail: cuts, lost or doubled lines, wrapping, wrong counts. */
export type Damage =
  | { readonly kind: "truncate" | "delete" | "duplicate"; readonly at: number }
  | { readonly kind: "insert"; readonly at: number; readonly line: string }
  | { readonly kind: "renumber"; readonly at: number; readonly number: string }
  | { readonly kind: "wrap"; readonly at: number; readonly column: number }
  | { readonly kind: "crlf" };

const junkLine = fc.oneof(
  fc.constantFrom(
    "", "junk", "@@ -1 +1 @@", "@@ -1,3 +1,3 @@ int f(void)", "diff --git a/x.c b/x.c", "GIT binary patch", "literal 12",
    "zcmZ?wbhEHbRA5kGV9aD-", "delta 5", "Binary files a/x and b/x differ", "\\ No newline at end of file", "+", "-", " ",
    "--- a/drivers/dma-buf/dma-buf.c", "+++ b/drivers/dma-buf/dma-buf.c", "--- /dev/null", "rename from x", "new file mode 100644",
    "Index: foo.c", "=====", "-- ", "---", "base-commit: 0123456789abcdef0123456789abcdef01234567", "\r",
  ),
  fc.string({ maxLength: 30 }),
);

export const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constantFrom("truncate" as const, "delete" as const, "duplicate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), line: junkLine }),
  fc.record({
    kind: fc.constant("renumber" as const),
    at: fc.nat(),
    number: fc.oneof(fc.nat({ max: 50 }).map(String), fc.constantFrom("0", "4294967295", "99999999999999999999", "007", "-1", "")),
  }),
  fc.record({ kind: fc.constant("wrap" as const), at: fc.nat(), column: fc.integer({ min: 1, max: 80 }) }),
  fc.constant({ kind: "crlf" as const }),
);

/** Apply damage to the lines of a text; positions wrap around the line count. */
export function applyDamage(text: string, damages: readonly Damage[]): string {
  let lines = text.split("\n");
  for (const d of damages) {
    if (d.kind === "crlf") {
      lines = lines.map((l) => `${l}\r`);
      continue;
    }
    const at = d.at % Math.max(1, lines.length);
    if (d.kind === "truncate") lines = lines.slice(0, at);
    else if (d.kind === "delete") lines.splice(at, 1);
    else if (d.kind === "duplicate") lines.splice(at, 0, lines[at] ?? "");
    else if (d.kind === "insert") lines.splice(at, 0, d.line);
    else if (d.kind === "renumber") {
      // Change one number of a hunk header (or of whatever line holds digits).
      const hunk = lines.findIndex((l, i) => i >= at && l.startsWith("@@ "));
      const i = hunk >= 0 ? hunk : at;
      let n = 0;
      const pick = d.at % 4;
      lines[i] = (lines[i] ?? "").replace(/\d+/g, (m) => (n++ === pick ? d.number : m));
    } else if (d.kind === "wrap") {
      const l = lines[at] ?? "";
      if (l.length > d.column) lines.splice(at, 1, l.slice(0, d.column), l.slice(d.column));
    }
  }
  return lines.join("\n");
}
