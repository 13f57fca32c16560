import type { Touch } from "../analysis/touch.js";
import type { ConfigChange } from "../model/compare.js";
import { BoundedMap } from "../review/bounded-map.js";
import type { PatchReview, SeriesReview } from "../review/review-series.js";
import { headingFunction } from "./anchor.js";

/**
 * The review points this bot can check against the code and the coherency model rather than by
 * words alone: the three the 2022 dma_coherent thread kept coming back to. Each has the cues
 * that recognise it in a reviewer's text and a judge that looks at the next revision.
 */
export type ConcernId = "per-attachment" | "userspace-regression" | "exporter-override";

/** Both revisions as reviewed, the model re-run on each. */
export interface ConcernContext {
  readonly older: SeriesReview;
  readonly newer: SeriesReview;
}

export interface Judgement {
  readonly status: "addressed" | "not addressed";
  readonly evidence: readonly string[];
}

export interface Concern {
  readonly id: ConcernId;
  readonly title: string;
  /** Two or more must match for a text to be about this concern. */
  readonly cues: readonly RegExp[];
  judge(ctx: ConcernContext): Judgement;
}

const DEVICE_QUERY = /\bdev_(is_)?dma_coherent\s*\(/;
const PER_ATTACHMENT_CAUSE = "coherency is decided per attachment";
const GATE_WITHOUT_OVERRIDE = "attach/gate-without-override";

function label(r: SeriesReview, p: PatchReview): string {
  return `v${r.series.revision} ${p.index}/${p.total}`;
}

function where(t: Touch): string {
  return `${t.file}:${t.line}${t.function ? ` in ${t.function}()` : ""}`;
}

function touches(r: SeriesReview, keep: (t: Touch) => boolean): { p: PatchReview; t: Touch }[] {
  return r.patches.flatMap((p) => p.touches.filter(keep).map((t) => ({ p, t })));
}

const addedGate = (t: Touch) => t.kind === "gate" && t.change !== "removed";

/**
 * The revision's attach-time checks the model could not evaluate (a condition over a symbol it
 * does not know). Its counts then say nothing about them, and the code alone is evidence.
 */
function unmodelledGates(r: SeriesReview): string[] {
  const effects = r.model?.result.effects ?? [];
  return touches(r, addedGate).flatMap(({ p, t }) =>
    effects
      .filter((e) => e.kind === "not-modelled" && e.source.patch === p.index && e.source.file === t.file && e.source.line === t.line)
      .map((e) => `model: the check at ${where(t)} is not modelled (${e.kind === "not-modelled" ? e.reason : ""}), so its configurations are judged by the code alone`),
  );
}

/**
 * A stable example: one that works today first (that is what a regression breaks), arm64 first
 * (where most non-coherent importers live), then by name.
 */
function example(list: readonly ConfigChange[]): ConfigChange | undefined {
  const works = (c: ConfigChange) => (c.before === "ok" || c.before === "slow" ? 0 : 1);
  return [...list].sort(
    (a, b) =>
      works(a) - works(b) ||
      (a.platform === "arm64" ? 0 : 1) - (b.platform === "arm64" ? 0 : 1) ||
      a.exporter.localeCompare(b.exporter) ||
      a.importer.localeCompare(b.importer) ||
      a.pattern.localeCompare(b.pattern),
  )[0];
}

function showConfig(c: ConfigChange, revision: number): string {
  return `${c.exporter} -> ${c.importer} (${c.platform}), ${c.pattern}: ${c.before} today, ${c.after} with v${revision}`;
}

function perAttachment(r: SeriesReview): readonly ConfigChange[] | undefined {
  return r.model?.result.falsePositives.filter((c) => c.cause?.startsWith(PER_ATTACHMENT_CAUSE));
}

const perAttachmentConcern: Concern = {
  id: "per-attachment",
  title: "coherency is decided per attachment, not per device",
  cues: [
    /\bper[- ]attach(ment)?\b/i,
    /\b(not|isn'?t|never) (homogeneous|uniform)\b|\bnon-?homogeneous\b/i,
    /\bwhole device\b|\bper[- ]device\b|\bdevice[- ](level|wide)\b|\bone answer (for|per)\b/i,
    /\bdev_is_dma_coherent\b/,
    /\bfalse positives?\b/i,
  ],
  judge({ older, newer }) {
    const evidence: string[] = [];
    const gates = touches(newer, (t) => addedGate(t) && DEVICE_QUERY.test(t.condition ?? ""));
    for (const { p, t } of gates) evidence.push(`${label(newer, p)} still decides per device: ${where(t)}: ${t.detail}`);
    const unmodelled = unmodelledGates(newer);
    evidence.push(...unmodelled);
    const before = perAttachment(older);
    const after = unmodelled.length > 0 ? undefined : perAttachment(newer);
    const v = newer.series.revision;
    const w = older.series.revision;
    if (after && after.length > 0) {
      evidence.push(
        `model, re-run on v${v}: ${after.length} configurations that work today with correct SYNC are still refused only because ${PER_ATTACHMENT_CAUSE} (v${w}: ${before?.length ?? 0}); e.g. ${showConfig(example(after)!, v)}`,
      );
    } else if (after && before && before.length > 0) {
      evidence.push(`model, re-run on v${v}: none of the ${before.length} configurations v${w} refused because ${PER_ATTACHMENT_CAUSE} is refused any more`);
    }
    if (gates.length === 0 && (!after || after.length === 0)) {
      if (!touches(newer, addedGate).length) evidence.unshift(`v${v} adds no attach-time coherency check`);
      else evidence.unshift(`v${v} no longer asks dev_is_dma_coherent() at attach time`);
      return { status: "addressed", evidence };
    }
    return { status: "not addressed", evidence };
  },
};

const userspaceConcern: Concern = {
  id: "userspace-regression",
  title: "imports that work today keep working",
  cues: [
    /\buser ?space\b/i,
    /\bregress(ion|ions|es|ed)?\b/i,
    /\bworks? today\b|\bused to work\b|\bthat works?\b/i,
    /\bbreak(s|ing)? (user|existing|applications?)\b/i,
    /\bcopy\b|\bfall ?back\b/i,
  ],
  judge({ older, newer }) {
    const evidence: string[] = [];
    const v = newer.series.revision;
    const w = older.series.revision;
    const gates = touches(newer, addedGate);
    for (const { p, t } of gates) evidence.push(`${label(newer, p)} still adds a failure userspace imports reach: ${where(t)}: ${t.detail}`);
    const unmodelled = unmodelledGates(newer);
    evidence.push(...unmodelled);
    const before = older.model?.result.userspace;
    const after = unmodelled.length > 0 ? undefined : newer.model?.result.userspace;
    if (after && after.length > 0) {
      const e = example(after)!;
      const seen = e.entryPoints && e.entryPoints.length > 0 ? `, seen by userspace as a failed ${e.entryPoints.slice(0, 2).join(" or ")}` : "";
      evidence.push(
        `model, re-run on v${v}: ${after.length} exporter/importer/platform attachments that import today fail (v${w}: ${before?.length ?? 0}); e.g. ${e.exporter} -> ${e.importer} (${e.platform}): ${e.before} today, ${e.after} with v${v}${seen}`,
      );
      return { status: "not addressed", evidence };
    }
    if (after) {
      evidence.push(`model, re-run on v${v}: no attachment that imports today fails (v${w}: ${before?.length ?? 0})`);
      return { status: "addressed", evidence };
    }
    if (gates.length > 0) return { status: "not addressed", evidence };
    return { status: "addressed", evidence: [`v${v} adds no attach-time failure`] };
  },
};

/** Added lines of a revision that call `fn` outside its own definition. */
function callers(r: SeriesReview, fn: string): string[] {
  const out: string[] = [];
  const call = new RegExp(`\\b${fn}\\s*\\(`);
  for (const p of r.patches) {
    for (const f of p.message.files) {
      for (const h of f.hunks) {
        const inside = headingFunction(h.heading);
        for (const l of h.lines) {
          if (l.type !== "+" || !call.test(l.text) || inside === fn) continue;
          if (new RegExp(`^\\w[\\w\\s*]*\\b${fn}\\s*\\(`).test(l.text)) continue; // its own definition or prototype
          out.push(`${label(r, p)} uses it: ${f.path}:${l.newLine}${inside ? ` in ${inside}()` : ""}: ${l.text.trim()}`);
        }
      }
    }
  }
  return out;
}

const overrideConcern: Concern = {
  id: "exporter-override",
  title: "exporters can override the coherency decision",
  cues: [
    /\boverrid(e|es|ing|den)\b/i,
    /\bopt[- ]?out\b/i,
    /\bclear(s|ing)?\b/i,
    /\bcallback\b/i,
    /\bexporters?\b[^.?!]{0,30}\b(should|could|can|needs? to|must|be able|decide)\b|\blet(ting)? (the )?exporters?\b/i,
  ],
  judge({ older, newer }) {
    const evidence: string[] = [];
    const v = newer.series.revision;
    const w = older.series.revision;
    const clears = touches(newer, (t) => t.kind === "flag-set" && t.change !== "removed" && /^(false|0)$/.test((t.value ?? "").trim()));
    for (const { p, t } of clears) {
      evidence.push(`${label(newer, p)} lets the exporter clear the flag: ${where(t)}: ${t.detail}`);
      if (t.function) evidence.push(...callers(newer, t.function));
    }
    const asks = touches(newer, (t) => addedGate(t) && /->ops->|\bops\./.test(t.condition ?? ""));
    for (const { p, t } of asks) evidence.push(`${label(newer, p)} lets the exporter decide at attach time: ${where(t)}: ${t.detail}`);
    const members = touches(newer, (t) => t.kind === "struct-field" && t.change === "added" && t.detail.startsWith("struct dma_buf_ops:"));
    for (const { p, t } of members) evidence.push(`${label(newer, p)} adds a dma_buf_ops member: ${t.file}:${t.line}: ${t.detail}`);

    const finding = (r: SeriesReview) => r.patches.flatMap((p) => p.findings.filter((f) => f.rule === GATE_WITHOUT_OVERRIDE));
    const was = finding(older)[0];
    const is = finding(newer)[0];
    if (was && !is) evidence.push(`the review of v${v} no longer finds ${GATE_WITHOUT_OVERRIDE} (v${w}: ${was.file}:${was.line})`);
    if (is) evidence.push(`the review of v${v} still finds ${GATE_WITHOUT_OVERRIDE} at ${is.file}:${is.line}`);
    const addressed = clears.length > 0 || asks.length > 0 || members.length > 0;
    if (!addressed) evidence.unshift(`v${v} gives exporters no way to override: no exporter clears the flag, no callback is asked at attach time`);
    return { status: addressed ? "addressed" : "not addressed", evidence };
  },
};

export const CONCERNS: readonly Concern[] = [perAttachmentConcern, userspaceConcern, overrideConcern];

// Points, answers and changelog lines are read for their concern again on every tracking.
const keptConcerns = new BoundedMap<string, ConcernId | undefined>(1024);

/** The concern a text is about: the one with most cues, at least two of them. */
export function concernOf(text: string): ConcernId | undefined {
  return keptConcerns.keep(text, readConcern);
}

function readConcern(text: string): ConcernId | undefined {
  let best: { id: ConcernId; n: number } | undefined;
  for (const c of CONCERNS) {
    const n = c.cues.filter((re) => re.test(text)).length;
    if (n >= 2 && (!best || n > best.n)) best = { id: c.id, n };
  }
  return best?.id;
}

export function concernById(id: ConcernId): Concern {
  return CONCERNS.find((c) => c.id === id)!;
}
