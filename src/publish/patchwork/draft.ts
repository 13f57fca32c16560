import { patchCheck, type CheckStatus } from "../check-result.js";
import { patchPageUrl } from "../pages/url.js";
import type { SeriesReview } from "../../review/review-series.js";

/** Patchwork's check states (patchwork/models.py, Check.STATE_CHOICES), less "pending". */
export type CheckState = "success" | "warning" | "fail";

const STATE: Record<CheckStatus, CheckState> = { pass: "success", warn: "warning", fail: "fail" };

/** One check as patchwork's POST /api/patches/{id}/checks/ takes it, for the patch with this Message-ID. */
export interface CheckDraft {
  readonly messageId: string;
  readonly context: string;
  readonly state: CheckState;
  readonly description: string;
  readonly targetUrl: string | undefined;
}

export interface DraftOptions {
  /** patchwork's context is a slug (SlugField): one name per bot, the key it keeps the newest check under. */
  readonly context: string;
  /** The service's public base URL; without it the check carries no link. */
  readonly publicUrl: string | undefined;
}

/**
 * A check for each reviewed patch of a series. A patch the review left alone gets none: on a
 * busy list patchwork would otherwise show our column on every unrelated patch of the series.
 */
export function draftChecks(review: SeriesReview, opts: DraftOptions): CheckDraft[] {
  const s = review.series;
  return review.patches
    .filter((p) => !p.outOfScope)
    .map((p) => {
      const r = patchCheck(p);
      return {
        messageId: p.message.messageId,
        context: opts.context,
        state: STATE[r.status],
        description: r.summary,
        targetUrl: opts.publicUrl ? patchPageUrl(opts.publicUrl, p.message.messageId, p.index) : undefined,
      };
    });
}
