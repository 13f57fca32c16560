import { diffArrays } from "diff";
import { describe, expect, it } from "vitest";
import { editScript } from "../../src/feedback/edit-script.js";

/** diffArrays' answer as runs: the choice among equally short scripts interdiff has always made. */
function reference(a: number[], b: number[]) {
  return diffArrays(a, b).map((p) => ({ kind: p.added ? "added" : p.removed ? "removed" : "same", count: p.count ?? p.value.length }));
}

describe("editScript", () => {
  it("makes diffArrays' choice among equally short scripts (repeated lines, edits anywhere)", () => {
    // A small deterministic generator: few distinct values, so ties between scripts are common.
    let seed = 12345;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let k = 0; k < 20000; k++) {
      const alphabet = 1 + next(4);
      const a = Array.from({ length: next(k % 10 === 0 ? 40 : 12) }, () => next(alphabet));
      let b = Array.from({ length: next(k % 10 === 0 ? 40 : 12) }, () => next(alphabet));
      if (k % 3 === 0) {
        b = [...a];
        for (let e = 0; e < 3; e++) {
          const at = next(b.length + 1);
          if (next(2) === 0) b.splice(at, 1);
          else b.splice(at, 0, next(alphabet));
        }
      }
      expect(editScript(a, b), JSON.stringify([a, b])).toEqual(reference(a, b));
    }
  });

  it("answers identical and empty sides", () => {
    expect(editScript([], [])).toEqual([]);
    expect(editScript([1, 2], [1, 2])).toEqual([{ kind: "same", count: 2 }]);
    expect(editScript([], [1, 2])).toEqual([{ kind: "added", count: 2 }]);
    expect(editScript([1, 2], [])).toEqual([{ kind: "removed", count: 2 }]);
  });
});
