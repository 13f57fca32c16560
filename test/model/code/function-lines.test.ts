import { describe, expect, it } from "vitest";
import { seriesCode } from "../../../src/model/code/functions.js";
import { parseDiff } from "../../../src/patch/diff.js";

describe("the line of a function a series defines", () => {
  it("is its definition's line in the new file, for every function and ops table of a long hunk", () => {
    const body: string[] = [];
    for (let i = 0; i < 300; i++) body.push(`static int foo_${i}(int a)`, "{", "\treturn a;", "}", "");
    body.push("static const struct dma_buf_ops foo_ops = {", "\t.release = foo_0,", "};");
    const text = [
      "diff --git a/drivers/dma-buf/heaps/foo_heap.c b/drivers/dma-buf/heaps/foo_heap.c",
      "--- a/drivers/dma-buf/heaps/foo_heap.c",
      "+++ b/drivers/dma-buf/heaps/foo_heap.c",
      `@@ -9,0 +10,${body.length} @@`,
      ...body.map((l) => `+${l}`),
      "",
    ].join("\n");
    const code = seriesCode([{ patch: 1, files: parseDiff(text) }]);
    expect([0, 1, 150, 299].map((i) => code.functions.get(`foo_${i}`)?.line)).toEqual([10, 15, 760, 1505]);
    expect(code.ops[0]?.line).toBe(1510);
  });
});
