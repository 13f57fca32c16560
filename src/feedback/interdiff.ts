import { createHash } from "node:crypto";
import { diffArrays } from "diff";
import type { FileDiff } from "../patch/diff.js";
import { BoundedMap } from "../review/bounded-map.js";

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

/** A changed line of a patch, spelled as interdiff compares it (`key`) and as it reports it. */
interface Changed {
  readonly key: string;
  readonly text: string;
  readonly line: number | undefined;
  readonly heading: string;
}

/** A file diff's changed lines, and a digest of everything interdiff reads of it. */
interface Read {
  readonly path: string;
  readonly lines: readonly Changed[];
  readonly digest: string;
}

// Whitespace other than a lone space between words: only then is a line respelled for its key.
const ODD_SPACE = /[^\S ]| {2}|^ | $/;
const spaced = (s: string) => (ODD_SPACE.test(s) ? s.replace(/\s+/g, " ").trim() : s);

// Each patch is compared with its counterparts for every item and step: its lines are read once.
const read = new WeakMap<FileDiff, Read>();

function readFile(f: FileDiff): Read {
  let r = read.get(f);
  if (r) return r;
  const lines: Changed[] = [];
  // Hashed in one update: a call per line into the hash costs more than the hashing.
  const spelled = [`${f.path.length}:${f.path}`];
  for (const h of f.hunks) {
    // The heading once per hunk: a line's entry starts with its +/-, a hunk's with @.
    spelled.push(`\n@${h.heading.length}:${h.heading}`);
    for (const l of h.lines) {
      if (l.type === " ") continue;
      const line = l.type === "+" ? l.newLine : l.oldLine;
      const text = l.type + l.text;
      const key = spaced(l.text);
      lines.push({ key: key === l.text ? text : l.type + key, text, line, heading: h.heading });
      spelled.push(`\n${text.length}:${line ?? ""}:${text}`);
    }
  }
  r = { path: f.path, lines, digest: createHash("sha1").update(spelled.join("")).digest("base64") };
  read.set(f, r);
  return r;
}

function changed(files: readonly Read[], path: string): readonly Changed[] {
  const of = files.filter((f) => f.path === path);
  return of.length === 1 ? of[0]!.lines : of.flatMap((f) => f.lines);
}

function sameKeys(a: readonly Changed[], b: readonly Changed[]): boolean {
  return a.length === b.length && a.every((l, i) => l.key === b[i]!.key);
}

// The same pairs of patches come back for every item of a step, a file's pair and the whole
// series' pair in turn, so enough are kept for a long series' steps. The lines they hold are the
// patches' own strings, kept alive with them once the patches are gone: bounded by their bytes too.
const kept = new BoundedMap<string, Interdiff>(256, [], {
  bytes: 1 << 20,
  weigh: (key, d) => key.length + d.lines.reduce((n, l) => n + 80 + l.text.length, 0),
});

/**
 * What changed between two revisions of a patch, compared as patches (what each does to its
 * files), not as trees: context and line numbers move with every rebase and say nothing about
 * the change itself. `older` and `newer` are the FileDiffs of the two patches (several when one
 * was split).
 */
export function interdiff(older: readonly FileDiff[], newer: readonly FileDiff[]): Interdiff {
  const a = older.map(readFile);
  const b = newer.map(readFile);
  const key = `${a.map((f) => f.digest).join(",")}|${b.map((f) => f.digest).join(",")}`;
  return kept.keep(key, () => compare(a, b));
}

/**
 * Whether `interdiff(older, newer).level` is other than "unchanged", without diffing: the two
 * patches change other files, or some file's changed lines differ.
 */
export function differs(older: readonly FileDiff[], newer: readonly FileDiff[]): boolean {
  const a = older.map(readFile);
  const b = newer.map(readFile);
  const oldPaths = new Set(a.map((f) => f.path));
  const newPaths = new Set(b.map((f) => f.path));
  if (oldPaths.size !== newPaths.size || [...oldPaths].some((p) => !newPaths.has(p))) return true;
  return [...oldPaths].some((p) => !sameKeys(changed(a, p), changed(b, p)));
}

/** Edit runs as pairs (kind, count) in one array: 0 the same lines, 1 removed, 2 added. */
const SAME = 0;
const REMOVED = 1;
const ADDED = 2;

// One file's pair comes back inside other pairs (a quoted file's, then the whole series'), and a
// file an older revision shares with a later one in every step: its edit runs are kept by both
// sides' digests, within this many bytes.
const keptRuns = new BoundedMap<string, Int32Array>(16_384, [], { bytes: 800_000, weigh: (key, runs) => key.length + runs.byteLength });

function editRuns(key: string, a: readonly Changed[], b: readonly Changed[]): Int32Array {
  return keptRuns.keep(key, () => {
    // Lines as numbers, equal when their keys are: the diff compares them at every step.
    const ids = new Map<string, number>();
    const idOf = (l: Changed) => {
      let n = ids.get(l.key);
      if (n === undefined) ids.set(l.key, (n = ids.size));
      return n;
    };
    const out: number[] = [];
    for (const part of diffArrays(a.map(idOf), b.map(idOf))) out.push(part.removed ? REMOVED : part.added ? ADDED : SAME, part.count ?? part.value.length);
    return Int32Array.from(out);
  });
}

function compare(older: readonly Read[], newer: readonly Read[]): Interdiff {
  const oldPaths = [...new Set(older.map((f) => f.path))];
  const newPaths = [...new Set(newer.map((f) => f.path))];
  const paths = [...oldPaths, ...newPaths.filter((p) => !oldPaths.includes(p))];
  const lines: InterdiffLine[] = [];
  for (const path of paths) {
    const a = changed(older, path);
    const b = changed(newer, path);
    if (sameKeys(a, b)) continue;
    const digests = (files: readonly Read[]) => files.filter((f) => f.path === path).map((f) => f.digest).join(",");
    const runs = editRuns(`${digests(older)}|${digests(newer)}`, a, b);
    let ia = 0;
    let ib = 0;
    for (let i = 0; i < runs.length; i += 2) {
      const n = runs[i + 1]!;
      if (runs[i] === REMOVED) {
        for (let k = ia; k < ia + n; k++) lines.push({ file: path, side: "old", text: a[k]!.text, line: a[k]!.line, heading: a[k]!.heading });
        ia += n;
      } else if (runs[i] === ADDED) {
        for (let k = ib; k < ib + n; k++) lines.push({ file: path, side: "new", text: b[k]!.text, line: b[k]!.line, heading: b[k]!.heading });
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
