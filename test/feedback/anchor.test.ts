import { describe, expect, it } from "vitest";
import { anchorOf } from "../../src/feedback/anchor.js";
import { mail } from "./build.js";

const FILE = "drivers/dma-buf/dma-buf.c";

// Two hunks of one function: the first ends in a blank context line, as most hunks do.
const PATCH = [
  "Rework the mapping of a buffer.",
  "",
  "The old way took a reference on the wrong file.",
  "",
  "Signed-off-by: Jane Dev <jane.dev@example.org>",
  "---",
  `diff --git a/${FILE} b/${FILE}`,
  "index 1111111..2222222 100644",
  `--- a/${FILE}`,
  `+++ b/${FILE}`,
  "@@ -10,5 +10,4 @@ int dma_buf_frob(struct dma_buf *dmabuf)",
  " {",
  "-\tint old;",
  " \tif (!dmabuf)",
  " \t\treturn -EINVAL;",
  " ",
  "@@ -30,7 +29,8 @@ int dma_buf_frob(struct dma_buf *dmabuf)",
  " \t\treturn -EINVAL;",
  " ",
  " \t/* take the buffer */",
  "-\tget_thing(dmabuf);",
  "+\tif (dmabuf->thing)",
  "+\t\tput_thing(dmabuf->thing);",
  " \treturn 0;",
  " }",
  " ",
  "@@ -60,3 +61,7 @@ static void dma_buf_other(void)",
  " }",
  " ",
  "+/**",
  "+ * dma_buf_frob_all - frob every buffer",
  "+ */",
  "+int dma_buf_frob_all(void)",
  " ",
  "",
].join("\n");

const patch = mail({ id: "p", subject: "[PATCH] dma-buf: frob", body: PATCH });

describe("anchorOf", () => {
  it("places a quote running through both hunks and the commit message on the changed lines above the point", () => {
    // The quote holds commit message paragraphs (blank lines between them) and both hunks; the
    // blank lines must not carry the match past the lines the reviewer wrote under.
    const quote = [
      "Rework the mapping of a buffer.",
      "",
      "The old way took a reference on the wrong file.",
      "",
      " {",
      "-\tint old;",
      " \tif (!dmabuf)",
      " \t\treturn -EINVAL;",
      " ",
      "@@ -30,7 +29,8 @@ int dma_buf_frob(struct dma_buf *dmabuf)",
      " \t\treturn -EINVAL;",
      " ",
      " \t/* take the buffer */",
      "-\tget_thing(dmabuf);",
      "+\tif (dmabuf->thing)",
      "+\t\tput_thing(dmabuf->thing);",
    ];
    const a = anchorOf(quote, patch);
    expect(a.kind).toBe("code");
    expect(a.file).toBe(FILE);
    expect(a.function).toBe("dma_buf_frob");
    expect(a.quoted).toEqual(["-\tget_thing(dmabuf);", "+\tif (dmabuf->thing)", "+\t\tput_thing(dmabuf->thing);"]);
  });

  it("anchors quoted kerneldoc to the function it documents, not the one in the hunk heading", () => {
    const a = anchorOf(["+/**", "+ * dma_buf_frob_all - frob every buffer", "+ */"], patch);
    expect(a.kind).toBe("code");
    expect(a.function).toBe("dma_buf_frob_all");
  });

  it("keeps the last lines of a long quoted run, and places a quote over repeated lines in its last hunk", () => {
    const body = (hunks: string) => `Add a table.\n\nSigned-off-by: Jane Dev <jane.dev@example.org>\n---\ndiff --git a/${FILE} b/${FILE}\nindex 1111111..2222222 100644\n--- a/${FILE}\n+++ b/${FILE}\n${hunks}\n`;
    const rows = Array.from({ length: 20 }, (_, i) => `+\tint row${i};`);
    const table = mail({ id: "t", subject: "[PATCH] dma-buf: table", body: body([`@@ -1,2 +1,22 @@ struct dma_buf_table {`, " {", ...rows, " };"].join("\n")) });
    const a = anchorOf(rows, table);
    expect(a.quoted).toEqual(rows.slice(-8));
    const swap = ["-\tlock(a);", "+\tspin_lock(b);"];
    const twice = mail({
      id: "s",
      subject: "[PATCH] dma-buf: swap",
      body: body(["@@ -10,3 +10,3 @@ static void first_user(void)", " {", ...swap, " }", "@@ -30,3 +30,3 @@ static void second_user(void)", " {", ...swap, " }"].join("\n")),
    });
    expect(anchorOf([" {", ...swap, " }", "@@ -30,3 +30,3 @@ static void second_user(void)", " {", ...swap], twice).function).toBe("second_user");
  });

  it("places a quote whose whitespace the reviewer's mail client changed", () => {
    // Tabs turned to spaces, and a space before the + of a line the client rewrapped.
    const a = anchorOf(["  \\treturn -EINVAL;".replace("\\t", "    "), "  -    get_thing(dmabuf);", "+    if (dmabuf->thing)", "  +        put_thing(dmabuf->thing);"], patch);
    expect(a.kind).toBe("code");
    expect(a.function).toBe("dma_buf_frob");
    expect(a.quoted).toEqual(["-\tget_thing(dmabuf);", "+\tif (dmabuf->thing)", "+\t\tput_thing(dmabuf->thing);"]);
  });
});
