import type { FileDiff } from "../../patch/diff.js";
import type { Finding } from "../../review/finding.js";

/** Where a finding sits in the diff a forge shows: the line a comment can be attached to. */
export interface DiffPosition {
  readonly path: string;
  readonly oldPath: string;
  readonly newPath: string;
  /** An added line lives only in the new file, a removed one only in the old, context in both. */
  readonly kind: "added" | "removed" | "context";
  readonly newLine: number | undefined;
  readonly oldLine: number | undefined;
}

/**
 * Forges accept a line comment only on a line the diff shows. A finding names a new-file line;
 * when that line is not in any hunk (a removal anchored past the hunk, a deleted file), the
 * removed line it quotes is looked up on the old side instead. Undefined: no line to sit on.
 */
export function positionOf(f: Finding, files: readonly FileDiff[]): DiffPosition | undefined {
  const file = files.find((d) => d.path === f.file);
  if (!file) return undefined;
  const paths = { path: file.path, oldPath: file.oldPath ?? file.path, newPath: file.newPath ?? file.path };
  const quoted = f.quote[0];
  if (quoted?.startsWith("-")) {
    const removed = file.hunks.flatMap((h) => h.lines).find((l) => l.type === "-" && l.text === quoted.slice(1));
    if (removed) return { ...paths, kind: "removed", newLine: undefined, oldLine: removed.oldLine };
  }
  for (const h of file.hunks) {
    const line = h.lines.find((l) => l.newLine === f.line && l.type !== "-");
    if (line) return { ...paths, kind: line.type === "+" ? "added" : "context", newLine: line.newLine, oldLine: line.type === " " ? line.oldLine : undefined };
  }
  return undefined;
}
