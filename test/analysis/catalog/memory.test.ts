import { beforeAll, describe, expect, it } from "vitest";
import { loadFacts, type Facts } from "../../../src/analysis/catalog/facts.js";
import { uncachedMemoryIn } from "../../../src/analysis/catalog/memory.js";
import { defaultRulesDir } from "../../../src/analysis/rules/load.js";
import { classifyFile } from "../../../src/analysis/touch.js";
import { CParser } from "../../../src/patch/c-source.js";
import { parseDiff } from "../../../src/patch/diff.js";

let facts: Facts;
let parser: CParser;
beforeAll(async () => {
  [facts, parser] = await Promise.all([loadFacts(defaultRulesDir()), CParser.load()]);
});

/** The memory kind the catalog finds in a one-hunk diff of `rows` (` `, `+` or `-` prefixed). */
function kindIn(rows: readonly string[], path = "drivers/gpu/drm/qux/qux_prime.c"): string | undefined {
  const count = (c: string) => 1 + rows.filter((r) => r.startsWith(c)).length;
  const text = [
    `diff --git a/${path} b/${path}`,
    `--- a/${path}`,
    `+++ b/${path}`,
    `@@ -20,${count(" ") + count("-") - 1} +20,${count(" ") + count("+") - 1} @@ static const struct dma_buf_ops qux_ops;`,
    " #include <linux/dma-buf.h>",
    ...rows,
    "",
  ].join("\n");
  return uncachedMemoryIn(classifyFile(parseDiff(text)[0]!, parser), facts.memory)?.kind.id;
}

describe("memory the CPU does not cache, as a diff shows it", () => {
  const cases: readonly [string, readonly string[], string | undefined, string?][] = [
    ["a write-combined mmap", ["+\tvma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);"], "write-combined"],
    ["an uncached mapping", [" \tvma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);"], "uncached"],
    ["a coherent allocation", ["+\tbuf->vaddr = dma_alloc_coherent(dev, size, &buf->dma, GFP_KERNEL);"], "dma-coherent-allocation"],
    ["SRAM from a gen_pool", ["+\tbuf->vaddr = gen_pool_dma_alloc(pool, size, &buf->dma);"], "on-chip-sram"],
    ["a PCI BAR mapped for a peer", ["+\taddr = dma_map_resource(attach->dev, bar + off, len, dir, 0);"], "io-memory"],
    ["a protected heap by its file", ["+\treturn 0;"], "protected", "drivers/dma-buf/heaps/qux_secure_heap.c"],
    ["a protected heap by its name", ['+\texp_info.name = "qux-protected";'], "protected"],
    ["cached pages", ["+\tpages = alloc_pages(GFP_KERNEL | __GFP_ZERO, order);"], undefined],
    ["a mapping the patch removes", ["-\tvma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);", "+\treturn 0;"], undefined],
    ["a call named in a comment", ["+\t/* no pgprot_writecombine() here: the pages are cached */"], undefined],
    ["a heap whose name only contains a keyword", ['+\texp_info.name = "insecure-scratch-pool";'], undefined],
  ];
  for (const [what, rows, kind, path] of cases) {
    it(`${what}: ${kind ?? "none"}`, () => {
      expect(kindIn(rows, path)).toBe(kind);
    });
  }
});
