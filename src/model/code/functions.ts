import type { FileDiff } from "../../patch/diff.js";
import { blankNonCode } from "./lex.js";

/** A C function as the series shows it after the patches: whole, or as far as the hunks reach. */
export interface CFunction {
  readonly file: string;
  /** 1-based index of the patch whose new code shows it. */
  readonly patch: number;
  readonly name: string;
  /** Parameter names in order. */
  readonly params: readonly string[];
  /** The body between the braces, comments and strings blanked. */
  readonly body: string;
  /** Line of the definition in the new file. */
  readonly line: number;
}

/** A designated initializer of an ops structure: `.map_dma_buf = foo_map`. */
export interface OpsTable {
  readonly file: string;
  readonly patch: number;
  readonly struct: string;
  readonly name: string;
  readonly members: ReadonlyMap<string, string>;
  readonly line: number;
}

export interface SeriesCode {
  readonly functions: ReadonlyMap<string, CFunction>;
  readonly ops: readonly OpsTable[];
}

/** The new side of a file as far as its hunks show it; rows hold their new line numbers. */
function postImage(file: FileDiff): { text: string; lines: number[] } {
  const rows: string[] = [];
  const lines: number[] = [];
  for (const h of file.hunks) {
    for (const l of h.lines) {
      if (l.type === "-") continue;
      rows.push(l.text);
      lines.push(l.newLine ?? 0);
    }
    // A gap between hunks must not glue two half functions together.
    rows.push("");
    lines.push(0);
  }
  return { text: rows.join("\n"), lines };
}

/** Comments, literals and preprocessor lines become spaces, so braces and parentheses count true. */
function blank(text: string): string {
  return blankNonCode(text).replace(/^[ \t]*#[^\n]*/gm, (m) => " ".repeat(m.length));
}

function closing(text: string, open: number): number | undefined {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return i;
  }
  return undefined;
}

/** The new-file line at an offset of `text`: found among the rows' starts, so a file of many functions is not read once per function. */
function lineFinder(text: string, lines: readonly number[]): (at: number) => number {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return (at) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return lines[lo] ?? 0;
  };
}

const DEFINITION = /^[A-Za-z_][\w \t*]*?\b([A-Za-z_]\w*)\s*\(([^()]*)\)\s*\{/gm;
const OPS = /\bstruct\s+(\w+_ops)\s+(\w+)\s*=\s*\{/g;

function paramNames(list: string): string[] {
  if (/^\s*(void)?\s*$/.test(list)) return [];
  return list.split(",").map((p) => /(\w+)\s*(\[[^\]]*\])?\s*$/.exec(p.trim())?.[1] ?? "");
}

/** Functions and ops tables the series' new code defines, across every file it touches. */
export function seriesCode(patches: readonly { readonly patch: number; readonly files: readonly FileDiff[] }[]): SeriesCode {
  const functions = new Map<string, CFunction>();
  const ops = new Map<string, OpsTable>();
  for (const { patch, file } of patches.flatMap((p) => p.files.map((file) => ({ patch: p.patch, file })))) {
    if (!/\.[ch]$/.test(file.path) || file.status === "deleted" || file.status === "binary") continue;
    const img = postImage(file);
    const text = blank(img.text);
    const lineAt = lineFinder(text, img.lines);
    for (const m of text.matchAll(DEFINITION)) {
      const name = m[1]!;
      if (/^(if|for|while|switch|return|sizeof)$/.test(name)) continue;
      const open = m.index + m[0].length - 1;
      const end = closing(text, open);
      if (end === undefined) continue;
      functions.set(name, { file: file.path, patch, name, params: paramNames(m[2]!), body: text.slice(open + 1, end), line: lineAt(m.index) });
    }
    for (const m of text.matchAll(OPS)) {
      const open = m.index + m[0].length - 1;
      const end = closing(text, open);
      if (end === undefined) continue;
      const members = new Map<string, string>();
      for (const f of text.slice(open + 1, end).matchAll(/\.(\w+)\s*=\s*&?\s*(\w+)/g)) members.set(f[1]!, f[2]!);
      // A later patch's version of a table replaces the earlier one.
      ops.set(`${file.path}|${m[2]!}`, { file: file.path, patch, struct: m[1]!, name: m[2]!, members, line: lineAt(m.index) });
    }
  }
  return { functions, ops: [...ops.values()] };
}

/** The statements of a body at its top level, split on `;` outside parentheses and braces. */
export function statements(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "(" || c === "{" || c === "[") depth++;
    else if (c === ")" || c === "}" || c === "]") {
      depth--;
      // A closed block is a statement of its own (if ... { ... }).
      if (depth === 0 && c === "}") {
        out.push(body.slice(start, i + 1).trim());
        start = i + 1;
      }
    } else if (c === ";" && depth === 0) {
      out.push(body.slice(start, i).trim());
      start = i + 1;
    }
  }
  const rest = body.slice(start).trim();
  if (rest) out.push(rest);
  return out.filter((s) => s.length > 0);
}

/** `name(...)` calls in a body with their argument texts, in order. */
export function callsIn(body: string): { name: string; args: string[] }[] {
  const out: { name: string; args: string[] }[] = [];
  const re = /\b([A-Za-z_]\w*)\s*\(/g;
  for (const m of body.matchAll(re)) {
    if (/^(if|for|while|switch|return|sizeof)$/.test(m[1]!)) continue;
    let depth = 0;
    const args: string[] = [];
    let start = m.index + m[0].length;
    for (let i = start - 1; i < body.length; i++) {
      const c = body[i];
      if (c === "(") depth++;
      else if (c === ")") {
        if (--depth === 0) {
          args.push(body.slice(start, i).trim());
          break;
        }
      } else if (c === "," && depth === 1) {
        args.push(body.slice(start, i).trim());
        start = i + 1;
      }
    }
    out.push({ name: m[1]!, args: args.filter((a) => a.length > 0) });
  }
  return out;
}
