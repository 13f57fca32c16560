import { describe, expect, it } from "vitest";
import { loadMessages } from "../../src/ingest/mbox/messages.js";
import { CParser } from "../../src/patch/c-source.js";
import { groupSeries, type Series } from "../../src/patch/series.js";
import { ReviewCache } from "../../src/review/review-cache.js";
import { reviewSeries, type SeriesReview } from "../../src/review/review-series.js";
import { fixture } from "../helpers/mail.js";
import { bundledRules } from "../helpers/review.js";

async function dmaCoherent(): Promise<Series> {
  return groupSeries((await loadMessages(fixture("series/dma-coherent-v1.mbox"))).messages).series[0]!;
}

describe("ReviewCache", () => {
  it("reviews a series once, and hands the kept review back with the caller's series", async () => {
    const [series, rules, parser] = await Promise.all([dmaCoherent(), bundledRules(), CParser.load()]);
    const cache = new ReviewCache();
    let runs = 0;
    const run = (s: Series): SeriesReview => {
      runs++;
      return reviewSeries(s, rules, parser);
    };
    const first = cache.review(series, run);
    // The same patches with replies that came in since: the review is the same, the series is the new one.
    const later: Series = { ...series, replies: new Map() };
    const second = cache.review(later, run);
    expect(runs).toBe(1);
    expect(second.series).toBe(later);
    expect(second.patches).toBe(first.patches);
  });

  it("keeps a review without the thread of the series it was first asked for", () => {
    const cache = new ReviewCache(2);
    const reply = { messageId: "reply@example.org" };
    const series = { id: "a", total: 1, slots: [], cover: reply, duplicates: [reply], replies: new Map([["a", [reply]]]) } as unknown as Series;
    const first = cache.review(series, (x) => ({ series: x, patches: [], model: undefined }) as unknown as SeriesReview);
    expect(first.series).toBe(series);
    const kept = [...(cache as unknown as { kept: Map<string, SeriesReview> }).kept.values()][0]!;
    expect(kept.series.replies.size).toBe(0);
    expect(kept.series.duplicates).toEqual([]);
    expect(kept.series.cover).toBeUndefined();
  });

  it("reviews again when a slot holds another message or a patch is missing", async () => {
    const [series, rules, parser] = await Promise.all([dmaCoherent(), bundledRules(), CParser.load()]);
    const cache = new ReviewCache();
    let runs = 0;
    const run = (s: Series) => {
      runs++;
      return reviewSeries(s, rules, parser);
    };
    cache.review(series, run);
    cache.review({ ...series, slots: [series.slots[0], undefined, series.slots[2]] }, run);
    const resent = { ...series.slots[1]!, messageId: "resent-2@example.org" };
    cache.review({ ...series, slots: [series.slots[0], resent, series.slots[2]] }, run);
    expect(runs).toBe(3);
  });

  it("keeps at most its limit, dropping the least recently used", () => {
    const cache = new ReviewCache(2);
    const s = (id: string) => ({ id, total: 1, slots: [] }) as unknown as Series;
    const runs: string[] = [];
    const run = (x: Series) => {
      runs.push(x.id);
      return { series: x, patches: [], model: undefined } as SeriesReview;
    };
    cache.review(s("a"), run);
    cache.review(s("b"), run);
    cache.review(s("a"), run); // a is now the most recent
    cache.review(s("c"), run); // drops b
    cache.review(s("a"), run);
    cache.review(s("b"), run);
    expect(runs).toEqual(["a", "b", "c", "b"]);
  });
});
