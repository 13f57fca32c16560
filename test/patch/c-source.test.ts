import { Node } from "web-tree-sitter";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { CParser, functionOpener, isCommentRow, placeRow, rowCalls, scanFragment } from "../../src/patch/c-source.js";

let parser: CParser;
beforeAll(async () => {
  parser = await CParser.load();
});

describe("functionOpener", () => {
  it("closes a heading cut in the parameter list and gives it a return type", () => {
    expect(functionOpener("dma_buf_dynamic_attach(struct dma_buf *dmabuf, struct device *dev,")).toBe(
      "int dma_buf_dynamic_attach(struct dma_buf *dmabuf, struct device *dev)",
    );
  });
  it("keeps a complete signature", () => {
    expect(functionOpener("static int foo_begin_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir)")).toBe(
      "static int foo_begin_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir)",
    );
  });
  it("is not a function for struct and initializer headings", () => {
    expect(functionOpener("struct dma_buf {")).toBeUndefined();
    expect(functionOpener("static const struct dma_buf_ops foo_ops = {")).toBeUndefined();
  });
});

describe("scanFragment", () => {
  it("sees a hunk that starts inside a block comment", () => {
    expect(scanFragment([" * @priv: private data", " */", "struct x {"]).startsInComment).toBe(true);
    expect(scanFragment([" * @coherent: true if snooped", " *"]).startsInComment).toBe(true);
    expect(scanFragment(["\t*ptr = 0;"]).startsInComment).toBe(false);
  });
  it("counts blocks closed before they are opened, ignoring braces in strings and comments", () => {
    const s = scanFragment(["\t\treturn 0;", '\tpr_info("}");', "\t}", "/* } */", "}", "", "static int b(void)", "{"]);
    expect(s.unmatchedClosers).toBe(2);
    expect(s.endDepth).toBe(-1);
  });
});

describe("placeRow", () => {
  it("places every row of a 600-deep else-if chain without climbing the tree from each row", () => {
    // tree-sitter finds a parent by descending from the root: climbing to the root from every
    // row is depth squared per row. Asking for parents is what is counted, not time.
    const rows = ["\tif (x == 0)", "\t\tret = 0;"];
    for (let i = 1; i < 600; i++) rows.push(`\telse if (x == ${i})`, `\t\tret = ${i};`);
    const f = parser.parseFragment(rows, "static int foo_begin_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir)");
    const parents = vi.spyOn(Node.prototype, "parent", "get");
    try {
      const placed = rows.map((_, row) => placeRow(f, row));
      expect(placed.every((p) => p.function === "foo_begin_cpu_access" && p.how === "heading")).toBe(true);
      expect(placed[0]).toMatchObject({ ifCondition: "x == 0", ifConsequence: "ret = 0;" });
      expect(placed[2 * 300 + 1]!.assignments).toEqual([{ left: "ret", right: "300" }]);
      expect(parents.mock.calls.length).toBeLessThan(rows.length);
    } finally {
      parents.mockRestore();
      f.tree.delete();
    }
  });

  it("places a line deep inside a function named only by the hunk heading", () => {
    const rows = ["\tif (WARN_ON(!dmabuf || !dev))", "\t\treturn ERR_PTR(-EINVAL);", "", "\tif (dmabuf->dma_coherent && !dev_is_dma_coherent(dev))", "\t\treturn ERR_PTR(-EINVAL);"];
    const f = parser.parseFragment(rows, "dma_buf_dynamic_attach(struct dma_buf *dmabuf, struct device *dev,");
    try {
      const p = placeRow(f, 3);
      expect(p.function).toBe("dma_buf_dynamic_attach");
      expect(p.how).toBe("heading");
      expect(p.ifCondition).toBe("dmabuf->dma_coherent && !dev_is_dma_coherent(dev)");
      expect(p.ifConsequence).toBe("return ERR_PTR(-EINVAL);");
    } finally {
      f.tree.delete();
    }
  });

  it("places lines after the heading's function ends in the next function", () => {
    const rows = ["\treturn 0;", "}", "", "static int second_end_cpu_access(struct dma_buf *dmabuf,", "\t\t\t\t enum dma_data_direction dir)", "{", "\tdma_sync_sgtable_for_device(dev, sgt, dir);", "\treturn 0;", "}"];
    const f = parser.parseFragment(rows, "static int first_begin_cpu_access(struct dma_buf *dmabuf,");
    try {
      expect(placeRow(f, 0).function).toBe("first_begin_cpu_access");
      expect(placeRow(f, 6).function).toBe("second_end_cpu_access");
      expect(placeRow(f, 6).how).toBe("parser");
      expect(rowCalls(f, 6).map((c) => c.name)).toEqual(["dma_sync_sgtable_for_device"]);
      expect(rowCalls(f, 6)[0]!.args).toEqual(["dev", "sgt", "dir"]);
    } finally {
      f.tree.delete();
    }
  });

  it("names the dma_buf_ops member of an initializer line", () => {
    const rows = ["\t.map_dma_buf = foo_map,", "\t.unmap_dma_buf = foo_unmap,", "\t.begin_cpu_access = foo_begin,", "};"];
    const f = parser.parseFragment(rows, "static const struct dma_buf_ops foo_dmabuf_ops = {");
    try {
      const p = placeRow(f, 2);
      expect(p.initializer).toEqual({ type: "dma_buf_ops", variable: "foo_dmabuf_ops" });
      expect(p.field).toBe("begin_cpu_access");
      expect(p.fieldValue).toBe("foo_begin");
    } finally {
      f.tree.delete();
    }
  });

  it("finds the struct of a field declared after a nested anonymous struct closes", () => {
    const rows = ["\t\t__poll_t active;", "\t} cb_in, cb_out;", "", "\tbool dma_coherent;", "};"];
    const f = parser.parseFragment(rows, "struct dma_buf {");
    try {
      expect(placeRow(f, 3).structField).toEqual({ struct: "dma_buf", field: "dma_coherent", text: "bool dma_coherent" });
    } finally {
      f.tree.delete();
    }
  });

  it("treats a changed line inside a comment that began above the hunk as a comment", () => {
    const rows = [" * @resv:\treservation object", " * @coherent:\ttrue if the CPU caches are snooped", " *", " * This structure holds"];
    const f = parser.parseFragment(rows, "struct dma_buf_attachment {");
    try {
      expect(isCommentRow(f, 1)).toBe(true);
    } finally {
      f.tree.delete();
    }
  });

  it("says when a line cannot be placed", () => {
    const rows = ["\t\t) ) } ] garbage ((", "\tx = 1;"];
    const f = parser.parseFragment(rows, "");
    try {
      const p = placeRow(f, 1);
      expect(p.placed).toBe(false);
      expect(p.reason).toMatch(/does not parse/);
    } finally {
      f.tree.delete();
    }
  });
});

describe("CParser.loadFor", () => {
  const file = (path: string, oldPath: string | undefined = path) => ({ oldPath, newPath: path, path, status: "modified" as const, hunks: [] });

  it("leaves the C++ grammar out when no file is C++, and says so if one is asked for", async () => {
    // A module of its own: this file's CParser has both grammars loaded already (beforeAll).
    vi.resetModules();
    const fresh = (await import("../../src/patch/c-source.js")).CParser;
    expect(fresh).not.toBe(CParser);
    const c = await fresh.loadFor([file("drivers/dma-buf/udmabuf.c"), file("include/linux/dma-buf.h")]);
    expect(c.forPath("drivers/dma-buf/udmabuf.c")).toBe(c);
    expect(() => c.forPath("src/libcamera/dma_buf_allocator.cpp")).toThrow(/C\+\+ grammar was not loaded/);
  });

  it("loads it when a file is C++ by its new or its old name, as CParser.load() does", async () => {
    for (const files of [[file("src/libcamera/dma_buf_allocator.cpp")], [file("src/alloc.c", "src/alloc.cc")]]) {
      const withCpp = await CParser.loadFor(files);
      expect(withCpp.forPath("src/libcamera/dma_buf_allocator.cpp").lang).toBe("cpp");
      expect(withCpp.forPath("drivers/dma-buf/udmabuf.c").lang).toBe("c");
    }
    expect(parser.forPath("a.hpp").lang).toBe("cpp");
  });
});

describe("rows read in one walk", () => {
  it("tells a comment row inside a call's arguments from the code rows around it", () => {
    const rows = ["\tret = foo(a,", "\t\t  /* only a comment */", "\t\t  b); /* done */", "\tbar(c, /* x */ d);"];
    const f = parser.parseFragment(rows, "static int f(void)");
    try {
      expect(rows.map((_, row) => isCommentRow(f, row))).toEqual([false, true, false, false]);
      expect(rows.map((_, row) => placeRow(f, row).function)).toEqual(["f", "f", "f", "f"]);
      expect(rowCalls(f, 3).map((c) => c.args)).toEqual([["c", "d"]]);
    } finally {
      f.tree.delete();
    }
  });
});

describe("CParser.acquire", () => {
  it("gives the same fragment for the same heading and rows, kept usable after release", () => {
    const rows = ["\tdma_resv_lock(obj->resv, NULL);", "\tx = 1;"];
    const a = parser.acquire(rows, "static int f(struct foo *obj)");
    parser.release([a]);
    const b = parser.acquire([...rows], "static int f(struct foo *obj)");
    const c = parser.acquire(rows, "static int g(struct foo *obj)");
    try {
      expect(b).toBe(a);
      expect(c).not.toBe(a);
      expect(placeRow(b, 0).function).toBe("f");
      expect(placeRow(c, 0).function).toBe("g");
    } finally {
      parser.release([b, c]);
    }
  });
});
