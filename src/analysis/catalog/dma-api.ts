import type { DmaApiRule } from "./facts.js";

/** A place where a rule's text gives advice against a rule of the DMA API. */
export interface Contradiction {
  readonly field: "message" | "description" | "title";
  readonly rule: DmaApiRule;
  readonly text: string;
}

/**
 * Rule texts read against the DMA API's own rules, one sentence at a time (advice and the
 * condition that makes it right sit in one sentence); line breaks of folded YAML do not matter.
 */
export function dmaApiContradictions(
  texts: Readonly<Partial<Record<Contradiction["field"], string>>>,
  rules: readonly DmaApiRule[],
): Contradiction[] {
  const out: Contradiction[] = [];
  for (const field of ["title", "description", "message"] as const) {
    const text = texts[field]?.replace(/\s+/g, " ").trim();
    if (!text) continue;
    for (const sentence of text.split(/(?<=[.;:])\s+/)) {
      for (const rule of rules) {
        if (rule.contradictedBy.some((re) => re.test(sentence))) out.push({ field, rule, text: sentence });
      }
    }
  }
  return out;
}
