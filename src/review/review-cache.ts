import type { Series } from "../patch/series.js";
import { BoundedMap } from "./bounded-map.js";
import type { SeriesReview } from "./review-series.js";

/**
 * Reviews kept by what they were computed from. Tracking reviews every revision of a series
 * again, for each new revision and for each reply that may change a verdict: in a busy thread
 * that is the same v1, v2, v3 reviewed over and over. A review depends only on the patches in
 * their slots (a Message-ID names fixed content) and the series' patch count; the series itself
 * (cover letter, replies so far) is taken from the caller, so a kept review never carries old
 * replies.
 */
export class ReviewCache {
  private readonly kept: BoundedMap<string, SeriesReview>;

  // A review with a model result carries its traces (up to half a megabyte): the bound keeps the
  // cache to tens of megabytes per worker.
  constructor(limit = 64) {
    this.kept = new BoundedMap(limit);
  }

  review(series: Series, run: (s: Series) => SeriesReview): SeriesReview {
    const key = keyOf(series);
    const r = this.kept.keep(key, () => threadless(run(series)));
    return { ...r, series };
  }

  /** Let go of a revision's review that nothing will ask for again. */
  forget(series: Series): void {
    this.kept.delete(keyOf(series));
  }
}

function keyOf(series: Series): string {
  return `${series.id}\n${series.total}\n${series.slots.map((m) => m?.messageId ?? "-").join("\n")}`;
}

/**
 * A review as kept: its series without the thread (cover letter, replies, resent copies), which
 * every caller replaces with its own and which, in a busy thread, outweighs the review.
 */
function threadless(r: SeriesReview): SeriesReview {
  return { ...r, series: { ...r.series, cover: undefined, duplicates: [], replies: new Map() } };
}
