import { describe, expect, it } from "vitest";
import { countAsMapped } from "../../src/analysis/sg-count.js";
import { classifyFile } from "../../src/analysis/touch.js";
import { CParser } from "../../src/patch/c-source.js";
import { parseDiff } from "../../src/patch/diff.js";

/** A map callback that maps with sgt->nents and syncs with it; `rows` sit between the two. */
async function syncCountAsMapped(rows: string[]): Promise<boolean> {
  const path = "drivers/dma-buf/heaps/foo_heap.c";
  const added = [
    ...rows,
    "\tif (!dma_map_sg(attach->dev, sgt->sgl, sgt->nents, dir))",
    "\t\treturn ERR_PTR(-ENOMEM);",
    "\tdma_sync_sg_for_device(attach->dev, sgt->sgl, sgt->nents, dir);",
  ];
  const diff = [
    `diff --git a/${path} b/${path}`,
    `--- a/${path}`,
    `+++ b/${path}`,
    `@@ -10,2 +10,${2 + added.length} @@ static struct sg_table *foo_map_dma_buf(struct dma_buf_attachment *attach,`,
    " \tstruct sg_table *sgt = a->table;",
    ...added.map((r) => `+${r}`),
    " \treturn sgt;",
    "",
  ].join("\n");
  const file = classifyFile(parseDiff(diff)[0]!, await CParser.load());
  const sync = file.touches.find((t) => t.name === "dma_sync_sg_for_device");
  expect(sync).toBeDefined();
  return countAsMapped(sync!, file);
}

describe("count as mapped", () => {
  it("an assignment to nents inside a comment over several lines is no assignment", async () => {
    expect(await syncCountAsMapped(["\t/*", "\t * dma_map_sg() may merge entries: sgt->nents = ret would", "\t * lose the count the unmap needs.", "\t */"])).toBe(true);
  });

  it("a // inside a string does not hide an assignment to nents after it", async () => {
    expect(await syncCountAsMapped(['\tpr_debug("see https://lore.kernel.org/"); sgt->nents = 1;'])).toBe(false);
  });

  it("without any assignment the count is the mapped one", async () => {
    expect(await syncCountAsMapped([])).toBe(true);
  });
});
