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

export function stateKey(st: State): string {
  const l = st.line.s === "I" ? "I" : `${st.line.s}${st.line.v}`;
  return `${st.step}|${st.mem}|${l}|${st.latest}|${+st.mapped}${+st.mapSynced}${+st.stale}${+st.slow}`;
}

export function describeLine(l: Line): string {
  return l.s === "I" ? "line invalid" : l.s === "C" ? `clean line v${l.v}` : `dirty line v${l.v}`;
}
