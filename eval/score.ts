/**
 * How the bot's findings on the development set are scored against its labels. Pure: the
 * runner (eval.ts) places every finding on its labelled series, this file judges and counts.
 *
 * A finding is a *warning* at severity warning or above; info findings are counted apart and
 * never scored. A warning *matches* an `expect` label of its series when all of these hold:
 *   - same revision (the label's `version`, read from the Message-ID of the patch it is on);
 *   - same patch: the label's `patch` equals the patch's index in that revision, or the label's
 *     patch is 0 (the cover letter: the series as a whole, any patch of the revision);
 *   - same file path;
 *   - same function, when the label names a plain C identifier and the finding names a function;
 *   - a compatible risk (RISK_COMPATIBLE below; a label of risk `other` takes any rule risk).
 * A concern whose feedback outcome says the next revision kept the code (`not addressed`,
 * `answered`) is matched on that revision as well, and caught as the one concern it is.
 * A warning that matches no `expect` *contradicts* a label when its series is negative, or when
 * it sits at the place of a `must_not` (same revision, patch or patch 0, file, function as
 * above) and its risk is one the must_not's text names (MUST_NOT_RISKS below; a text naming no
 * kind of claim takes any risk). Any other warning is *unlabelled*: neither right nor wrong.
 * Precision is matched / warnings. A labelled concern is *caught* when a warning matches it.
 */
import type { Risk, Severity } from "../src/analysis/rules/schema.js";
import type { Finding } from "../src/review/finding.js";
import { SEVERITY_RANK } from "../src/analysis/rules/schema.js";
import type { Expect, LabelledSeries, LabelRisk, MustNot } from "./devset.js";

/** Which rule risks say the same kind of thing as a label's risk. */
export const RISK_COMPATIBLE: Readonly<Record<Exclude<LabelRisk, "other">, readonly Risk[]>> = {
  "false-positive-check": ["false-positive", "userspace-regression"],
  "userspace-regression": ["userspace-regression", "abi", "false-positive"],
  "exporter-override": ["false-positive", "userspace-regression"],
  "hazard-left-open": ["stale-read", "lost-write", "missing-sync", "missing-bracketing", "attribute-alias"],
  "missing-bracketing": ["missing-bracketing", "missing-sync", "stale-read", "lost-write"],
  "dma-api-misuse": ["missing-sync", "stale-read", "lost-write", "attribute-alias"],
  "lock-contract": ["locking"],
};

/**
 * A must_not says in words which claim would be wrong ("no missing-bracketing finding", "no
 * request to take dmabuf->resv"). A lock or resv named makes it about locking alone; otherwise
 * every kind its words name counts.
 */
const MUST_NOT_LOCKING = /\bresv\b|\block/i;
export const MUST_NOT_RISKS: readonly { readonly words: RegExp; readonly risks: readonly Risk[] }[] = [
  { words: /userspace-regression|error code/i, risks: ["userspace-regression", "abi"] },
  { words: /cache[- ]attribute|mapping-attribute|write-combine/i, risks: ["attribute-alias"] },
  {
    words: /bracketing|cpu[- ]access|begin\/end_cpu_access|cache[- ]maintenance|coheren|stale|sync/i,
    risks: ["missing-bracketing", "missing-sync", "stale-read", "lost-write"],
  },
];

/** The rule risks a must_not's text rules out; undefined when it names none (any risk). */
export function mustNotRisks(say: string): readonly Risk[] | undefined {
  if (MUST_NOT_LOCKING.test(say)) return ["locking"];
  const risks = MUST_NOT_RISKS.filter((k) => k.words.test(say)).flatMap((k) => k.risks);
  return risks.length > 0 ? risks : undefined;
}

/** One finding of the bot, placed on the labelled revision and patch its message belongs to. */
export type PlacedFinding = Pick<Finding, "rule" | "severity" | "risk" | "file" | "line" | "function" | "message"> & {
  readonly series: LabelledSeries;
  readonly messageId: string;
  readonly version: number;
  /** Index of the patch in its labelled revision (a Finding's own `patch` counts in its Series). */
  readonly patch: number;
};

export type Judgement =
  | { readonly kind: "match"; readonly expects: readonly Expect[] }
  | { readonly kind: "contradicts"; readonly why: string }
  | { readonly kind: "unlabelled" };

export function isWarning(f: { readonly severity: Severity }): boolean {
  return SEVERITY_RANK[f.severity] >= SEVERITY_RANK.warning;
}

const C_IDENTIFIER = /^[A-Za-z_]\w*$/;

function samePlace(f: PlacedFinding, l: { version: number; patch: number; file: string; function: string | undefined }): boolean {
  if (l.version !== f.version || (l.patch !== 0 && l.patch !== f.patch) || l.file !== f.file) return false;
  const fn = l.function?.trim();
  return !(fn && C_IDENTIFIER.test(fn) && f.function && f.function !== fn);
}

export function riskCompatible(label: LabelRisk, risk: Risk): boolean {
  return label === "other" || RISK_COMPATIBLE[label].includes(risk);
}

export function matchingExpects(f: PlacedFinding): Expect[] {
  return [...f.series.expect, ...(f.series.carried ?? [])].filter((e) => samePlace(f, e) && riskCompatible(e.risk, f.risk));
}

function mustNotAt(f: PlacedFinding): MustNot | undefined {
  return f.series.mustNot.find((m) => samePlace(f, m) && (mustNotRisks(m.say)?.includes(f.risk) ?? true));
}

export function judge(f: PlacedFinding): Judgement {
  if (f.series.kind === "negative") return { kind: "contradicts", why: "warning on a negative series" };
  const expects = matchingExpects(f);
  if (expects.length > 0) return { kind: "match", expects };
  const m = mustNotAt(f);
  return m ? { kind: "contradicts", why: `must_not: ${oneLine(m.say)}` } : { kind: "unlabelled" };
}

export function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

export interface RuleTally {
  readonly rule: string;
  warnings: number;
  info: number;
  matched: number;
  contradicted: number;
  unlabelled: number;
  /** Keys (`series#expect`) of the labelled concerns this rule's warnings match. */
  readonly caught: Set<string>;
}

export interface Recall {
  readonly name: string;
  readonly caught: number;
  readonly total: number;
}

export interface Scored {
  readonly rules: readonly RuleTally[];
  readonly overall: RuleTally;
  readonly warningsOnNegatives: number;
  /** Warnings and matches on series outside the independent labels' overlap. */
  readonly outsideOverlap: { readonly warnings: number; readonly matched: number };
  readonly recall: readonly Recall[];
  readonly contradictions: readonly { readonly finding: PlacedFinding; readonly why: string }[];
  readonly unlabelled: readonly PlacedFinding[];
  readonly missed: readonly { readonly series: LabelledSeries; readonly expect: Expect }[];
}

function tally(rule: string): RuleTally {
  return { rule, warnings: 0, info: 0, matched: 0, contradicted: 0, unlabelled: 0, caught: new Set() };
}

function byPlace(a: PlacedFinding, b: PlacedFinding): number {
  return (
    cmp(a.series.id, b.series.id) ||
    a.version - b.version ||
    a.patch - b.patch ||
    cmp(a.file, b.file) ||
    a.line - b.line ||
    cmp(a.rule, b.rule) ||
    cmp(a.message, b.message)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function expectKey(s: LabelledSeries, e: Expect): string {
  return `${s.id}#${e.id}`;
}

/** Judge every finding and count per rule and overall; every list comes out sorted. */
export function score(devset: readonly LabelledSeries[], findings: readonly PlacedFinding[]): Scored {
  const rules = new Map<string, RuleTally>();
  const overall = tally("(all)");
  const contradictions: { finding: PlacedFinding; why: string }[] = [];
  const unlabelled: PlacedFinding[] = [];
  let warningsOnNegatives = 0;
  const outsideOverlap = { warnings: 0, matched: 0 };
  for (const f of [...findings].sort(byPlace)) {
    const t = rules.get(f.rule) ?? tally(f.rule);
    rules.set(f.rule, t);
    if (!isWarning(f)) {
      t.info++;
      overall.info++;
      continue;
    }
    t.warnings++;
    overall.warnings++;
    if (f.series.kind === "negative") warningsOnNegatives++;
    const outside = f.series.independentOverlap === undefined;
    if (outside) outsideOverlap.warnings++;
    const j = judge(f);
    if (j.kind === "match") {
      if (outside) outsideOverlap.matched++;
      t.matched++;
      overall.matched++;
      for (const e of j.expects) {
        t.caught.add(expectKey(f.series, e));
        overall.caught.add(expectKey(f.series, e));
      }
    } else if (j.kind === "contradicts") {
      t.contradicted++;
      overall.contradicted++;
      contradictions.push({ finding: f, why: j.why });
    } else {
      t.unlabelled++;
      overall.unlabelled++;
      unlabelled.push(f);
    }
  }
  const labelled = devset.flatMap((s) => s.expect.map((expect) => ({ series: s, expect })));
  const recallOf = (name: string, keep: (l: (typeof labelled)[number]) => boolean): Recall => {
    const set = labelled.filter(keep);
    return { name, caught: set.filter((l) => overall.caught.has(expectKey(l.series, l.expect))).length, total: set.length };
  };
  const byReviewer = (l: (typeof labelled)[number]) => l.expect.raisedBy.trim() !== "label";
  const outside = (l: (typeof labelled)[number]) => l.series.independentOverlap === undefined;
  const recall = [
    recallOf("all expect labels", () => true),
    recallOf("raised by a reviewer (without raised_by: label)", byReviewer),
    recallOf("outside the independent_overlap series", outside),
    recallOf("in the independent_overlap series only", (l) => !outside(l)),
    recallOf("raised by a reviewer, outside the overlap", (l) => byReviewer(l) && outside(l)),
  ];
  const missed = labelled.filter((l) => !overall.caught.has(expectKey(l.series, l.expect)));
  return {
    rules: [...rules.values()].sort((a, b) => cmp(a.rule, b.rule)),
    overall,
    warningsOnNegatives,
    outsideOverlap,
    recall,
    contradictions,
    unlabelled,
    missed,
  };
}
