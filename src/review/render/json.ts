import type { Review } from "../review.js";
import type { SeriesReview } from "../review-series.js";
import { modelJson } from "../model-findings.js";

/**
 * The JSON contract of `dmabuf-review review --format json` (more fields are allowed):
 * `{"series":[...],"skipped":[...],"orphanReplies":[...]}`, two-space indented.
 */
export function renderJson(review: Review): string {
  return JSON_OPEN + review.series.map((s, i) => jsonSeries(s, i)).join("") + jsonClose(review.series.length, review);
}

/**
 * The document in pieces, for a writer that sends each series as soon as it is reviewed: one
 * series of a large mbox is a megabyte with the model's traces, the whole document too large
 * for one string. The pieces joined are exactly what JSON.stringify(doc, null, 2) gives.
 */
export const JSON_OPEN = '{\n  "series": [';

/** Series number `index` (from 0) of the document, with the comma before it. */
export function jsonSeries(s: SeriesReview, index: number): string {
  return `${index > 0 ? "," : ""}\n    ${indent(JSON.stringify(seriesDoc(s), null, 2), "    ")}`;
}

/** The end of the document after `count` series: what was skipped and the orphan replies. */
export function jsonClose(count: number, tail: Pick<Review, "skipped" | "orphanReplies">): string {
  const orphans = tail.orphanReplies.map((m) => ({ subject: m.subject, messageId: m.messageId }));
  return (
    `${count > 0 ? "\n  ]" : "]"},\n  "skipped": ${indent(JSON.stringify(tail.skipped, null, 2), "  ")},` +
    `\n  "orphanReplies": ${indent(JSON.stringify(orphans, null, 2), "  ")}\n}\n`
  );
}

// JSON.stringify escapes the newlines inside strings: every newline left is between lines.
function indent(json: string, by: string): string {
  return json.replace(/\n/g, `\n${by}`);
}

function seriesDoc(s: SeriesReview) {
  return {
    id: s.series.id,
    subject: s.series.cover ? s.series.cover.parsedSubject.title : s.series.title,
    version: s.series.revision,
    total: s.series.total,
    author: s.series.author,
    changeId: s.series.changeId ?? null,
    missing: s.series.missing,
    cover: s.series.cover ? { subject: s.series.cover.subject, messageId: s.series.cover.messageId } : null,
    model: s.model
      ? {
          catalog: s.model.catalog,
          ...modelJson(s.model.result),
          notModelled: s.model.result.effects.flatMap((e) => (e.kind === "not-modelled" ? [{ ...e.source, reason: e.reason }] : [])),
        }
      : null,
    patches: s.patches.map((p) => ({
      subject: p.message.subject,
      messageId: p.message.messageId,
      index: p.index,
      total: p.total,
      outOfScope: p.outOfScope,
      docOnly: p.docOnly,
      files: p.files.map((f) => f.file.path),
      touches: p.touches.map((t) => ({
        file: t.file,
        function: t.function ?? null,
        kind: t.kind,
        detail: t.detail,
        name: t.name,
        change: t.change,
        line: t.line,
        member: t.member ?? null,
      })),
      unplaced: p.unplaced,
      notReviewed: p.files.flatMap((f) => (f.notReviewed ? [{ file: f.file.path, reason: f.notReviewed }] : [])),
      findings: p.findings.map((f) => ({
        rule: f.rule,
        severity: f.severity,
        risk: f.risk,
        file: f.file,
        line: f.line,
        function: f.function ?? null,
        message: f.message,
        evidence: f.evidence,
        code: f.quote,
        references: f.references,
        fingerprint: f.fingerprint,
        ...(f.details ? { details: f.details } : {}),
        ...(f.model ? { model: f.model } : {}),
      })),
    })),
  };
}
