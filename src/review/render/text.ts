import type { Review } from "../review.js";
import type { PatchReview, SeriesReview } from "../review-series.js";
import { repeatKey, type Finding } from "../finding.js";
import type { Touch } from "../../analysis/touch.js";
import { wrap } from "./wrap.js";
import { owner } from "../model-findings.js";

function patchLabel(p: PatchReview): string {
  return p.message.parsedSubject.clean || p.message.subject;
}

/** One line per file: what the patch touches there, in kernel words. */
function touchSummary(p: PatchReview): string[] {
  const out: string[] = [];
  for (const f of p.files) {
    if (!f.inScope) continue;
    const parts: string[] = [];
    const seen = new Set<string>();
    for (const t of f.touches) {
      const label = describeTouch(t);
      if (seen.has(label)) continue;
      seen.add(label);
      parts.push(label);
    }
    const what = f.notReviewed ?? (f.docOnly ? (f.area === "documentation" ? "documentation only" : "comments only") : parts.length > 0 ? parts.join("; ") : "no dma-buf calls or ops changed");
    wrap(`${f.file.path} [${f.area}]: ${what}`, 72, "  ").forEach((l, i) => out.push(i === 0 ? l : `    ${l.trim()}`));
  }
  return out;
}

function describeTouch(t: Touch): string {
  const where = t.function ? ` in ${t.function}()` : "";
  switch (t.kind) {
    case "ops-member":
      return t.detail.startsWith(".") ? `${t.change} ${t.detail}` : `${t.name} (${t.function ?? "?"}) ${t.change}`;
    case "gate":
      // The function names where the gate sits (attach or map); the kind alone does not.
      return `${t.change} gate${where}: ${t.condition ?? ""}`;
    case "flag-set":
      return `${t.change} ${t.detail}${where}`;
    case "struct-field":
      return `${t.change} field ${t.detail}`;
    default:
      return `${t.change} ${t.name}${where}`;
  }
}

/**
 * Findings at one place share one quote, as a reviewer writes one reply under the lines; a
 * rule that already spoke in this patch says so briefly instead of repeating itself.
 */
function renderFindings(findings: readonly Finding[]): string[] {
  const out: string[] = [];
  const said = new Map<string, Finding>();
  const places = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = `${f.file}:${f.line}`;
    const group = places.get(key);
    if (group) group.push(f);
    else places.set(key, [f]);
  }
  for (const group of places.values()) {
    const first = group[0]!;
    out.push("", `${first.file}:${first.line}${first.function ? `, in ${first.function}()` : ""}:`);
    for (const q of first.quote) out.push(`> ${q}`);
    for (const f of group) {
      out.push("");
      const earlier = said.get(repeatKey(f));
      if (earlier) {
        out.push(...wrap(`Same as ${earlier.file}:${earlier.line} above (${f.rule}).`));
        continue;
      }
      said.set(repeatKey(f), f);
      out.push(...wrap(f.message));
      if (f.details && f.details.length > 0) {
        out.push("");
        for (const d of f.details) {
          const indent = d.match(/^ */)![0];
          out.push(...wrap(d.trim(), 72, `  ${indent}`).map((l, i) => (i === 0 ? l : `  ${indent}  ${l.trim()}`)));
        }
      }
      out.push("");
      out.push(`  [${f.severity}] ${f.rule} (${f.risk})`);
      for (const e of f.evidence) out.push(...wrap(e, 72, "    ").map((l, i) => (i === 0 ? `  - ${l.trim()}` : l)));
    }
  }
  return out;
}

function renderPatch(p: PatchReview): string[] {
  const out: string[] = [`[PATCH ${p.total > 1 ? `${p.index}/${p.total}` : ""}] ${p.message.parsedSubject.title}`.replace("[PATCH ]", "[PATCH]")];
  if (p.outOfScope) {
    out.push("  out of scope: does not touch dma-buf.");
    return out;
  }
  for (const l of touchSummary(p)) out.push(l);
  if (p.docOnly) {
    out.push("  only comments or documentation changed: nothing to review.");
    return out;
  }
  for (const u of p.unplaced) out.push(`  note: could not place hunk "@@ ${u.heading}" at ${u.file}:${u.line}: ${u.reason}`);
  if (p.findings.length === 0) {
    out.push("  no findings.");
    return out;
  }
  for (const l of renderFindings(p.findings)) out.push(l);
  return out;
}

/** The series-level verdict of the model in a few lines (the cover-letter summary). */
export function modelSummary(s: SeriesReview): string[] {
  if (!s.model) return [];
  const r = s.model.result;
  const isUserspace = (c: (typeof r.newHazards)[number]) => {
    const o = owner(c, r.effects);
    return o?.kind === "userspace-misuse" || o?.kind === "import-refusable";
  };
  const attachments = (l: typeof r.falsePositives) => new Set(l.map((c) => `${c.exporter}|${c.importer}|${c.platform}`)).size;
  const kernelEffects = r.effects.some((e) => e.kind === "gate" || e.kind === "flag" || e.kind === "exporter" || e.kind === "importer-bracketing");
  const notModelled = r.effects.filter((e) => e.kind === "not-modelled").length;
  const lines: string[] = [];
  if (kernelEffects) {
    const perAttachment = r.falsePositives.filter((c) => c.cause?.startsWith("coherency is decided per attachment")).length;
    lines.push(
      `Model (${s.model.catalog}, ${r.evaluated} configurations before and after the series): ` +
        `${r.falsePositives.length} newly rejected that work today with correct SYNC (${perAttachment} of them because coherency is decided per attachment), ` +
        `${r.fixed.length} hazards fixed, ${r.missed.length} left open with correct bracketing, ${r.newHazards.filter((c) => !isUserspace(c)).length} new hazards, ` +
        `${attachments(r.userspace.filter((c) => !isUserspace(c)))} attachments that userspace can no longer import, ${r.slower.length} slower.`,
    );
  }
  if (r.effects.some((e) => e.kind === "userspace-misuse" || e.kind === "import-refusable")) {
    lines.push(
      `Model (${s.model.catalog}), userspace code as written: ${r.newHazards.filter(isUserspace).length} configurations corrupt data that are correct with the documented DMA_BUF_IOCTL_SYNC use; ` +
        `${attachments(r.userspace.filter(isUserspace))} exporter/importer/platform combinations refuse its imports today.`,
    );
  }
  if (notModelled > 0) lines.push(`${notModelled} changes could not be modelled.`);
  return lines.flatMap((l) => wrap(l, 72, "  "));
}

function renderSeries(s: SeriesReview): string[] {
  const ser = s.series;
  const count = ser.total === 1 ? "1 patch" : `${ser.total} patches`;
  const out = [`Series: ${ser.cover ? ser.cover.parsedSubject.title : ser.title} (v${ser.revision}, ${count}, ${ser.author.name} <${ser.author.email}>)`];
  if (ser.missing.length > 0) out.push(`  missing: patch ${ser.missing.map((i) => `${i}/${ser.total}`).join(", ")} not in the input; reviewed what arrived.`);
  for (const d of ser.duplicates) out.push(`  duplicate: "${d.subject}" (${d.messageId}) not reviewed again.`);
  if (s.model) out.push(...modelSummary(s));
  const replies = [...ser.replies.values()].reduce((n, l) => n + l.length, 0);
  if (replies > 0) out.push(`  replies in thread: ${replies}`);
  for (const p of s.patches) {
    out.push("");
    for (const l of renderPatch(p)) out.push(l);
  }
  return out;
}

export function renderText(review: Review): string {
  return review.series.map((s, i) => textSeries(s, i)).join("") + textClose(review.series.length, review);
}

/** Series number `index` (from 0) of the text output, with the blank lines before it: a writer streams them one by one. */
export function textSeries(s: SeriesReview, index: number): string {
  return `${index > 0 ? "\n\n\n" : ""}${renderSeries(s).join("\n")}`;
}

/** The end of the text output after `count` series: orphan replies and what was skipped. */
export function textClose(count: number, tail: Pick<Review, "skipped" | "orphanReplies">): string {
  const out: string[] = [];
  const n = tail.orphanReplies.length;
  if (n > 0) out.push(`${n} ${n === 1 ? "reply" : "replies"} whose patch is not in the input ${n === 1 ? "was" : "were"} kept aside.`);
  for (const k of tail.skipped) out.push(`skipped ${k.source}${k.messageId ? ` <${k.messageId}>` : ""}: ${k.reason}: ${k.detail}`);
  return `${count === 0 ? "No patches in the input." : ""}${out.map((l) => `\n\n${l}`).join("")}\n`;
}

export { patchLabel };
