import { SEVERITY_RANK, type Reference, type Risk, type Severity } from "../analysis/rules/schema.js";

/** What the bot says about one place in a patch, and why. */
export interface Finding {
  readonly rule: string;
  readonly title: string;
  readonly severity: Severity;
  readonly risk: Risk;
  readonly file: string;
  /** Line in the new version of the file. */
  readonly line: number;
  readonly function: string | undefined;
  readonly message: string;
  readonly evidence: readonly string[];
  /** The diff lines the finding is about, with their +/-/space prefix. */
  readonly quote: readonly string[];
  readonly references: readonly Reference[];
  /** Stable across revisions and line shifts: rule, file, function, normalised code. */
  readonly fingerprint: string;
  /** 1-based index of the patch in its series. */
  readonly patch: number;
  /** Preformatted lines under the message (configurations and their traces). */
  readonly details?: readonly string[];
  /** The model's before/after result behind a model finding. */
  readonly model?: import("./model-findings.js").ModelJson;
}

/**
 * The key under which a renderer may shorten a repeated finding to "Same as ... above": a rule's
 * templated message says the same thing at every place, but a model finding's counts and
 * configurations (its details) belong to its own line, so it is only the same when its text is.
 * Keyed on the details, not `model`: published reviews drop `model` (review-pool forPublishing).
 */
export function repeatKey(f: Finding): string {
  return f.details && f.details.length > 0 ? `${f.rule}\n${f.message}` : f.rule;
}

/** The worst severity among findings (error > warning > info), or undefined when there are none. */
export function worstOf(findings: Iterable<Pick<Finding, "severity">>): Severity | undefined {
  let worst: Severity | undefined;
  for (const f of findings) if (!worst || SEVERITY_RANK[f.severity] > SEVERITY_RANK[worst]) worst = f.severity;
  return worst;
}
