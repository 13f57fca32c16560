import type { FileDiff } from "../../src/patch/diff.js";

/** The new-file lines a touch or finding of this file may be reported at: a line of a hunk, or where a removal was. */
export function reportableLines(file: FileDiff): { newLines: Set<number>; oldLines: Set<number> } {
  const newLines = new Set<number>();
  const oldLines = new Set<number>();
  for (const h of file.hunks) {
    newLines.add(Math.max(1, h.newStart));
    for (const l of h.lines) {
      if (l.newLine !== undefined) newLines.add(l.newLine);
      if (l.oldLine !== undefined) oldLines.add(l.oldLine);
    }
  }
  return { newLines, oldLines };
}
