import { createHash, type Hash } from "node:crypto";
import { classifyFile, readsHelpers, type FileTouches, type Touch } from "../analysis/touch.js";
import type { CFunction } from "../model/code/functions.js";
import type { CParser } from "../patch/c-source.js";
import type { FileDiff } from "../patch/diff.js";
import { BoundedMap } from "./bounded-map.js";

/**
 * Classifications kept by the content of the file diff they came from. A revision that
 * carries most patches over unchanged (v2 of a series, a RESEND, a series read again with a
 * late patch) parses the same hunks with tree-sitter again: its files are looked up here.
 */
export class ClassifiedFiles {
  private readonly kept: BoundedMap<string, FileTouches>;

  // A classification holds its touches and the calls of each function in view: a few KB.
  constructor(limit = 256) {
    this.kept = new BoundedMap(limit);
  }

  /**
   * `classifyFile(file, parser)`, from the kept result when the same diff was classified
   * before. `fresh` names keys already handed out for this series: a file repeated inside
   * one series is classified again, so no two files of a review share a touch.
   */
  classify(file: FileDiff, parser: CParser, fresh: Set<string>, helpers?: ReadonlyMap<string, CFunction>): FileTouches {
    const hash = createHash("sha1").update(parser.lang).update("\0");
    hashFile(hash, file);
    // A gate's meaning can come from a helper the series defines elsewhere: those bodies are part of the input.
    for (const f of readsHelpers(file) ? helpersReached(file, helpers) : []) hash.update("\0").update(f.name).update("\0").update(f.params.join(",")).update("\0").update(f.body);
    const key = hash.digest("base64");
    const hit = fresh.has(key) ? undefined : this.kept.use(key);
    fresh.add(key);
    if (hit) return copyFor(hit, file);
    const r = classifyFile(file, parser, helpers);
    this.kept.set(key, r);
    return copyFor(r, file);
  }
}

/**
 * Every field of the file diff, as JSON.stringify(file) gave them, without the object notation
 * around each line. A line's text holds no newline (lines are split on it), so newlines
 * separate lines and the text comes last in each.
 */
function hashFile(hash: Hash, file: FileDiff): void {
  hash.update(JSON.stringify([file.path, file.oldPath ?? null, file.newPath ?? null, file.status]));
  for (const h of file.hunks) {
    hash.update(`\0${h.oldStart},${h.oldLines},${h.newStart},${h.newLines},${JSON.stringify(h.heading)}\n`);
    let lines = "";
    for (const l of h.lines) lines += `${l.type}${l.oldLine ?? ""},${l.newLine ?? ""},${l.text}\n`;
    hash.update(lines);
  }
}

/**
 * The kept result for this file object, with touches of its own: rules remember per touch
 * (the lock state a message quotes), and a touch of another review must not answer for it.
 */
function copyFor(r: FileTouches, file: FileDiff): FileTouches {
  const touch = (t: Touch): Touch => (t.counterpart ? { ...t, counterpart: { ...t.counterpart } } : { ...t });
  // Copied by descriptor: what a classification reads from its tree only when asked stays so.
  const copy = Object.defineProperties({}, Object.getOwnPropertyDescriptors(r)) as FileTouches;
  return Object.assign(copy, {
    file,
    touches: r.touches.map(touch),
    ...(r.context ? { context: r.context.map(touch) } : {}),
  });
}

// A text in which no helper's name appears anywhere names none of them: it is not read word by word.
const anyNameOf = new WeakMap<ReadonlyMap<string, CFunction>, RegExp>();

function anyName(helpers: ReadonlyMap<string, CFunction>): RegExp {
  let re = anyNameOf.get(helpers);
  if (!re) anyNameOf.set(helpers, (re = new RegExp([...helpers.keys()].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"))));
  return re;
}

/** The series' functions this file's diff can reach by name, directly or through other helpers, in name order. */
function helpersReached(file: FileDiff, helpers: ReadonlyMap<string, CFunction> | undefined): CFunction[] {
  if (!helpers || helpers.size === 0) return [];
  const reached = new Map<string, CFunction>();
  const names = anyName(helpers);
  const visit = (text: string) => {
    if (!names.test(text)) return;
    for (const id of text.match(/[A-Za-z_]\w*/g) ?? []) {
      const f = helpers.get(id);
      if (f && !reached.has(id)) {
        reached.set(id, f);
        visit(f.body);
      }
    }
  };
  for (const h of file.hunks) {
    visit(h.heading);
    for (const l of h.lines) visit(l.text);
  }
  return [...reached.values()].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}
