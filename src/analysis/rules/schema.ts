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
  /** What the matched change does to the coherency model; absent for lint-only rules. */
  readonly effect?: EffectDoc;
}

export type PolicyDoc = "none" | "noop" | "all-attachments" | "own-device" | "cpu-flush" | "from-call";

export interface EffectDoc {
  /** An attach-time gate whose predicate is parsed from the matched `if` condition. */
  readonly gate?: Record<string, never>;
  /** The buffer coherency flag, set from the matched assignment's value. */
  readonly flag?: Record<string, never>;
  /** A change to the exporter(s) the matched file implements. */
  readonly exporter?: {
    readonly begin?: PolicyDoc;
    readonly end?: PolicyDoc;
    readonly "map-sync"?: "sync" | "skip";
    readonly "unmap-sync"?: "sync" | "skip";
    readonly mmap?: "cached" | "wc" | "uncached" | "from-call";
  };
  /** Cache maintenance added to or removed from the ops member the matched line belongs to. */
  readonly "exporter-sync"?: "added" | "removed";
  /** Userspace code accessing buffers as the `misuse` pattern does where `correct` is documented. */
  readonly userspace?: { readonly pairs: readonly (readonly [string, string])[] };
  /** A userspace import whose failure the code does not survive. */
  readonly "import-refusable"?: Record<string, never>;
  /** A CPU importer gains or loses dma_buf_begin/end_cpu_access around its accesses. */
  readonly "importer-bracketing"?: { readonly brackets: boolean };
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
  /** The call's contract in rules/catalog/locks.yaml. */
  readonly "lock-contract"?: OneOrMany<"caller-holds" | "takes" | "must-not-hold">;
  /** The reservation lock where the touch is: surely held, surely not held, or not seen held. */
  readonly resv?: "held" | "not-held" | "not-seen-held";
  /** Whether the file shows memory the CPU does not cache (rules/catalog/memory.yaml). */
  readonly "uncached-memory"?: boolean;
  /** Whether a dma_map_sg call in the file was given this call's count, the result not kept. */
  readonly "count-as-mapped"?: boolean;
  /** Implementations of the touch's ops member whose replacement changes nothing in substance. */
  readonly "not-replacing"?: OneOrMany<string>;
}
