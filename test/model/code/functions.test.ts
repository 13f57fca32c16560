import { describe, expect, it } from "vitest";
import { seriesCode } from "../../../src/model/code/functions.js";
import { parseDiff } from "../../../src/patch/diff.js";

const diff = (body: readonly string[], start = 1) =>
  [
    "diff --git a/drivers/dma-buf/heaps/foo_heap.c b/drivers/dma-buf/heaps/foo_heap.c",
    "--- a/drivers/dma-buf/heaps/foo_heap.c",
    "+++ b/drivers/dma-buf/heaps/foo_heap.c",
    `@@ -${start - 1},0 +${start},${body.length} @@`,
    ...body.map((l) => `+${l}`),
    "",
  ].join("\n");

describe("functions a series defines", () => {
  it("are cut at their own closing brace when a literal or a comment holds a brace or a comment marker", () => {
    const code = seriesCode([
      {
        patch: 1,
        files: parseDiff(
          diff([
            "static int foo_sep(char c)",
            "{",
            "\tpr_debug(\"sep // {\\n\");",
            "\treturn c == '}';",
            "}",
            "",
            "static bool foo_needs_sync(struct device *d)",
            "{",
            "\treturn !dev_is_dma_coherent(d);",
            "}",
          ]),
        ),
      },
    ]);
    expect([...code.functions.keys()]).toEqual(["foo_sep", "foo_needs_sync"]);
    // The whole body, literals blanked: the '}' did not end the function.
    expect(code.functions.get("foo_sep")!.body).toMatch(/return c == ' ';\s*$/);
    expect(code.functions.get("foo_needs_sync")!.body.trim()).toBe("return !dev_is_dma_coherent(d);");
  });

  it("are placed at their definition's line in the new file, for every function and ops table of a long hunk", () => {
    const body: string[] = [];
    for (let i = 0; i < 300; i++) body.push(`static int foo_${i}(int a)`, "{", "\treturn a;", "}", "");
    body.push("static const struct dma_buf_ops foo_ops = {", "\t.release = foo_0,", "};");
    const code = seriesCode([{ patch: 1, files: parseDiff(diff(body, 10)) }]);
    expect([0, 1, 150, 299].map((i) => code.functions.get(`foo_${i}`)?.line)).toEqual([10, 15, 760, 1505]);
    expect(code.ops[0]?.line).toBe(1510);
  });
});
