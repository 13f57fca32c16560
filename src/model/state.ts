/**
 * Abstract state of one cache line of a shared buffer. One line is enough for the verdicts the
 * model gives: every write creates a new version; a read must return the newest completed one.
 */
export type Line =
  | { readonly s: "I" }
  | { readonly s: "C"; readonly v: number }
  | { readonly s: "D"; readonly v: number };

export interface State {
  /** Index of the next software step. */
  readonly step: number;
  readonly mem: number;
  readonly line: Line;
  /** Newest completed logical write. */
  readonly latest: number;
  readonly mapped: boolean;
  /** Map-time maintenance already ran for this attachment (cached sg table). */
  readonly mapSynced: boolean;
  readonly stale: boolean;
  readonly slow: boolean;
}

export const INITIAL: State = {
  step: 0,
  mem: 0,
  line: { s: "I" },
  latest: 0,
  mapped: false,
  mapSynced: false,
  stale: false,
  slow: false,
};

/** A state packed into one integer: the search visits thousands, string keys cost most of it. */
export function stateKey(st: State): number {
  const line = st.line.s === "I" ? 0 : (st.line.s === "C" ? 1 : 2) + 2 * st.line.v;
  let k = st.step;
  k = k * 64 + st.mem;
  k = k * 128 + line;
  k = k * 64 + st.latest;
  return k * 16 + (+st.mapped | (+st.mapSynced << 1) | (+st.stale << 2) | (+st.slow << 3));
}

export function describeLine(l: Line): string {
  return l.s === "I" ? "line invalid" : l.s === "C" ? `clean line v${l.v}` : `dirty line v${l.v}`;
}
