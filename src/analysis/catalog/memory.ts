import type { FileTouches } from "../touch.js";
import type { MemoryKind } from "./facts.js";

/** Memory the CPU does not cache, as a file's diff shows it, and the line that shows it. */
export interface UncachedMemory {
  readonly kind: MemoryKind;
  readonly evidence: string;
}

const CALL = /\b([a-z_][a-z0-9_]*)\s*\(/g;
const IDENT = /\b[A-Za-z_]\w*\b/g;
const STRING = /"((?:[^"\\]|\\.)*)"/g;

const answers = new WeakMap<readonly MemoryKind[], WeakMap<FileTouches, UncachedMemory | null>>();

/**
 * The first memory kind of the catalog that the file's new version shows (its path, a call,
 * an identifier or a heap name in a string), looking at context and added lines: what the
 * patch removes no longer describes the memory.
 */
export function uncachedMemoryIn(file: FileTouches, kinds: readonly MemoryKind[]): UncachedMemory | undefined {
  let byFile = answers.get(kinds);
  if (!byFile) answers.set(kinds, (byFile = new WeakMap()));
  const known = byFile.get(file);
  if (known !== undefined) return known ?? undefined;
  let found: UncachedMemory | undefined;
  const rows = file.file.hunks.flatMap((h) => h.lines.filter((l) => l.type !== "-"));
  search: for (const kind of kinds) {
    if (kind.path?.(file.file.path)) {
      found = { kind, evidence: `the file ${file.file.path}` };
      break;
    }
    for (const row of rows) {
      const code = row.text.replace(/\/\*.*?\*\/|\/\/.*$/g, "");
      const call = [...code.matchAll(CALL)].find((m) => kind.calls.has(m[1]!));
      const ident = call ? undefined : [...code.replace(STRING, '""').matchAll(IDENT)].find((m) => kind.identifiers.has(m[0]));
      const str = call || ident ? undefined : [...code.matchAll(STRING)].find((m) => kind.strings.some((re) => re.test(m[1]!)));
      const what = call ? `${call[1]}()` : ident ? ident[0] : str ? `"${str[1]}"` : undefined;
      if (what) {
        found = { kind, evidence: `${what} at line ${row.newLine ?? "?"}` };
        break search;
      }
    }
  }
  byFile.set(file, found ?? null);
  return found;
}
