import type { Rule } from "../analysis/rules/match.js";
import type { CParser } from "../patch/c-source.js";
import type { Message } from "../patch/message.js";
import { groupSeries } from "../patch/series.js";
import type { Severity } from "../analysis/rules/schema.js";
import { worstOf } from "./finding.js";
import { reviewSeries, type ModelContext, type SeriesReview } from "./review-series.js";

/** A message the input held but that could not be reviewed, and why. */
export interface Skip {
  readonly source: string;
  readonly messageId: string | undefined;
  readonly reason: string;
  readonly detail: string;
}

export interface Review {
  readonly series: readonly SeriesReview[];
  readonly skipped: readonly Skip[];
  /** Replies whose patch is not in the input. */
  readonly orphanReplies: readonly Message[];
}

export function reviewMessages(
  messages: readonly Message[],
  skipped: readonly Skip[],
  rules: readonly Rule[],
  parser: CParser,
  model?: ModelContext,
  onProgress?: (done: number, total: number) => void,
): Review {
  const grouped = groupSeries(messages);
  return {
    series: grouped.series.map((s, i, all) => {
      const reviewed = reviewSeries(s, rules, parser, model);
      onProgress?.(i + 1, all.length);
      return reviewed;
    }),
    skipped,
    orphanReplies: grouped.orphanReplies,
  };
}

export function worstSeverity(review: Review): Severity | undefined {
  return worstOf(review.series.flatMap((s) => s.patches.flatMap((p) => p.findings)));
}
