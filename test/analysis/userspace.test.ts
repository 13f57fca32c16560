import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { CParser } from "../../src/patch/c-source.js";
import { checkFunction, userspaceFunctions } from "../../src/analysis/userspace.js";
import { captureIo } from "../helpers/io.js";

const DIR = join(import.meta.dirname, "..", "..", "fixtures", "userspace");

interface F {
  rule: string;
  line: number;
  model?: { newHazards: { exporter: string; before: string; after: string; platform: string; pattern: string }[]; userspace: { importer: string }[] };
}

async function review(name: string) {
  const io = captureIo();
  const code = await main(["review", join(DIR, name), "--format", "json"], io);
  expect(io.err()).toBe("");
  const doc = JSON.parse(io.out());
  const patch = doc.series[0].patches[0];
  return { code, doc, patch, findings: (patch.findings as F[]).map((f) => `${f.rule}:${f.line}`) };
}

describe("userspace dma-buf code", () => {
  it("a GStreamer-style dma-heap allocator: a SYNC whose result is returned is checked; a CPU fill without SYNC on a cached heap", async () => {
    const { findings, patch } = await review("gst-dmaheap-allocator.patch");
    expect(findings).toEqual([
      "model/userspace-hazard:66",
      "userspace/cached-heap-without-sync:66",
      "userspace/unbracketed-cpu-write:66",
    ]);
    // The model narrows the exporters to the heap the code opens.
    const hazard = (patch.findings as F[]).find((f) => f.rule === "model/userspace-hazard")!;
    expect([...new Set(hazard.model!.newHazards.map((c) => c.exporter))]).toEqual(["system-heap"]);
    expect(hazard.model!.newHazards.every((c) => ["ok", "slow"].includes(c.before) && ["stale-read", "lost-write"].includes(c.after))).toBe(true);
  });

  it("a mesa-style winsys: an import failure ignored, an upload without SYNC", async () => {
    const { findings } = await review("mesa-winsys-import.patch");
    expect(findings).toEqual(["userspace/import-without-fallback:21", "model/userspace-hazard:43", "userspace/unbracketed-cpu-write:43"]);
  });

  it("a V4L2 capture-to-display loop: wrong flags, an early return inside the bracket, fatal imports", async () => {
    const { findings, patch } = await review("v4l2-capture-to-display.patch");
    expect(findings).toEqual([
      "userspace/sync-ioctl-unchecked:19",
      "userspace/sync-region-left-open:22",
      "model/userspace-hazard:24",
      "userspace/read-under-write-flag:24",
      "userspace/sync-flags-differ:29",
      "userspace/sync-ioctl-unchecked:29",
      "model/import-refused-today:38",
      "userspace/import-without-fallback:38",
      "userspace/import-without-fallback:43",
    ]);
    // Reads under START|WRITE: stale on arm64, where TO_DEVICE skips the invalidate.
    const hazard = (patch.findings as F[]).find((f) => f.rule === "model/userspace-hazard")!;
    expect(hazard.model!.newHazards.some((c) => c.platform === "arm64" && c.pattern === "device-write-cpu-read-write-flag")).toBe(true);
    // The display without IOMMU refuses non-contiguous buffers today.
    const refused = (patch.findings as F[]).find((f) => f.rule === "model/import-refused-today")!;
    expect(refused.model!.userspace.some((c) => c.importer === "soc-display-contig")).toBe(true);
  });

  for (const name of ["gst-dmaheap-allocator-correct.patch", "mesa-winsys-import-correct.patch", "v4l2-capture-to-display-correct.patch"]) {
    it(`the correct version gets no finding: ${name}`, async () => {
      const { findings, code, patch } = await review(name);
      expect(findings).toEqual([]);
      expect(code).toBe(0);
      // In scope: the bot read it and found the bracketing right.
      expect(patch.outOfScope).toBe(false);
      expect(patch.touches.some((t: { kind: string }) => t.kind === "userspace-io")).toBe(true);
    });
  }

  it("a change that touches no dma-buf code gets one line and nothing else", async () => {
    const { findings, patch, doc } = await review("no-dma-buf.patch");
    expect(findings).toEqual([]);
    expect(patch.outOfScope).toBe(true);
    expect(doc.series[0].model).toBeNull();
    const io = captureIo();
    await main(["review", join(DIR, "no-dma-buf.patch")], io);
    expect(io.out().split("\n").filter((l) => l.includes("out of scope"))).toHaveLength(1);
  });

  it("reviews kernel and userspace files of one change together", async () => {
    const { findings, patch } = await review("mixed-kernel-and-userspace.patch");
    expect(patch.files).toEqual(["drivers/dma-buf/heaps/system_heap.c", "tools/heapfill/heapfill.c"]);
    // No hazard-left-open: the heap configurations broken before fail the same way after.
    expect(findings).toEqual([
      "model/new-hazard:55",
      "sync/skip-cpu-sync-added:55",
      "model/userspace-hazard:20",
      "userspace/cached-heap-without-sync:20",
      "userspace/unbracketed-cpu-write:20",
    ]);
  });

  it("C++ sources are parsed with the C++ grammar", async () => {
    const parser = (await CParser.load()).forPath("src/libcamera/mapped_framebuffer.cpp");
    expect(parser.lang).toBe("cpp");
    const rows = [
      "int MappedBuffer::fill(const Frame &f)",
      "{",
      "\tauto *mem = static_cast<uint8_t *>(mmap(nullptr, f.size, PROT_WRITE, MAP_SHARED, f.fd, 0));",
      "\tstd::memcpy(mem, f.data, f.size);",
      "\treturn 0;",
      "}",
    ];
    const frag = parser.parseFragment(rows, "");
    try {
      const [fn] = userspaceFunctions(frag);
      expect(fn!.name).toBe("MappedBuffer::fill");
      expect(checkFunction(fn!).map((p) => `${p.problem}:${p.row}`)).toEqual(["unbracketed-write:3"]);
    } finally {
      frag.tree.delete();
    }
  });
});
