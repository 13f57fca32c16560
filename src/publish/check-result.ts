import type { Finding } from "../review/finding.js";
import type { PatchReview, SeriesReview } from "../review/review-series.js";
import { wrap } from "../review/render/wrap.js";

/** A review boiled down to what a CI column shows: b4's check results and patchwork's checks share it. */
export type CheckStatus = "pass" | "warn" | "fail";

export interface CheckResult {
  readonly status: CheckStatus;
  /** One line, no newline: b4 shows it in its detail view, patchwork as the check's description. */
  readonly summary: string;
  /** Plain text, one block per finding; empty when there is nothing to say. */
  readonly details: string;
}

/** error → fail, warning → warn; an info finding is worth reading but does not colour the column. */
export function statusOf(findings: readonly Finding[]): CheckStatus {
  if (findings.some((f) => f.severity === "error")) return "fail";
  if (findings.some((f) => f.severity === "warning")) return "warn";
  return "pass";
}

function counted(findings: readonly Finding[]): string {
  const parts: string[] = [];
  for (const sev of ["error", "warning", "info"] as const) {
    const n = findings.filter((f) => f.severity === sev).length;
    if (n > 0) parts.push(`${n} ${sev}${n === 1 ? "" : "s"}`);
  }
  return parts.join(", ");
}

function findingText(f: Finding, withPatch: boolean): string {
  const where = `${withPatch ? `patch ${f.patch}: ` : ""}${f.file}:${f.line}${f.function ? ` in ${f.function}()` : ""}`;
  return [`${where} [${f.severity}] ${f.rule}`, ...wrap(f.message, 76, "  "), ...(f.details ?? []).map((l) => `  ${l}`)].join("\n");
}

function result(findings: readonly Finding[], scope: string, withPatch: boolean): CheckResult {
  if (findings.length === 0) return { status: "pass", summary: `${scope}: no findings`, details: "" };
  const first = findings[0]!;
  const summary = `${counted(findings)}; first: ${first.rule} at ${first.file}:${first.line}`;
  return { status: statusOf(findings), summary, details: findings.map((f) => findingText(f, withPatch)).join("\n\n") };
}

/** The result for one patch of a reviewed series. */
export function patchCheck(p: PatchReview): CheckResult {
  // A patch the review left alone says so, rather than a bare "no findings" that reads as checked.
  if (p.outOfScope) return { status: "pass", summary: "outside the dma-buf surface: not reviewed", details: "" };
  if (p.docOnly) return { status: "pass", summary: "documentation or comments only: no findings", details: "" };
  return result(p.findings, `patch ${p.index}/${p.total}`, false);
}

/** The result for a whole series (b4's per-series column, on its cover letter). */
export function seriesCheck(s: SeriesReview): CheckResult {
  const findings = s.patches.flatMap((p) => p.findings);
  const missing = s.series.missing.length > 0 ? ` (patches ${s.series.missing.join(", ")} of ${s.series.total} missing)` : "";
  const r = result(findings, `${s.patches.length} patch${s.patches.length === 1 ? "" : "es"}`, true);
  return { ...r, summary: r.summary + missing };
}
