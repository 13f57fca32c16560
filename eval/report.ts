/** The evaluation's printed figures: per-rule table, overall, recall, then every disagreement. */
import { oneLine, type PlacedFinding, type Scored } from "./score.js";

export interface RunFacts {
  readonly archive: string;
  readonly positives: number;
  readonly negatives: number;
  readonly messagesRead: number;
  readonly messagesMissing: number;
  readonly skipped: readonly string[];
  readonly seriesReviewed: number;
  readonly revisionsLabelled: number;
}

function pct(n: number, d: number): string {
  return d === 0 ? "-" : `${((100 * n) / d).toFixed(1)}%`;
}

function row(cells: readonly (string | number)[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join("  ").trimEnd();
}

function place(f: PlacedFinding): string {
  return `${f.series.id} v${f.version} ${f.patch}  <${f.messageId}>\n    ${f.rule} [${f.severity}, ${f.risk}] ${f.file}:${f.line}` +
    `${f.function ? ` (${f.function})` : ""}\n    ${oneLine(f.message)}`;
}

export function renderReport(facts: RunFacts, s: Scored): string {
  const out: string[] = [];
  out.push(`dmabuf-review evaluation on ${facts.archive}`);
  out.push(
    `labelled series: ${facts.positives} positive, ${facts.negatives} negative; ${facts.revisionsLabelled} revisions; ` +
      `messages read: ${facts.messagesRead} (${facts.messagesMissing} not in the archive, ${facts.skipped.length} skipped); ` +
      `series reviewed: ${facts.seriesReviewed}`,
  );
  out.push("");
  const head = ["rule", "warnings", "info", "match", "contradict", "unlabelled", "precision", "caught"];
  const lines = [...s.rules, s.overall].map((t) => [
    t.rule,
    t.warnings,
    t.info,
    t.matched,
    t.contradicted,
    t.unlabelled,
    pct(t.matched, t.warnings),
    t.caught.size,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  out.push(row(head, widths));
  for (const l of lines) out.push(row(l, widths));
  out.push("");
  const o = s.overall;
  out.push(`warnings (warning and above): ${o.warnings}; info: ${o.info}`);
  out.push(`match a label: ${o.matched}; contradict one: ${o.contradicted}; unlabelled: ${o.unlabelled}`);
  out.push(`precision (match / warnings): ${pct(o.matched, o.warnings)}`);
  const x = s.outsideOverlap;
  out.push(`precision outside the independent_overlap series: ${pct(x.matched, x.warnings)} (${x.matched}/${x.warnings})`);
  out.push(`warnings on negative series: ${s.warningsOnNegatives}`);
  out.push("labelled concerns caught (recall):");
  for (const r of s.recall) out.push(`  ${r.name}: ${r.caught}/${r.total} (${pct(r.caught, r.total)})`);
  out.push("");
  out.push(`== contradictions (${s.contradictions.length}) ==`);
  for (const c of s.contradictions) out.push(`${place(c.finding)}\n    why: ${c.why}`);
  out.push("");
  out.push(`== unlabelled warnings (${s.unlabelled.length}) ==`);
  for (const f of s.unlabelled) out.push(place(f));
  out.push("");
  out.push(`== labelled concerns missed (${s.missed.length}) ==`);
  for (const { series, expect: e } of s.missed) {
    const where = `${e.file}${e.function ? ` (${e.function})` : ""}`;
    const msg = series.messages.find((m) => m.version === e.version && m.index === e.patch);
    out.push(`${series.id} ${e.id} v${e.version} ${e.patch}  ${msg ? `<${msg.messageId}>` : "(message not in the archive)"}`);
    out.push(`    ${e.risk} ${where} [raised by ${oneLine(e.raisedBy)}]\n    ${oneLine(e.say)}`);
  }
  if (facts.skipped.length > 0) {
    out.push("");
    out.push(`== skipped (${facts.skipped.length}) ==`);
    for (const k of facts.skipped) out.push(k);
  }
  return `${out.join("\n")}\n`;
}
