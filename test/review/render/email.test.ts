import { describe, expect, it } from "vitest";
import { forPublishing } from "../../../src/channels/review-pool.js";
import { loadMessages } from "../../../src/ingest/mbox/messages.js";
import { groupSeries } from "../../../src/patch/series.js";
import { renderPatchReply } from "../../../src/review/render/email.js";
import { reviewSeries } from "../../../src/review/review-series.js";
import { loadReviewDeps } from "../../../src/channels/context.js";
import { fixture } from "../../helpers/mail.js";

describe("the e-mail reply to a patch", () => {
  it("gives each line's model finding its own counts, also in a review as published (without its model result)", async () => {
    const deps = await loadReviewDeps();
    const series = groupSeries((await loadMessages(fixture("series/dma-coherent-v1.mbox"))).messages).series[0]!;
    const review = forPublishing(reviewSeries(series, deps.rules, deps.parser, deps.model));
    const p3 = review.patches.find((p) => p.index === 3)!;
    const text = renderPatchReply(p3, p3.findings, ["-- ", "bot"]);
    // The dma-sg and the vmalloc lines each mark other buffers coherent: two counts, no "Same as" between them.
    const counts = [...text.matchAll(/^(\d+) of the series' false positives are buffers this line marks coherent/gm)].map((m) => m[1]);
    expect(counts).toHaveLength(2);
    expect(counts[0]).not.toBe(counts[1]);
    const prose = text.replace(/\n/g, " ");
    expect(prose).not.toContain("(model/false-positive).");
    // A rule's templated finding repeated at the next line is still shortened.
    expect(prose).toContain("Same as at drivers/media/common/videobuf2/videobuf2-dma-contig.c:427 above (attach/coherency-flag-from-v4l2-device).");
  });
});
