import { createHash } from "node:crypto";
import { classifyFile, type FileTouches, type Touch } from "../analysis/touch.js";
import type { CParser } from "../patch/c-source.js";
import type { FileDiff } from "../patch/diff.js";

/**
 * Classifications kept by the content of the file diff they came from. A revision that
 * carries most patches over unchanged (v2 of a series, a RESEND, a series read again with a
 * late patch) parses the same hunks with tree-sitter again: its files are looked up here.
 */
export class ClassifiedFiles {
  private readonly kept = new Map<string, FileTouches>();

  // A classification holds its touches and the calls of each function in view: a few KB.
  constructor(private readonly limit = 512) {}

  /**
   * `classifyFile(file, parser)`, from the kept result when the same diff was classified
   * before. `fresh` names keys already handed out for this series: a file repeated inside
   * one series is classified again, so no two files of a review share a touch.
   */
  classify(file: FileDiff, parser: CParser, fresh: Set<string>): FileTouches {
    const key = createHash("sha1").update(parser.lang).update("\0").update(JSON.stringify(file)).digest("base64");
    const hit = fresh.has(key) ? undefined : this.kept.get(key);
    fresh.add(key);
    if (hit) {
      this.kept.delete(key);
      this.kept.set(key, hit);
      return copyFor(hit, file);
    }
    const r = classifyFile(file, parser);
    this.kept.set(key, r);
    if (this.kept.size > this.limit) this.kept.delete(this.kept.keys().next().value!);
    return copyFor(r, file);
  }
}

/**
 * The kept result for this file object, with touches of its own: rules remember per touch
 * (the lock state a message quotes), and a touch of another review must not answer for it.
 */
function copyFor(r: FileTouches, file: FileDiff): FileTouches {
  const touch = (t: Touch): Touch => (t.counterpart ? { ...t, counterpart: { ...t.counterpart } } : { ...t });
  return {
    ...r,
    file,
    touches: r.touches.map(touch),
    ...(r.context ? { context: r.context.map(touch) } : {}),
  };
}
