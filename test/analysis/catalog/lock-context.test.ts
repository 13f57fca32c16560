import { beforeAll, describe, expect, it } from "vitest";
import { loadFacts, type Facts } from "../../../src/analysis/catalog/facts.js";
import { lockWrappers, resvEvidence, resvStateAt, type ResvState } from "../../../src/analysis/catalog/lock-context.js";
import { allFindings, reviewPath } from "../../helpers/review.js";
import { defaultRulesDir } from "../../../src/analysis/rules/load.js";
import { classifyFile, type FileTouches } from "../../../src/analysis/touch.js";
import { CParser } from "../../../src/patch/c-source.js";
import { parseDiff } from "../../../src/patch/diff.js";

let facts: Facts;
let parser: CParser;
beforeAll(async () => {
  [facts, parser] = await Promise.all([loadFacts(defaultRulesDir()), CParser.load()]);
});

/** A diff that adds `body` (rows of C, `-` rows removed) to a driver file after a context line. */
function fileOf(body: string, path = "drivers/gpu/drm/qux/qux_import.c"): FileTouches {
  const rows = body.replace(/^\n/, "").replace(/\n$/, "").split("\n");
  const lines = rows.map((r) => (r.startsWith("-") ? r : `+${r}`));
  const oldCount = 1 + lines.filter((l) => l.startsWith("-")).length;
  const newCount = 1 + lines.filter((l) => l.startsWith("+")).length;
  const text = [
    `diff --git a/${path} b/${path}`,
    `--- a/${path}`,
    `+++ b/${path}`,
    `@@ -10,${oldCount} +10,${newCount} @@ struct qux_bo;`,
    " #include <linux/dma-buf.h>",
    ...lines,
    "",
  ].join("\n");
  return classifyFile(parseDiff(text)[0]!, parser);
}

/** The lock state at the first touch named `call` in the file. */
function stateAt(file: FileTouches, call: string, others: readonly FileTouches[] = []): ResvState {
  const touch = file.touches.find((t) => t.name === call && t.kind === "framework-call");
  expect(touch, `a touch for ${call}`).toBeDefined();
  return resvStateAt(touch!, file, facts.locks, lockWrappers([file, ...others], facts.locks));
}

const fn = (name: string, rows: string) => `static int ${name}(struct qux_bo *bo, struct iosys_map *map)\n{\n${rows}\n}`;

describe("lock context: held", () => {
  it("sees a dma_resv_lock earlier at the same depth as certain", () => {
    const f = fileOf(fn("qux_a", "\tdma_resv_lock(bo->resv, NULL);\n\treturn dma_buf_vmap(bo->dmabuf, map);"));
    expect(stateAt(f, "dma_buf_vmap")).toMatchObject({ state: "held", certain: true });
  });

  it("sees an assertion as certain", () => {
    const f = fileOf(fn("qux_b", "\tdma_resv_assert_held(bo->resv);\n\treturn dma_buf_vmap(bo->dmabuf, map);"));
    expect(stateAt(f, "dma_buf_vmap")).toMatchObject({ state: "held", certain: true, how: expect.stringContaining("asserts") });
  });

  it("takes lockdep_assert_held only on a reservation object", () => {
    const resv = fileOf(fn("qux_c", "\tlockdep_assert_held(&bo->resv->lock.base);\n\treturn dma_buf_vmap(bo->dmabuf, map);"));
    expect(stateAt(resv, "dma_buf_vmap")).toMatchObject({ state: "held", certain: true });
    const other = fileOf(fn("qux_d", "\tlockdep_assert_held(&bo->mutex);\n\treturn dma_buf_vmap(bo->dmabuf, map);"));
    expect(stateAt(other, "dma_buf_vmap")).toEqual({ state: "unknown" });
  });

  it("keeps the lock held past an unlock on an early exit deeper than the call", () => {
    const rows = "\tdma_resv_lock(bo->resv, NULL);\n\tif (bo->gone) {\n\t\tdma_resv_unlock(bo->resv);\n\t\treturn -ENOENT;\n\t}\n" +
      "\treturn dma_buf_vmap(bo->dmabuf, map);";
    expect(stateAt(fileOf(fn("qux_e", rows)), "dma_buf_vmap")).toMatchObject({ state: "held", certain: true });
  });

  it("counts a lock taken only in a deeper branch as possible, not certain", () => {
    const rows = "\tif (bo->shared) {\n\t\tdma_resv_lock(bo->resv, NULL);\n\t}\n\treturn dma_buf_vmap(bo->dmabuf, map);";
    expect(stateAt(fileOf(fn("qux_f", rows)), "dma_buf_vmap")).toMatchObject({ state: "held", certain: false });
  });

  it("sees a lock wrapper that another file of the series defines, as possible", () => {
    const header = fileOf("static inline void qux_hold(struct qux_bo *bo)\n{\n\tdma_resv_lock(bo->resv, NULL);\n}", "drivers/gpu/drm/qux/qux_drv.h");
    const rows = "\tqux_hold(bo);\n\treturn dma_buf_vmap(bo->dmabuf, map);";
    const f = fileOf(fn("qux_g", rows));
    expect(stateAt(f, "dma_buf_vmap")).toEqual({ state: "unknown" });
    expect(stateAt(f, "dma_buf_vmap", [header])).toMatchObject({ state: "held", certain: false, how: expect.stringContaining("qux_hold") });
  });

  it("reads a _locked function name and a callback the core calls locked as possible", () => {
    expect(stateAt(fileOf(fn("qux_vmap_locked", "\treturn dma_buf_vmap(bo->dmabuf, map);")), "dma_buf_vmap")).toMatchObject({
      state: "held",
      certain: false,
    });
    const cb = "static struct sg_table *qux_map_dma_buf(struct dma_buf_attachment *a, enum dma_data_direction dir)\n{\n" +
      "\treturn dma_buf_map_attachment(a->priv, dir);\n}";
    expect(stateAt(fileOf(cb), "dma_buf_map_attachment")).toMatchObject({ state: "held", certain: false });
  });

  it("lets the _locked name win over a rename from the _unlocked variant", () => {
    const rows = "-\treturn dma_buf_vmap_unlocked(bo->dmabuf, map);\n\treturn dma_buf_vmap(bo->dmabuf, map);";
    expect(stateAt(fileOf(fn("qux_vmap_locked", rows)), "dma_buf_vmap")).toMatchObject({ state: "held" });
  });
});

describe("lock context: not held", () => {
  it("sees the lock released at the call's depth", () => {
    const rows = "\tdma_resv_lock(bo->resv, NULL);\n\tbo->busy = true;\n\tdma_resv_unlock(bo->resv);\n\treturn dma_buf_vmap(bo->dmabuf, map);";
    expect(stateAt(fileOf(fn("qux_h", rows)), "dma_buf_vmap")).toMatchObject({ state: "not-held", how: expect.stringContaining("releases") });
  });

  it("sees a call that takes the lock itself earlier in the function", () => {
    const rows = "\tbo->att = dma_buf_attach(bo->dmabuf, bo->dev);\n\treturn PTR_ERR_OR_ZERO(dma_buf_map_attachment(bo->att, DMA_TO_DEVICE));";
    expect(stateAt(fileOf(fn("qux_i", rows)), "dma_buf_map_attachment")).toMatchObject({ state: "not-held" });
  });

  it("sees might_lock on the reservation lock", () => {
    const rows = "\tmight_lock(&bo->resv->lock.base);\n\treturn dma_buf_vmap(bo->dmabuf, map);";
    expect(stateAt(fileOf(fn("qux_j", rows)), "dma_buf_vmap")).toMatchObject({ state: "not-held" });
  });

  it("sees a rename from the _unlocked variant in the same hunk", () => {
    const rows = "-\treturn dma_buf_vmap_unlocked(bo->dmabuf, map);\n\treturn dma_buf_vmap(bo->dmabuf, map);";
    expect(stateAt(fileOf(fn("qux_k", rows)), "dma_buf_vmap")).toMatchObject({
      state: "not-held",
      how: expect.stringContaining("dma_buf_vmap_unlocked"),
    });
  });

  it("reads an exporter callback the core calls unlocked", () => {
    const cb = "static int qux_dmabuf_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *a)\n{\n" +
      "\treturn PTR_ERR_OR_ZERO(dma_buf_map_attachment(a, DMA_TO_DEVICE));\n}";
    expect(stateAt(fileOf(cb), "dma_buf_map_attachment")).toMatchObject({ state: "not-held", how: expect.stringContaining("attach") });
  });

  it("knows nothing without evidence either way", () => {
    expect(stateAt(fileOf(fn("qux_l", "\treturn dma_buf_vmap(bo->dmabuf, map);")), "dma_buf_vmap")).toEqual({ state: "unknown" });
  });

  it("ignores calls named in comments and strings", () => {
    const rows = "\t/* dma_resv_lock(bo->resv, NULL) is taken by the caller */\n\tpr_debug(\"dma_resv_lock(x)\");\n" +
      "\treturn dma_buf_vmap(bo->dmabuf, map);";
    expect(stateAt(fileOf(fn("qux_m", rows)), "dma_buf_vmap")).toEqual({ state: "unknown" });
  });
});

describe("lock context across hunks", () => {
  /** A function shown in two hunks with unseen code between them. */
  function twoHunks(first: readonly string[], second: readonly string[], heading = "static int qux_n(struct qux_bo *bo, struct iosys_map *map)"): FileTouches {
    const path = "drivers/gpu/drm/qux/qux_import.c";
    const text = [
      `diff --git a/${path} b/${path}`,
      `--- a/${path}`,
      `+++ b/${path}`,
      `@@ -10,${first.length} +10,${first.length} @@ struct qux_bo;`,
      ...first.map((r) => ` ${r}`),
      `@@ -40,${second.length - 1} +40,${second.length} @@ ${heading}`,
      ...second.map((r, i) => (i === second.length - 1 ? `+${r}` : ` ${r}`)),
      "",
    ].join("\n");
    return classifyFile(parseDiff(text)[0]!, parser);
  }

  it("sees a lock taken in an earlier hunk of the function, but not as certain", () => {
    const f = twoHunks(
      [`${"static int qux_n(struct qux_bo *bo, struct iosys_map *map)"}`, "{", "\tdma_resv_lock(bo->resv, NULL);"],
      ["\tbo->busy = true;", "\treturn dma_buf_vmap_unlocked(bo->dmabuf, map);"],
    );
    expect(stateAt(f, "dma_buf_vmap_unlocked")).toMatchObject({ state: "held", certain: false });
  });

  it("does not read the callback's contract when the function began out of view", () => {
    const heading = "static int qux_dmabuf_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *a)";
    const f = twoHunks(["#include <linux/dma-buf.h>"], ["\tqux_prepare(a);", "\treturn PTR_ERR_OR_ZERO(dma_buf_map_attachment(a, DMA_TO_DEVICE));"], heading);
    expect(stateAt(f, "dma_buf_map_attachment")).toEqual({ state: "unknown" });
  });
});

describe("lock evidence in the finding", () => {
  it("is kept per touch for the message", () => {
    const f = fileOf(fn("qux_o", "\tdma_resv_lock(bo->resv, NULL);\n\treturn dma_buf_vmap_unlocked(bo->dmabuf, map);"));
    const touch = f.touches.find((t) => t.name === "dma_buf_vmap_unlocked")!;
    expect(resvEvidence(touch)).toBeUndefined();
    resvStateAt(touch, f, facts.locks, lockWrappers([f], facts.locks));
    expect(resvEvidence(touch)).toMatch(/^dma_resv_lock\(\) at line \d+ takes it$/);
  });

  it("names what showed the lock held in the review's message", async () => {
    const path = new URL("../../../fixtures/rules/locking/takes-resv-while-held/fires-qux-import-under-lock.patch", import.meta.url).pathname;
    const first = allFindings(await reviewPath(path)).find((x) => x.rule === "locking/takes-resv-while-held")!;
    expect(first.message).toContain("while it holds dmabuf->resv: dma_resv_lock() at line 48 takes it.");
  });
});


describe("lock wrappers of a series", () => {
  it("are read once for the series' files, whichever patch or rule asks", () => {
    const f = fileOf(fn("qux_lock", "\tdma_resv_lock(bo->resv, NULL);\n\treturn 0;"));
    const files = [f];
    const first = lockWrappers(files, facts.locks);
    expect([...first.lock]).toEqual(["qux_lock"]);
    expect(lockWrappers(files, facts.locks)).toBe(first);
    // Another series (another list of files) is read afresh.
    expect(lockWrappers([f], facts.locks)).not.toBe(first);
  });
});
