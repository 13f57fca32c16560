import type { DmaApiRule, LockFacts } from "./facts.js";

/** A place where a rule's text gives advice against a rule of the DMA API or the lock contract. */
export interface Contradiction {
  readonly field: "message" | "description" | "title";
  readonly rule: Pick<DmaApiRule, "id">;
  readonly text: string;
}

type Texts = Readonly<Partial<Record<Contradiction["field"], string>>>;

/** Each sentence of each text field; advice and the condition that makes it right sit in one. */
function sentences(texts: Texts): { field: Contradiction["field"]; sentence: string }[] {
  const out: { field: Contradiction["field"]; sentence: string }[] = [];
  for (const field of ["title", "description", "message"] as const) {
    const text = texts[field]?.replace(/\s+/g, " ").trim();
    if (text) for (const sentence of text.split(/(?<=[.;:])\s+/)) out.push({ field, sentence });
  }
  return out;
}

const HOLD_ADVICE = /\b(take|hold|acquire|lock)\b[^.]*\b(resv|reservation)\b|\bunder\b[^.]*\b(resv|reservation) lock\b/i;
const NEGATED = /\b(not|never|drop|dropping|release|releasing|without|before|unlocked)\b|n't\b/i;

/**
 * Advice to hold dmabuf->resv around a call that takes it (or must not be made under it), as
 * rules/catalog/locks.yaml says: the bot must never tell an author to take a lock that the
 * call then takes again.
 */
export function lockContradictions(texts: Texts, locks: LockFacts): Contradiction[] {
  const forbidden = [...locks.functions.values()].filter((f) => f.contract !== "caller-holds").map((f) => f.name);
  const out: Contradiction[] = [];
  for (const { field, sentence } of sentences(texts)) {
    if (!HOLD_ADVICE.test(sentence) || NEGATED.test(sentence)) continue;
    const named = forbidden.find((n) => new RegExp(`\\b${n}\\b`).test(sentence));
    if (named) out.push({ field, rule: { id: `lock-contract ${named}` }, text: sentence });
  }
  return out;
}

/**
 * Rule texts read against the DMA API's own rules, one sentence at a time (advice and the
 * condition that makes it right sit in one sentence); line breaks of folded YAML do not matter.
 */
export function dmaApiContradictions(texts: Texts, rules: readonly DmaApiRule[]): Contradiction[] {
  const out: Contradiction[] = [];
  for (const { field, sentence } of sentences(texts)) {
    for (const rule of rules) {
      if (rule.contradictedBy.some((re) => re.test(sentence))) out.push({ field, rule, text: sentence });
    }
  }
  return out;
}
