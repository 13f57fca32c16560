import { loadRules } from "../../src/analysis/rules/load.js";
import type { Rule } from "../../src/analysis/rules/match.js";
import { loadMessages } from "../../src/ingest/mbox/messages.js";
import { CParser } from "../../src/patch/c-source.js";
import { reviewMessages, type Review } from "../../src/review/review.js";

let rules: Promise<Rule[]> | undefined;

/** The bundled rules, loaded once per test file. */
export function bundledRules(): Promise<Rule[]> {
  rules ??= loadRules();
  return rules;
}

/** Review a fixture path end to end, as the CLI does. */
export async function reviewPath(path: string): Promise<Review> {
  const [r, parser, loaded] = await Promise.all([bundledRules(), CParser.load(), loadMessages(path)]);
  return reviewMessages(loaded.messages, loaded.skipped, r, parser);
}

export function allFindings(review: Review) {
  return review.series.flatMap((s) => s.patches.flatMap((p) => p.findings));
}
