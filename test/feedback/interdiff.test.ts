import { describe, expect, it } from "vitest";
import { differs, interdiff } from "../../src/feedback/interdiff.js";
import { parseDiff } from "../../src/patch/diff.js";

function patch(start: number, lines: readonly string[], path = "drivers/dma-buf/dma-buf.c") {
  const added = lines.filter((l) => l.startsWith("+")).length;
  const removed = lines.filter((l) => l.startsWith("-")).length;
  const ctx = lines.length - added - removed;
  return parseDiff(
    [`diff --git a/${path} b/${path}`, `--- a/${path}`, `+++ b/${path}`, `@@ -${start},${ctx + removed} +${start},${ctx + added} @@ int f(void)`, ...lines, ""].join("\n"),
  );
}

describe("interdiff", () => {
  const v1 = patch(10, [" a();", "+\tif (x)", "+\t\treturn -EINVAL;", " b();"]);

  it("a rebase that only moves the lines is unchanged", () => {
    const d = interdiff(v1, patch(40, [" a();", "+\tif (x)", "+\t\treturn -EINVAL;", " b();"]));
    expect(d).toEqual({ lines: [], filesOnlyOld: [], filesOnlyNew: [], codeLines: 0, level: "unchanged" });
  });

  it("a reworded comment is minor", () => {
    const a = patch(10, [" a();", "+\t/* old words */", "+\tif (x)", " b();"]);
    const b = patch(10, [" a();", "+\t/* new words */", "+\tif (x)", " b();"]);
    const d = interdiff(a, b);
    expect(d.lines.map((l) => `${l.side} ${l.text} @${l.line}`)).toEqual(["old +\t/* old words */ @11", "new +\t/* new words */ @11"]);
    expect(d.level).toBe("minor");
  });

  it("new code, or a new file, is substantial", () => {
    const d = interdiff(v1, [...patch(10, [" a();", "+\tif (x && !y)", "+\t\treturn -EINVAL;", "+\tz();", " b();"]), ...patch(1, ["+int y;"], "include/linux/dma-buf.h")]);
    expect(d.lines.map((l) => `${l.file} ${l.side} ${l.text}`)).toEqual([
      "drivers/dma-buf/dma-buf.c old +\tif (x)",
      "drivers/dma-buf/dma-buf.c new +\tif (x && !y)",
      "drivers/dma-buf/dma-buf.c new +\tz();",
      "include/linux/dma-buf.h new +int y;",
    ]);
    expect(d.filesOnlyNew).toEqual(["include/linux/dma-buf.h"]);
    expect(d.codeLines).toBe(4);
    expect(d.level).toBe("substantial");
  });

  it("differs says what the level says, without the diff", () => {
    const cases: [string, ReturnType<typeof patch>, ReturnType<typeof patch>][] = [
      ["moved", v1, patch(40, [" a();", "+\tif (x)", "+\t\treturn -EINVAL;", " b();"])],
      ["respaced", v1, patch(10, [" a();", "+        if (x)", "+\t\treturn  -EINVAL;", " b();"])],
      ["reworded", v1, patch(10, [" a();", "+\tif (y)", "+\t\treturn -EINVAL;", " b();"])],
      ["one line fewer", v1, patch(10, [" a();", "+\tif (x)", " b();"])],
      ["added to removed", v1, patch(10, [" a();", "-\tif (x)", "-\t\treturn -EINVAL;", " b();"])],
      ["another file", v1, patch(10, [" a();", "+\tif (x)", "+\t\treturn -EINVAL;", " b();"], "drivers/dma-buf/heap.c")],
      ["a file more", v1, [...v1, ...patch(1, ["+int y;"], "include/linux/dma-buf.h")]],
      ["nothing to something", [], v1],
      ["nothing to nothing", [], []],
    ];
    const got = cases.map(([name, a, b]) => `${name}: ${differs(a, b)}`);
    expect(got).toEqual(cases.map(([name, a, b]) => `${name}: ${interdiff(a, b).level !== "unchanged"}`));
    expect(got.filter((g) => g.endsWith("false"))).toEqual(["moved: false", "respaced: false", "nothing to nothing: false"]);
  });
});
