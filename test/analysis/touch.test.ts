import { describe, expect, it } from "vitest";
import { classifyFile } from "../../src/analysis/touch.js";
import { MAX_FILE_DIFF_LINES } from "../../src/errors.js";
import { CParser } from "../../src/patch/c-source.js";
import { parseDiff } from "../../src/patch/diff.js";

/** A diff of one dma-buf heap file whose single hunk adds `n` lines, each a cache-maintenance call. */
function addedLines(n: number): string {
  const rows = Array.from({ length: n }, (_, i) => `+\tdma_sync_sgtable_for_cpu(dev, sgt[${i}], dir);`);
  const path = "drivers/dma-buf/heaps/foo_heap.c";
  return [`diff --git a/${path} b/${path}`, `--- a/${path}`, `+++ b/${path}`, `@@ -10,0 +11,${n} @@ static int foo_begin_cpu_access(struct dma_buf *dmabuf)`, ...rows, ""].join("\n");
}

describe("classifyFile limits", () => {
  it("lists a file over MAX_FILE_DIFF_LINES as not reviewed, with the count and the limit, in scope by its path", async () => {
    const parser = await CParser.load();
    const [file] = parseDiff(addedLines(MAX_FILE_DIFF_LINES + 1));
    const r = classifyFile(file!, parser);
    expect(r).toMatchObject({ inScope: true, touches: [], docOnly: false });
    expect(r.notReviewed).toBe(`not reviewed: ${(MAX_FILE_DIFF_LINES + 1).toLocaleString("en-US")}-line hunk, over the limit of ${MAX_FILE_DIFF_LINES.toLocaleString("en-US")} lines`);
  });
});

describe("classifyFile gates", () => {
  it("gives a coherency gate that fails with a bare goto its label as the value, as one with -E gives the errno", async () => {
    const parser = await CParser.load();
    const gate = (then: string) => {
      const path = "drivers/dma-buf/dma-buf.c";
      const diff = [
        `diff --git a/${path} b/${path}`,
        `--- a/${path}`,
        `+++ b/${path}`,
        "@@ -10,3 +10,5 @@ struct dma_buf_attachment *dma_buf_attach(struct dma_buf *dmabuf, struct device *dev)",
        " \tattach = kzalloc(sizeof(*attach), GFP_KERNEL);",
        "+\tif (!dev_is_dma_coherent(dev) && dmabuf->coherent)",
        `+\t\t${then}`,
        " \tattach->dev = dev;",
        " \treturn attach;",
        "",
      ].join("\n");
      return classifyFile(parseDiff(diff)[0]!, parser).touches.filter((t) => t.kind === "gate");
    };
    expect(gate("goto err_attach;")).toMatchObject([{ function: "dma_buf_attach", value: "goto err_attach", detail: "if (!dev_is_dma_coherent(dev) && dmabuf->coherent) → goto err_attach" }]);
    expect(gate("return ERR_PTR(-EINVAL);")).toMatchObject([{ value: "-EINVAL" }]);
  });
});
