import type { Area } from "../vocabulary.js";
import type { Change, TouchKind } from "../touch.js";

/** A rule as written in rules/<group>/<name>.yaml, after schema validation. */
export interface RuleDoc {
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  readonly risk: Risk;
  readonly description?: string;
  readonly match: MatcherDoc;
  readonly series?: { readonly with?: MatcherDoc; readonly without?: MatcherDoc };
  readonly message: string;
  readonly references: readonly Reference[];
}

export type Severity = "info" | "warning" | "error";
export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

export type Risk =
  | "false-positive"
  | "userspace-regression"
  | "stale-read"
  | "lost-write"
  | "missing-bracketing"
  | "missing-sync"
  | "attribute-alias"
  | "locking"
  | "performance"
  | "abi";

export type Reference = { doc: string } | { thread: string } | { commit: string } | { hazard: string };

type OneOrMany<T> = T | readonly T[];

export interface MatcherDoc {
  readonly kind: OneOrMany<TouchKind>;
  readonly name?: OneOrMany<string>;
  readonly change?: Change | "any" | readonly Change[];
  readonly areas?: readonly Area[];
  readonly paths?: OneOrMany<string>;
  readonly "exclude-paths"?: OneOrMany<string>;
  readonly function?: OneOrMany<string>;
  readonly "ops-member"?: OneOrMany<string>;
  readonly code?: string;
  readonly "not-code"?: string;
  readonly condition?: string;
  readonly value?: string;
  readonly args?: readonly { readonly at: number; readonly pattern?: string; readonly not?: string }[];
  readonly "function-lacks"?: OneOrMany<string>;
}
