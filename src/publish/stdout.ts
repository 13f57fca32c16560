import type { Review } from "../review/review.js";
import { renderJson } from "../review/render/json.js";
import { renderText } from "../review/render/text.js";
import type { PublishTarget, Receipt, ThreadRef } from "./target.js";

export type OutputFormat = "text" | "json";

/** The CLI's target: the whole review, rendered once, to a stream. */
export function stdoutTarget(format: OutputFormat, out: NodeJS.WritableStream = process.stdout): PublishTarget {
  return {
    name: "stdout",
    async publish(review: Review, _thread: ThreadRef): Promise<Receipt[]> {
      const text = format === "json" ? renderJson(review) : renderText(review);
      await new Promise<void>((resolve, reject) => out.write(text, (err) => (err ? reject(err) : resolve())));
      return [{ target: "stdout", ok: true, what: "review" }];
    },
  };
}
