import { beforeAll, describe, expect, it } from "vitest";
import { loadReviewDeps, type ReviewDeps } from "../../src/channels/context.js";
import { loadOne } from "../../src/ingest/mbox/messages.js";
import type { Message } from "../../src/patch/message.js";
import { reviewMessages } from "../../src/review/review.js";

/** Patch `n` of a two-patch series, threaded under patch 1. */
function mail(n: number, diff: string): string {
  const thread = n > 1 ? "In-Reply-To: <s-1@example.org>\n" : "";
  return `From: Jane Dev <jane.dev@example.org>\nMessage-ID: <s-${n}@example.org>\n${thread}Subject: [PATCH ${n}/2] dma-buf: x\n\nx\n\nSigned-off-by: Jane Dev <jane.dev@example.org>\n---\n${diff}`;
}

const flagFromDevice = [
  "diff --git a/drivers/gpu/drm/foo/foo_gem_prime.c b/drivers/gpu/drm/foo/foo_gem_prime.c",
  "--- a/drivers/gpu/drm/foo/foo_gem_prime.c",
  "+++ b/drivers/gpu/drm/foo/foo_gem_prime.c",
  "@@ -43,3 +43,4 @@ static int foo_dma_buf_attach(struct dma_buf *dmabuf,",
  " \tfa->dev = attach->dev;",
  "+\tdmabuf->coherent = dev_is_dma_coherent(attach->dev);",
  " \tattach->priv = fa;",
  " ",
  "",
].join("\n");

/** An attach gate; without a hunk heading nothing says which function it is in. */
const gate = (heading: string) =>
  [
    "diff --git a/drivers/dma-buf/dma-buf.c b/drivers/dma-buf/dma-buf.c",
    "--- a/drivers/dma-buf/dma-buf.c",
    "+++ b/drivers/dma-buf/dma-buf.c",
    `@@ -10,2 +10,4 @@${heading}`,
    " \tattach = kzalloc(sizeof(*attach), GFP_KERNEL);",
    "+\tif (!dev_is_dma_coherent(dev) && dmabuf->coherent)",
    "+\t\treturn ERR_PTR(-EINVAL);",
    " \tattach->dev = dev;",
    "",
  ].join("\n");

describe("reviewSeries: finding messages", () => {
  let deps: ReviewDeps;
  beforeAll(async () => {
    deps = await loadReviewDeps();
  });

  async function messageOf(rule: string, diffs: readonly string[]): Promise<string | undefined> {
    const messages: Message[] = [];
    for (const [i, d] of diffs.entries()) {
      const r = await loadOne({ bytes: Buffer.from(mail(i + 1, d)), source: `t#${i + 1}` });
      if (!("kind" in r)) throw new Error(`patch ${i + 1} skipped: ${r.reason}`);
      messages.push(r);
    }
    const review = reviewMessages(messages, [], deps.rules, deps.parser, deps.model);
    return review.series.flatMap((s) => s.patches.flatMap((p) => p.findings)).find((f) => f.rule === rule)?.message;
  }

  it("names the series partner by its function, or by file and line when it is in none, never by a raw {with.function}", async () => {
    const named = await messageOf("attach/coherency-flag-from-device", [flagFromDevice, gate(" struct dma_buf_attachment *dma_buf_attach(struct dma_buf *dmabuf, struct device *dev)")]);
    expect(named).toContain("the attach gate added in patch 2/2 (dma_buf_attach()) refuses");
    const unplaced = await messageOf("attach/coherency-flag-from-device", [flagFromDevice, gate("")]);
    expect(unplaced).toContain("the attach gate added in patch 2/2 (drivers/dma-buf/dma-buf.c:11) refuses");
    expect(unplaced).not.toMatch(/\{[\w.]+\}/);
  });
});
