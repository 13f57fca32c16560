/** A run of an edit script: `count` items both sides share, or only the old or the new side has. */
export interface EditRun {
  readonly kind: "same" | "removed" | "added";
  readonly count: number;
}

const REMOVED = 1;
const ADDED = 2;

/**
 * Steps of all paths of one search, in flat arrays reused by the next: the step before, and what
 * it did (removed or added one item; none for the start) with how many shared items follow it,
 * as `shared * 4 + did`. A search that outgrew the kept size gives its arrays up at the end.
 */
const KEPT_STEPS = 1 << 16;
let before = new Int32Array(KEPT_STEPS);
let what = new Int32Array(KEPT_STEPS);

function grow(): void {
  const b = new Int32Array(before.length * 2);
  b.set(before);
  const w = new Int32Array(what.length * 2);
  w.set(what);
  before = b;
  what = w;
}

/**
 * The shortest edit script from `a` to `b` (Myers' greedy search), choosing among equally short
 * ones exactly as the `diff` package's diffArrays does: interdiff reports which of two repeated
 * lines moved, so the choice must not change. Each diagonal's furthest path is a number and an
 * index into flat arrays of steps, not an object per step: a long interdiff searched thousands
 * of diagonals per edit and left every path behind as garbage.
 */
export function editScript(a: readonly number[], b: readonly number[]): EditRun[] {
  try {
    return search(a, b);
  } finally {
    if (before.length > KEPT_STEPS) {
      before = new Int32Array(KEPT_STEPS);
      what = new Int32Array(KEPT_STEPS);
    }
  }
}

function search(a: readonly number[], b: readonly number[]): EditRun[] {
  const oldLen = a.length;
  const newLen = b.length;
  let steps = 1;
  before[0] = -1;
  // Per diagonal (old position minus new position, shifted to be an index): the furthest old
  // position reached and the last step of that path, -1 when the diagonal has none.
  const span = oldLen + newLen + 2;
  const reach = new Int32Array(2 * span + 1);
  const last = new Int32Array(2 * span + 1).fill(-1);

  // Follows the shared items from `oldPos` on `diagonal`, noting them on `step`; the old position reached.
  const follow = (step: number, did: number, oldPos: number, diagonal: number): number => {
    let newPos = oldPos - diagonal;
    let n = 0;
    while (newPos + 1 < newLen && oldPos + 1 < oldLen && a[oldPos + 1] === b[newPos + 1]) {
      newPos++;
      oldPos++;
      n++;
    }
    what[step] = n * 4 + did;
    return oldPos;
  };

  let oldPos = follow(0, 0, -1, 0);
  if (oldPos + 1 >= oldLen && oldPos + 1 >= newLen) return runs(0);
  reach[span] = oldPos;
  last[span] = 0;
  // Once a path reaches the right (bottom) edge, diagonals beyond it cannot be on a shortest one.
  let minDiagonal = -Infinity;
  let maxDiagonal = Infinity;
  for (let edits = 1; edits <= oldLen + newLen; edits++) {
    for (let d = Math.max(minDiagonal, -edits); d <= Math.min(maxDiagonal, edits); d += 2) {
      const k = d + span;
      const removeStep = last[k - 1]!;
      const addStep = last[k + 1]!;
      const removeAt = reach[k - 1]!;
      const addAt = reach[k + 1]!;
      if (removeStep >= 0) last[k - 1] = -1;
      const canAdd = addStep >= 0 && addAt - d >= 0 && addAt - d < newLen;
      const canRemove = removeStep >= 0 && removeAt + 1 < oldLen;
      if (!canAdd && !canRemove) {
        last[k] = -1;
        continue;
      }
      if (steps === before.length) grow();
      const step = steps++;
      let at: number;
      if (!canRemove || (canAdd && removeAt < addAt)) {
        before[step] = addStep;
        at = follow(step, ADDED, addAt, d);
      } else {
        before[step] = removeStep;
        at = follow(step, REMOVED, removeAt + 1, d);
      }
      if (at + 1 >= oldLen && at - d + 1 >= newLen) return runs(step);
      reach[k] = at;
      last[k] = step;
      if (at + 1 >= oldLen) maxDiagonal = Math.min(maxDiagonal, d - 1);
      if (at - d + 1 >= newLen) minDiagonal = Math.max(minDiagonal, d + 1);
    }
  }
  throw new Error("edit script: no path to the end");
}

/** The path ending in `step` as runs: same-kind steps with nothing shared between are one run. */
function runs(step: number): EditRun[] {
  const path: number[] = [];
  for (let s = step; s >= 0; s = before[s]!) path.push(s);
  const out: { kind: EditRun["kind"]; count: number }[] = [];
  const add = (kind: EditRun["kind"], count: number) => {
    const prev = out[out.length - 1];
    if (prev?.kind === kind) prev.count += count;
    else out.push({ kind, count });
  };
  for (let i = path.length - 1; i >= 0; i--) {
    const w = what[path[i]!]!;
    const did = w & 3;
    if (did === REMOVED) add("removed", 1);
    else if (did === ADDED) add("added", 1);
    if (w >> 2 > 0) add("same", w >> 2);
  }
  return out;
}
