import type { Review } from "../review.js";
import { modelJson } from "../model-findings.js";

/** The JSON contract of `dmabuf-review review --format json` (more fields are allowed). */
export function renderJson(review: Review): string {
  const doc = {
    series: review.series.map((s) => ({
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
    })),
    skipped: review.skipped,
    orphanReplies: review.orphanReplies.map((m) => ({ subject: m.subject, messageId: m.messageId })),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}
