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

describe("classifyFile gates are conditions that read a fact of the model", () => {
  const path = "drivers/dma-buf/heaps/foo_heap.c";
  const attachHunk = (rows: string[], pre: string[] = []) =>
    [
      `diff --git a/${path} b/${path}`,
      `--- a/${path}`,
      `+++ b/${path}`,
      ...pre,
      `@@ -30,4 +${30 + pre.filter((r) => r.startsWith("+")).length},${4 + rows.length} @@ static int foo_heap_attach(struct dma_buf *dmabuf,`,
      " \tstruct sg_table *table;",
      " \tint ret;",
      " ",
      ...rows.map((r) => `+${r}`),
      " \ta = kzalloc(sizeof(*a), GFP_KERNEL);",
      "",
    ].join("\n");
  const gates = async (diff: string, helpers?: Parameters<typeof classifyFile>[2]) =>
    classifyFile(parseDiff(diff)[0]!, await CParser.load(), helpers).touches.filter((t) => t.kind === "gate");

  it("a helper of a neutral name the file defines is followed: it asks dev_is_dma_coherent()", async () => {
    const helper = ["@@ -20,0 +20,4 @@ struct foo_heap_buffer {", "+static bool foo_needs_sync(struct device *d)", "+{", "+\treturn !dev_is_dma_coherent(d);", "+}"];
    const found = await gates(attachHunk(["\tif (foo_needs_sync(attachment->dev))", "\t\treturn -EOPNOTSUPP;"], helper));
    expect(found).toMatchObject([{ name: "coherency", condition: "foo_needs_sync(attachment->dev)", value: "-EOPNOTSUPP" }]);
  });

  it("a helper defined in another file of the series counts when the caller passes the series' functions", async () => {
    const diff = attachHunk(["\tif (foo_needs_sync(attachment->dev))", "\t\treturn -EOPNOTSUPP;"]);
    expect(await gates(diff)).toEqual([]);
    const helpers = new Map([["foo_needs_sync", { file: "drivers/dma-buf/heaps/foo_util.c", patch: 1, name: "foo_needs_sync", params: ["d"], body: "return !dev_is_dma_coherent(d);", line: 3 }]]);
    expect(await gates(diff, helpers)).toMatchObject([{ name: "coherency" }]);
  });

  it("tests on peer2peer and on the attachment's direction are gates", async () => {
    expect(await gates(attachHunk(["\tif (!attachment->peer2peer)", "\t\treturn -EOPNOTSUPP;"]))).toMatchObject([{ name: "importer-p2p" }]);
    expect(await gates(attachHunk(["\tif (attachment->dir != DMA_BIDIRECTIONAL)", "\t\treturn -EINVAL;"]))).toMatchObject([{ name: "map-direction" }]);
  });

  it("ordinary error checks stay quiet", async () => {
    expect(await gates(attachHunk(["\tif (!sgt)", "\t\treturn -ENOMEM;"]))).toEqual([]);
    expect(await gates(attachHunk(["\tif (IS_ERR(table))", "\t\treturn PTR_ERR(table);"]))).toEqual([]);
    expect(await gates(attachHunk(["\tif (ret < 0)", "\t\treturn -EINVAL;"]))).toEqual([]);
  });

  it("a branch that does work and fails only if that work fails is no gate", async () => {
    const branch = [
      "\tif (dma_buf_attachment_is_dynamic(attach) != dma_buf_is_dynamic(dmabuf)) {",
      "\t\tsgt = dmabuf->ops->map_dma_buf(attach, DMA_BIDIRECTIONAL);",
      "\t\tif (IS_ERR(sgt)) {",
      "\t\t\tret = PTR_ERR(sgt);",
      "\t\t\tgoto err_unlock;",
      "\t\t}",
      "\t\tattach->sgt = sgt;",
      "\t}",
    ];
    expect(await gates(attachHunk(branch))).toEqual([]);
    const refusal = ["\tif (!attachment->peer2peer) {", '\t\tdev_dbg(attachment->dev, "no p2p; refused\\n");', "\t\tret = -EOPNOTSUPP;", "\t\tgoto err_free;", "\t}"];
    expect(await gates(attachHunk(refusal))).toMatchObject([{ name: "importer-p2p", value: "-EOPNOTSUPP" }]);
  });
});

describe("classifyFile outside the dma-buf surface", () => {
  const diff = (lines: string[]) =>
    ["diff --git a/drivers/gpu/drm/foo/foo_gem.c b/drivers/gpu/drm/foo/foo_gem.c", "--- a/drivers/gpu/drm/foo/foo_gem.c", "+++ b/drivers/gpu/drm/foo/foo_gem.c", ...lines, ""].join("\n");

  it("reads the calls of a file that names nothing of the surface from its tree, as a file on it would", async () => {
    const parser = await CParser.load();
    const lines = ["@@ -10,3 +10,4 @@ static int foo_pin(struct foo_bo *bo)", " \tint ret;", "-\tret = foo_reserve(bo);", "+\tret = dma_resv_lock(bo->resv, NULL);", "+\tfoo_log(bo);", " \treturn ret;"];
    const r = classifyFile(parseDiff(diff(lines))[0]!, parser);
    expect(r).toMatchObject({ area: "other", inScope: false, touches: [], unplaced: [], context: [], docOnly: false });
    expect(r.functionCalls).toEqual(new Map([["foo_pin", new Set(["dma_resv_lock", "foo_log"])]]));
    expect(r.functionCallsBefore).toEqual(new Map([["foo_pin", new Set(["foo_reserve"])]]));
    // The same lines in a file on the surface: the same calls.
    const onSurface = classifyFile(parseDiff(diff(lines).replaceAll("drivers/gpu/drm/foo/foo_gem.c", "drivers/dma-buf/foo.c"))[0]!, parser);
    expect(onSurface.functionCalls).toEqual(r.functionCalls);
    expect(onSurface.functionCallsBefore).toEqual(r.functionCallsBefore);
  });

  it("says a file that changes only comments changes no code", async () => {
    const parser = await CParser.load();
    const r = classifyFile(parseDiff(diff(["@@ -10,2 +10,2 @@ static int foo_pin(struct foo_bo *bo)", "-\t/* pin it */", "+\t/* pin the object */", " \treturn 0;"]))[0]!, parser);
    expect(r.docOnly).toBe(true);
  });
});
