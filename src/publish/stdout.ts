import type { Review } from "../review/review.js";
import type { SeriesReview } from "../review/review-series.js";
import { jsonClose, jsonSeries, JSON_OPEN } from "../review/render/json.js";
import { textClose, textSeries } from "../review/render/text.js";
import type { PublishTarget, Receipt, ThreadRef } from "./target.js";

export type OutputFormat = "text" | "json";

/**
 * The review of an input written as it goes: each series as soon as it is reviewed, then what
 * was skipped. Nothing is held but the series being written, so the output of a large mbox is
 * bounded by its largest series, not by its length.
 */
export interface ReviewWriter {
  series(review: SeriesReview): Promise<void>;
  end(tail: Pick<Review, "skipped" | "orphanReplies">): Promise<void>;
}

export function stdoutWriter(format: OutputFormat, out: NodeJS.WritableStream = process.stdout): ReviewWriter {
  let count = 0;
  // Each write waits for its callback: a slow reader (a pipe into less) holds the review, not memory.
  const write = (text: string) => new Promise<void>((resolve, reject) => out.write(text, (err) => (err ? reject(err) : resolve())));
  return {
    async series(review) {
      const head = format === "json" && count === 0 ? JSON_OPEN : "";
      await write(head + (format === "json" ? jsonSeries(review, count) : textSeries(review, count)));
      count++;
    },
    async end(tail) {
      const head = format === "json" && count === 0 ? JSON_OPEN : "";
      await write(head + (format === "json" ? jsonClose(count, tail) : textClose(count, tail)));
    },
  };
}

/** The CLI's target: a whole review, series by series, to a stream. */
export function stdoutTarget(format: OutputFormat, out: NodeJS.WritableStream = process.stdout): PublishTarget {
  return {
    name: "stdout",
    async publish(review: Review, _thread: ThreadRef): Promise<Receipt[]> {
      const writer = stdoutWriter(format, out);
      for (const s of review.series) await writer.series(s);
      await writer.end(review);
      return [{ target: "stdout", ok: true, what: "review" }];
    },
  };
}
