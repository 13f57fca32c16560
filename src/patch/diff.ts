// The parser alone: the package index loads every diff algorithm too, which a review never runs.
import { parsePatch } from "diff/lib/patch/parse.js";
import { InputError } from "../errors.js";

export interface HunkLine {
  readonly type: "+" | "-" | " ";
  readonly text: string;
  /** Line number in the old file (context and removed lines). */
  readonly oldLine?: number;
  /** Line number in the new file (context and added lines). */
  readonly newLine?: number;
}

export interface Hunk {
  readonly oldStart: number;
  readonly oldLines: number;
  readonly newStart: number;
  readonly newLines: number;
  /** The section heading git prints after `@@ ... @@`: usually the enclosing function. */
  readonly heading: string;
  readonly lines: readonly HunkLine[];
}

export interface FileDiff {
  readonly oldPath: string | undefined;
  readonly newPath: string | undefined;
  /** The path a reviewer names: the new path, or the old one for a deleted file. */
  readonly path: string;
  readonly status: "modified" | "added" | "deleted" | "renamed" | "binary";
  readonly hunks: readonly Hunk[];
}

/** The parts of a patch mail body, split the way `git am` (mailinfo) splits them. */
export interface BodyParts {
  readonly commitMessage: string;
  /** Below `---` and above the diff: version changelog, diffstat. */
  readonly notes: string;
  readonly diffText: string;
  readonly baseCommit: string | undefined;
  readonly changeId: string | undefined;
  /** After the diff: base-commit, signature, list footer. */
  readonly tail: string;
}

const DIFF_START = /^(diff --git a\/|--- (a\/|\/dev\/null)|Index: )/;
const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$/;
// Lines git writes between `diff --git` and the first hunk.
const EXTENDED_HEADER =
  /^(index |old mode |new mode |deleted file mode |new file mode |similarity index |dissimilarity index |rename from |rename to |copy from |copy to |Binary files |GIT binary patch|--- |\+\+\+ |diff --git |Index: |={5,})/;

function findDiffStart(lines: readonly string[], from: number): number {
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("diff --git a/")) return i;
    if (/^--- (a\/|\/dev\/null)/.test(line) && /^\+\+\+ (b\/|\/dev\/null)/.test(lines[i + 1] ?? "")) return i;
  }
  return -1;
}

/**
 * Where the diff stops: hunks are bounded by their line counts, so anything after the last
 * hunk that is not a file header (signature `-- `, base-commit, list footer) is the tail.
 * Throws `truncated-diff` when the text ends before a hunk's counts are met.
 */
function findDiffEnd(lines: readonly string[], start: number): number {
  let i = start;
  let inBinary = false;
  while (i < lines.length) {
    const line = lines[i]!;
    const header = HUNK_HEADER.exec(line);
    if (header) {
      inBinary = false;
      let oldLeft = header[2] === undefined ? 1 : Number(header[2]);
      let newLeft = header[4] === undefined ? 1 : Number(header[4]);
      const at = i;
      i++;
      while (oldLeft > 0 || newLeft > 0) {
        if (i >= lines.length) {
          throw new InputError(
            "truncated-diff",
            `hunk "${line}" ends after ${i - at - 1} lines, ${oldLeft} old and ${newLeft} new lines missing`,
          );
        }
        const l = lines[i]!;
        const op = l === "" ? " " : l[0];
        if (op === " ") {
          oldLeft--;
          newLeft--;
        } else if (op === "-") oldLeft--;
        else if (op === "+") newLeft--;
        else if (op !== "\\") {
          throw new InputError(
            "truncated-diff",
            `hunk "${line}" breaks at "${l.slice(0, 60)}", which is not a diff line (cut off, or wrapped by a mail client), with ${oldLeft} old and ${newLeft} new lines missing`,
          );
        }
        if (oldLeft < 0 || newLeft < 0) {
          throw new InputError("truncated-diff", `hunk "${line}" has more lines than its header counts`);
        }
        i++;
      }
      while (i < lines.length && lines[i]!.startsWith("\\")) i++;
      continue;
    }
    if (line.startsWith("GIT binary patch")) {
      inBinary = true;
      i++;
      continue;
    }
    if (inBinary && /^(literal|delta) \d+$|^[A-Za-z][0-9A-Za-z!#$%&()*+;<=>?@^_`{|}~-]*$|^$/.test(line)) {
      // base85 lines of a binary patch, and the blank line between its two halves.
      if (line === "" && !/^(literal|delta) /.test(lines[i + 1] ?? "")) {
        inBinary = false;
        i++;
        continue;
      }
      i++;
      continue;
    }
    if (EXTENDED_HEADER.test(line)) {
      inBinary = false;
      i++;
      continue;
    }
    break;
  }
  return i;
}

export function splitBody(body: string): BodyParts {
  // Forge APIs and saved files can hand over CRLF; a `\r` left on `---` would hide the separator.
  const text = body.includes("\r\n") ? body.replace(/\r\n/g, "\n") : body;
  const lines = text.split("\n");
  // Where each line starts in `text`: a run of lines is cut out of it, not joined again.
  const starts = new Array<number>(lines.length);
  for (let i = 0, at = 0; i < lines.length; i++) {
    starts[i] = at;
    at += lines[i]!.length + 1;
  }
  /** Lines [from, to) as lines.slice(from, to).join("\n") gives them. */
  const span = (from: number, to: number) => (from >= to ? "" : to >= lines.length ? text.slice(starts[from]) : text.slice(starts[from], starts[to]! - 1));
  const sep = lines.findIndex((l) => l === "---" || l === "--- ");
  // git-mailinfo splits at the first `---` line; without one the diff may follow the message.
  const searchFrom = sep >= 0 ? sep + 1 : 0;
  let diffStart = findDiffStart(lines, searchFrom);
  // The only `---` may follow the diff (b4's base-commit block under a patch that was pasted
  // without its own separator); git-mailinfo would have broken at the diff header first.
  if (diffStart < 0 && sep > 0) diffStart = findDiffStart(lines, 0);
  if (diffStart < 0) {
    const commitEnd = sep >= 0 ? sep : lines.length;
    const tail = sep >= 0 ? span(sep + 1, lines.length) : "";
    return {
      commitMessage: span(0, commitEnd).trimEnd(),
      notes: tail.trim(),
      diffText: "",
      ...tailFields(tail),
      tail,
    };
  }
  // `git apply` skips text between diffs, so git am applies a second diff further down (a
  // second attached patch, a fix-up after the notes) as part of the same commit. Reading it
  // too keeps it from vanishing unreviewed; the text between goes to the tail, since the diff
  // package refuses prose right after a hunk.
  const diffParts: string[] = [];
  const tailParts: string[] = [];
  // Runs of lines, joined as their lines would be: an empty run adds no line.
  const addRun = (into: string[], from: number, to: number) => {
    if (from < to) into.push(span(from, to));
  };
  let diffEnd = findDiffEnd(lines, diffStart);
  addRun(diffParts, diffStart, diffEnd);
  for (let next = findDiffStart(lines, diffEnd); next >= 0; next = findDiffStart(lines, diffEnd)) {
    addRun(tailParts, diffEnd, next);
    diffEnd = findDiffEnd(lines, next);
    addRun(diffParts, next, diffEnd);
  }
  addRun(tailParts, diffEnd, lines.length);
  const commitEnd = sep >= 0 && sep < diffStart ? sep : diffStart;
  const tail = tailParts.join("\n");
  return {
    commitMessage: span(0, commitEnd).trimEnd(),
    notes: sep >= 0 && sep < diffStart ? span(sep + 1, diffStart).trim() : "",
    diffText: diffParts.join("\n") + "\n",
    ...tailFields(sep >= 0 ? `${span(sep + 1, diffStart)}\n${tail}` : tail),
    tail,
  };
}

function tailFields(text: string): { baseCommit: string | undefined; changeId: string | undefined } {
  const base = /^base-commit: ([0-9a-f]{7,40})\s*$/m.exec(text);
  const change = /^change-id: (\S+)\s*$/m.exec(text);
  return { baseCommit: base?.[1], changeId: change?.[1] };
}

function stripPrefix(name: string | undefined): string | undefined {
  if (name === undefined || name === "/dev/null") return undefined;
  return name.replace(/^[ab]\//, "").replace(/\t.*$/, "");
}

/** Parse the diff region of a patch with the `diff` package, numbering every line. */
export function parseDiff(text: string): FileDiff[] {
  if (text.trim() === "") return [];
  // The diff package keeps a `\r` on every line, and the hunk heading regex stops before one.
  const diffText = text.includes("\r\n") ? text.replace(/\r\n/g, "\n") : text;
  const headings: string[] = [];
  // Only a line starting "@@ " can be a hunk header: those are found without splitting the rest.
  const nextHeader = (from: number) => {
    const i = diffText.indexOf("\n@@ ", from);
    return i < 0 ? -1 : i + 1;
  };
  for (let at = diffText.startsWith("@@ ") ? 0 : nextHeader(0); at >= 0; ) {
    const end = diffText.indexOf("\n", at);
    const m = HUNK_HEADER.exec(end < 0 ? diffText.slice(at) : diffText.slice(at, end));
    if (m) headings.push((m[5] ?? "").trim());
    at = end < 0 ? -1 : nextHeader(end);
  }
  let parsed;
  try {
    parsed = parsePatch(diffText);
  } catch (err) {
    throw new InputError("truncated-diff", (err as Error).message);
  }
  // diff does not flag a `GIT binary patch` section; find them per `diff --git` section.
  const sections = diffText.split(/^(?=diff --git )/m).filter((s) => s.startsWith("diff --git "));
  const sectionBinary = sections.map((s) => /^(GIT binary patch|Binary files )/m.test(s));
  let h = 0;
  const files: FileDiff[] = [];
  for (const [n, p] of parsed.entries()) {
    const oldPath = stripPrefix(p.oldFileName);
    const newPath = stripPrefix(p.newFileName);
    // `+++ ` with its path wrapped onto the next line by a mail client (or cut off): git apply
    // refuses it, and reading on would drop the file's hunks under the path "".
    const gitName = () => (sections.length === parsed.length ? /^diff --git a\/\S+ b\/(\S+)/.exec(sections[n]!)?.[1] : undefined);
    if (oldPath === "" || newPath === "") {
      const named = oldPath || newPath || gitName();
      throw new InputError(
        "truncated-diff",
        `the "${oldPath === "" ? "---" : "+++"}" line ${named ? `of the diff of ${named} ` : ""}names no file (wrapped by a mail client, or cut off)`,
      );
    }
    const binary =
      Boolean((p as { isBinary?: boolean }).isBinary) ||
      (sections.length === parsed.length && p.hunks.length === 0 && sectionBinary[n] === true);
    const status: FileDiff["status"] = binary
      ? "binary"
      : p.isCreate || oldPath === undefined
        ? "added"
        : p.isDelete || newPath === undefined
          ? "deleted"
          : p.isRename || oldPath !== newPath
            ? "renamed"
            : "modified";
    const hunks: Hunk[] = p.hunks.map((hunk) => {
      let oldLine = hunk.oldStart;
      let newLine = hunk.newStart;
      const lines: HunkLine[] = [];
      for (const raw of hunk.lines) {
        const op = raw === "" ? " " : raw[0];
        const text = raw.slice(1);
        if (op === "+") lines.push({ type: "+", text, newLine: newLine++ });
        else if (op === "-") lines.push({ type: "-", text, oldLine: oldLine++ });
        else if (op === " ") lines.push({ type: " ", text, oldLine: oldLine++, newLine: newLine++ });
      }
      return {
        oldStart: hunk.oldStart,
        oldLines: hunk.oldLines,
        newStart: hunk.newStart,
        newLines: hunk.newLines,
        heading: headings[h++] ?? "",
        lines,
      };
    });
    const path = newPath ?? oldPath;
    if (path === undefined) {
      if (hunks.length === 0) continue;
      // `--- /dev/null` and `+++ /dev/null` over a hunk: its lines would belong to no file.
      const named = gitName();
      throw new InputError("truncated-diff", `the "---" and "+++" lines ${named ? `of the diff of ${named} ` : ""}both say /dev/null above a hunk`);
    }
    // Only a rename, copy, mode change, binary or empty-file create/delete has no hunk; any other
    // file header followed by nothing is where a cut-off mail ended.
    const headerOnly = p.isRename || p.isCopy || p.isCreate || p.isDelete || (p.oldMode !== undefined && p.newMode !== undefined);
    if (hunks.length === 0 && !binary && !headerOnly) {
      throw new InputError("truncated-diff", `the diff of ${path} has a file header and no hunk`);
    }
    files.push({ oldPath, newPath, path, status, hunks });
  }
  return files;
}
