import type { Risk, Severity } from "../analysis/rules/schema.js";

/** One message of the model, by id (rules/catalog/model-findings.yaml). */
export interface ModelMessage {
  readonly id: string;
  /** The finding's rule id, for messages that open a finding. */
  readonly rule?: string;
  readonly severity?: Severity;
  readonly risk?: Risk;
  readonly text: string;
}

/** A kind of model result, as the JSON contract names it, with its label and the findings that report it. */
export interface ResultCategory {
  readonly key: "falsePositives" | "userspace" | "newHazards" | "missed" | "fixed" | "slower" | "introduced";
  readonly label: string;
  readonly rules: readonly string[];
}

export interface ModelTexts {
  readonly categories: readonly ResultCategory[];
  readonly messages: ReadonlyMap<string, ModelMessage>;
}

export function message(texts: ModelTexts, id: string): ModelMessage {
  const m = texts.messages.get(id);
  if (!m) throw new Error(`model message ${id} is not in rules/catalog/model-findings.yaml`);
  return m;
}

/**
 * A message's text with its {placeholders} filled. `{What}` is `what` capitalised, for the
 * start of a sentence. A placeholder without a value is a programmer error.
 */
export function fillMessage(texts: ModelTexts, id: string, values: Readonly<Record<string, string | number>> = {}): string {
  return message(texts, id).text.replace(/\{(\w+)\}/g, (_, name: string) => {
    const lower = name[0]!.toLowerCase() + name.slice(1);
    const v = values[name] ?? (name !== lower ? values[lower] : undefined);
    if (v === undefined) throw new Error(`model message ${id}: no value for {${name}}`);
    const s = String(v);
    return name !== lower && values[name] === undefined ? s[0]!.toUpperCase() + s.slice(1) : s;
  });
}
