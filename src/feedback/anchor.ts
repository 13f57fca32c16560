import { createHash } from "node:crypto";
import type { CParser } from "../patch/c-source.js";
import { rowFunction } from "../patch/c-source.js";
import type { FileDiff, Hunk, HunkLine } from "../patch/diff.js";
import type { Message } from "../patch/message.js";
import { BoundedMap } from "../review/bounded-map.js";

/** Where a reviewer's point sits: the lines they quoted, placed in the patch they answered. */
export interface Anchor {
  /** "code": quoted diff lines found in the patch; "prose": quoted commit message or cover text. */
  readonly kind: "code" | "prose" | "none";
  readonly file: string | undefined;
  /** Enclosing function, or "struct dma_buf" for a member of a struct. */
  readonly function: string | undefined;
  /** Line in the file as the patch leaves it (the old file's line for a removed line). */
  readonly line: number | undefined;
  /** The quoted lines the point is about, as the patch spells them (with +/-/space for code). */
  readonly quoted: readonly string[];
}

export const NO_ANCHOR: Anchor = { kind: "none", file: undefined, function: undefined, line: undefined, quoted: [] };

// Whitespace as mail clients leave it: tabs turned to spaces, a space pushed before the +/- of a
// quoted line. Runs of blanks are one, ends trimmed (split/join, no regex backtracking on blanks).
// A line with no tab, no double space and no blank at its ends is already spelled so.
const ODD_BLANKS = /\t| {2}|^\s|\s$/;
const norm = (s: string) => (ODD_BLANKS.test(s) ? s.split(/[ \t]+/).join(" ").trim() : s);
const isChange = (l: HunkLine) => l.type !== " ";
const spell = (l: HunkLine) => `${l.type}${l.text}`;

/** A hunk's lines as quotes are compared with them, spelled once per hunk, not once per quoted line. */
const spelled = new WeakMap<Hunk, readonly string[]>();
function spellingsOf(hunk: Hunk): readonly string[] {
  let s = spelled.get(hunk);
  if (!s) spelled.set(hunk, (s = hunk.lines.map((l) => norm(spell(l)))));
  return s;
}

/** "struct dma_buf *drm_gem_prime_export(struct drm_gem_object *obj," → drm_gem_prime_export. */
export function headingFunction(heading: string): string | undefined {
  const h = heading.trim();
  const struct = /^(struct|union|enum)\s+(\w+)\s*\{/.exec(h);
  if (struct) return `${struct[1]} ${struct[2]}`;
  const fn = /([A-Za-z_]\w*)\s*\(/.exec(h);
  if (fn && !/^(if|for|while|switch|return|sizeof)$/.test(fn[1]!)) return fn[1];
  return undefined;
}

/** The functions of a hunk side's rows: the distinct names, and each row's place among them (0: none). */
interface SideFunctions {
  readonly names: readonly string[];
  readonly at: Uint32Array;
}

/** Rows of sides kept, four bytes each, beside names the parse already holds. */
const KEPT_SIDE_BYTES = 400_000;

// Every tracking of a chain places quotes in the same hunks again, and a long hunk (a whole new
// file is one) holds many: tree-sitter's answer for every row of a side is kept by what it was
// computed from (parser, path, heading, the side's lines), least recently used first.
const placed = new WeakMap<CParser, BoundedMap<string, SideFunctions>>();

// A side's digest, once per hunk: each row placed in it would hash the whole side again.
const sideKeys = new WeakMap<Hunk, Map<string, string>>();

function sideKey(hunk: Hunk, keep: string, path: string, lines: readonly string[]): string {
  let keys = sideKeys.get(hunk);
  if (!keys) sideKeys.set(hunk, (keys = new Map()));
  let key = keys.get(`${keep}${path}`);
  // A digest, not the text: a whole new file is one hunk.
  if (key === undefined) keys.set(`${keep}${path}`, (key = createHash("sha1").update(`${path}\n${hunk.heading}\n${lines.join("\n")}`).digest("base64")));
  return key;
}

function sideFunctions(parser: CParser, key: string, path: string, heading: string, lines: readonly string[]): SideFunctions {
  let kept = placed.get(parser);
  if (!kept) placed.set(parser, (kept = new BoundedMap(4096, [], { bytes: KEPT_SIDE_BYTES, weigh: (k, s) => k.length + s.at.byteLength })));
  return kept.keep(key, () => {
    // The parser's kept fragments: the review of the same revision has most often parsed this side already.
    const c = parser.forPath(path);
    const frag = c.acquire(lines, heading);
    try {
      const names: string[] = [];
      const index = new Map<string, number>();
      const at = new Uint32Array(lines.length);
      for (let row = 0; row < lines.length; row++) {
        const fn = rowFunction(frag, row);
        if (fn === undefined) continue;
        let k = index.get(fn);
        if (k === undefined) index.set(fn, (k = names.push(fn)));
        at[row] = k;
      }
      return { names, at };
    } finally {
      c.release([frag]);
    }
  });
}

/** The function a hunk line sits in: tree-sitter's answer, else git's hunk heading. */
export function functionAt(hunk: Hunk, line: HunkLine, parser: CParser | undefined, path: string): string | undefined {
  if (parser && /\.(c|h)$/.test(path)) {
    const keep = line.type === "-" ? "-" : "+";
    const side = hunk.lines.filter((l) => l.type === " " || l.type === keep);
    const row = side.indexOf(line);
    if (row >= 0) {
      const texts = side.map((l) => l.text);
      const placed = sideFunctions(parser, sideKey(hunk, keep, path, texts), path, hunk.heading, texts);
      const fn = placed.names[placed.at[row]! - 1];
      if (fn) return fn;
    }
  }
  return headingFunction(hunk.heading);
}

interface Found {
  readonly file: FileDiff;
  readonly hunk: Hunk;
  /** Matched hunk lines, in quote order. */
  readonly lines: readonly HunkLine[];
}

/**
 * The hunk holding the most of the quoted changed lines, and which of its lines they are. A quote
 * spanning hunks that repeat lines is placed in a hunk holding its last changed line.
 */
function findInDiff(quoted: readonly string[], files: readonly FileDiff[]): Found | undefined {
  let best: Found | undefined;
  const last = [...quoted].reverse().find((q) => /^[+-]\s*\S/.test(q));
  const lastSpelled = last === undefined ? undefined : norm(last);
  const holds = (h: Hunk) => lastSpelled !== undefined && spellingsOf(h).includes(lastSpelled);
  const anyHolds = files.some((f) => f.hunks.some(holds));
  // From the end of the quote back: reviewers write under the lines they mean, and blank lines
  // (a paragraph break in quoted prose) match any blank context line, so they place nothing.
  const backwards = [...quoted].reverse().filter((q) => q.trim() !== "").map(norm);
  for (const file of files) {
    for (const hunk of file.hunks) {
      if (anyHolds && !holds(hunk)) continue;
      const lines: HunkLine[] = [];
      const spellings = spellingsOf(hunk);
      let to = spellings.length;
      for (const q of backwards) {
        const at = spellings.lastIndexOf(q, to - 1);
        if (at < 0) continue;
        lines.unshift(hunk.lines[at]!);
        to = at;
        if (to === 0) break;
      }
      const changed = lines.filter(isChange).length;
      // On a tie the later hunk: a quote runs top down, and the point follows its end.
      if (changed > 0 && (!best || changed >= best.lines.filter(isChange).length)) best = { file, hunk, lines };
    }
  }
  return best;
}

const COMMENT_TEXT = /^\s*(\/\*|\*|\/\/)/;

/** The most changed lines an anchor keeps: the ones right above the reviewer's words. */
const MAX_RUN = 8;

/**
 * A quote of kerneldoc is about the function the comment documents, not the one git names in the
 * hunk heading (the function before it): the first code line after the comment, same side.
 */
function documented(hunk: Hunk, run: readonly HunkLine[]): string | undefined {
  if (!run.every((l) => COMMENT_TEXT.test(l.text) || l.text.trim() === "")) return undefined;
  const last = run[run.length - 1]!;
  const side = last.type === "-" ? "+" : "-";
  const code = hunk.lines
    .slice(hunk.lines.indexOf(last) + 1)
    .filter((l) => l.type !== side && l.text.trim() !== "" && !COMMENT_TEXT.test(l.text));
  // A definition may put its return type on a line of its own.
  const head = code.slice(0, 2).map((l) => l.text.trim()).join(" ");
  return /^[A-Za-z_][\w\s*]*\(/.test(head) ? headingFunction(head) : undefined;
}

/**
 * Place a quote in the message it answers. Reviewers write under the lines they mean, so the
 * point is about the last run of changed lines in the quote; blank added lines at its edges are
 * not part of it.
 */
export function anchorOf(quote: readonly string[], target: Message, parser?: CParser): Anchor {
  const lines = quote.filter((l) => !/^(@@ |diff --git |index [0-9a-f]|--- a\/|\+\+\+ b\/)/.test(l));
  const found = findInDiff(lines, target.files);
  if (found) {
    const runs: HunkLine[][] = [];
    let prevAt = -2;
    for (const l of found.lines) {
      const at = found.hunk.lines.indexOf(l);
      if (!isChange(l)) {
        prevAt = -2;
        continue;
      }
      if (at === prevAt + 1 && runs.length > 0) runs[runs.length - 1]!.push(l);
      else runs.push([l]);
      prevAt = at;
    }
    let run = runs[runs.length - 1]!;
    const blank = (l: HunkLine) => l.text.trim() === "";
    while (run.length > 1 && blank(run[run.length - 1]!)) run = run.slice(0, -1);
    // A long quote of new code (a whole new file) is about its last lines, where the reply starts.
    if (run.length > MAX_RUN) run = run.slice(-MAX_RUN);
    while (run.length > 1 && blank(run[0]!)) run = run.slice(1);
    const first = run[0]!;
    return {
      kind: "code",
      file: found.file.path,
      function: documented(found.hunk, run) ?? functionAt(found.hunk, first, parser, found.file.path),
      line: first.newLine ?? first.oldLine,
      quoted: run.map(spell),
    };
  }
  const text = target.commitMessage.split("\n").map((l) => l.trim());
  const prose = quote.map((l) => l.trim()).filter((l) => l !== "" && text.includes(l));
  if (prose.length > 0) return { kind: "prose", file: undefined, function: undefined, line: undefined, quoted: prose };
  return { ...NO_ANCHOR, quoted: quote.filter((l) => l.trim() !== "") };
}
