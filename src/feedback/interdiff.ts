import { diffArrays } from "diff";
import type { FileDiff, HunkLine } from "../patch/diff.js";

/** A line of one revision's patch that the other revision's patch does not have. */
export interface InterdiffLine {
  readonly file: string;
  /** "old": only in the earlier revision's patch; "new": only in the later one's. */
  readonly side: "old" | "new";
  /** The patch line as sent, with its +/- (what the patch did to the file). */
  readonly text: string;
  /** Where that revision's patch puts it: new-file line for "+", old-file line for "-". */
  readonly line: number | undefined;
  /** git's heading of the hunk it sits in (the enclosing function or struct). */
  readonly heading: string;
}

export interface Interdiff {
  readonly lines: readonly InterdiffLine[];
  /** Files only one of the two patches changes. */
  readonly filesOnlyOld: readonly string[];
  readonly filesOnlyNew: readonly string[];
  /** Interdiff lines that are code: not blank, not comment text. */
  readonly codeLines: number;
  /**
   * "unchanged": same changes; "minor": comments, blank lines, or at most two code lines;
   * "substantial": more — enough that a reviewer's tag no longer vouches for it.
   */
  readonly level: "unchanged" | "minor" | "substantial";
}

const COMMENT = /^\s*(\/\*|\*|\/\/|\*\/)/;

type Placed = HunkLine & { readonly heading: string };

function changed(files: readonly FileDiff[], path: string): Placed[] {
  return files
    .filter((f) => f.path === path)
    .flatMap((f) => f.hunks.flatMap((h) => h.lines.filter((l) => l.type !== " ").map((l) => ({ ...l, heading: h.heading }))));
}

const key = (l: HunkLine) => `${l.type}${l.text.replace(/\s+/g, " ").trim()}`;

/**
 * What changed between two revisions of a patch, compared as patches (what each does to its
 * files), not as trees: context and line numbers move with every rebase and say nothing about
 * the change itself. `older` and `newer` are the FileDiffs of the two patches (several when one
 * was split).
 */
export function interdiff(older: readonly FileDiff[], newer: readonly FileDiff[]): Interdiff {
  const oldPaths = [...new Set(older.map((f) => f.path))];
  const newPaths = [...new Set(newer.map((f) => f.path))];
  const paths = [...oldPaths, ...newPaths.filter((p) => !oldPaths.includes(p))];
  const lines: InterdiffLine[] = [];
  for (const path of paths) {
    const a = changed(older, path);
    const b = changed(newer, path);
    let ia = 0;
    let ib = 0;
    for (const part of diffArrays(a.map(key), b.map(key))) {
      const n = part.count ?? part.value.length;
      if (part.removed) {
        for (const l of a.slice(ia, ia + n)) lines.push({ file: path, side: "old", text: `${l.type}${l.text}`, line: l.type === "+" ? l.newLine : l.oldLine, heading: l.heading });
        ia += n;
      } else if (part.added) {
        for (const l of b.slice(ib, ib + n)) lines.push({ file: path, side: "new", text: `${l.type}${l.text}`, line: l.type === "+" ? l.newLine : l.oldLine, heading: l.heading });
        ib += n;
      } else {
        ia += n;
        ib += n;
      }
    }
  }
  const code = lines.filter((l) => {
    const t = l.text.slice(1);
    return t.trim() !== "" && !COMMENT.test(t);
  });
  const filesOnlyOld = oldPaths.filter((p) => !newPaths.includes(p));
  const filesOnlyNew = newPaths.filter((p) => !oldPaths.includes(p));
  const level = lines.length === 0 && filesOnlyOld.length === 0 && filesOnlyNew.length === 0 ? "unchanged" : code.length > 2 ? "substantial" : "minor";
  return { lines, filesOnlyOld, filesOnlyNew, codeLines: code.length, level };
}
