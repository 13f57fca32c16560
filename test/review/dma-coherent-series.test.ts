import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { captureIo } from "../helpers/io.js";

const ROOT = join(import.meta.dirname, "..", "..");
const MBOX = join(ROOT, "fixtures", "series", "dma-coherent-v1.mbox");
const GOLDEN = join(ROOT, "fixtures", "series", "dma-coherent-v1.review.txt");

describe("review of the reconstructed 2022 dma_coherent series", () => {
  it("prints the review in the golden file and exits 1 (an error-level finding)", async () => {
    const io = captureIo();
    const code = await main(["review", MBOX], io);
    expect(io.err()).toBe("");
    expect(io.out()).toBe(readFileSync(GOLDEN, "utf8"));
    expect(code).toBe(1);
  });

  it("follows the JSON contract", async () => {
    const io = captureIo();
    await main(["review", MBOX, "--format", "json"], io);
    const doc = JSON.parse(io.out());
    expect(doc.series).toHaveLength(1);
    const s = doc.series[0];
    expect(s.subject).toBe("Try to address the DMA-buf coherency problem");
    expect(s.version).toBe(1);
    expect(s.missing).toEqual([]);
    expect(s.patches.map((p: { index: number; total: number }) => `${p.index}/${p.total}`)).toEqual(["1/3", "2/3", "3/3"]);
    for (const p of s.patches) {
      expect(Object.keys(p)).toEqual(expect.arrayContaining(["subject", "messageId", "index", "total", "files", "touches", "findings"]));
      for (const t of p.touches) expect(Object.keys(t)).toEqual(expect.arrayContaining(["file", "function", "kind", "detail"]));
      for (const f of p.findings) {
        expect(Object.keys(f)).toEqual(expect.arrayContaining(["rule", "severity", "risk", "file", "line", "message", "evidence"]));
        expect(f.evidence.length).toBeGreaterThan(0);
      }
    }
    expect(s.patches[0].messageId).toBe("20221020121316.3946-2-christian.koenig@amd.com");
    expect(s.patches[1].files).toEqual(["drivers/gpu/drm/drm_prime.c"]);
    const findings = s.patches.flatMap((p: { index: number; findings: { rule: string; file: string; line: number }[] }) =>
      p.findings.map((f) => `${p.index} ${f.rule} ${f.file}:${f.line}`),
    );
    expect(findings).toEqual([
      "1 attach/attach-error-reaches-userspace drivers/dma-buf/dma-buf.c:838",
      "1 attach/device-coherency-gate drivers/dma-buf/dma-buf.c:838",
      "1 attach/gate-without-override drivers/dma-buf/dma-buf.c:838",
      "1 model/false-positive drivers/dma-buf/dma-buf.c:838",
      "1 model/fixed drivers/dma-buf/dma-buf.c:838",
      "1 model/hazard-left-open drivers/dma-buf/dma-buf.c:838",
      "1 model/userspace-regression drivers/dma-buf/dma-buf.c:838",
      "2 attach/coherency-flag-from-device drivers/gpu/drm/drm_prime.c:801",
      "2 model/false-positive drivers/gpu/drm/drm_prime.c:801",
      "3 attach/coherency-flag-from-v4l2-device drivers/media/common/videobuf2/videobuf2-dma-contig.c:427",
      "3 attach/coherency-flag-from-v4l2-device drivers/media/common/videobuf2/videobuf2-dma-sg.c:427",
      "3 model/false-positive drivers/media/common/videobuf2/videobuf2-dma-sg.c:427",
      "3 attach/coherency-flag-forced drivers/media/common/videobuf2/videobuf2-vmalloc.c:426",
      "3 model/false-positive drivers/media/common/videobuf2/videobuf2-vmalloc.c:426",
    ]);
  });

  it("backs the 2022 review points with the model's configurations", async () => {
    const io = captureIo();
    await main(["review", MBOX, "--format", "json"], io);
    const s = JSON.parse(io.out()).series[0];
    const gate = s.patches[0].findings;
    const fp = gate.find((f: { rule: string }) => f.rule === "model/false-positive").model;
    // Configurations that work today and are refused, among them per-attachment coherency.
    expect(fp.falsePositives.length).toBeGreaterThan(0);
    for (const c of fp.falsePositives) {
      expect(["ok", "slow"]).toContain(c.before);
      expect(c.after).toBe("rejected");
      expect(Object.keys(c)).toEqual(expect.arrayContaining(["exporter", "importer", "platform", "pattern", "before", "after", "trace"]));
    }
    expect(fp.falsePositives.some((c: { importer: string; cause: string }) => c.importer === "soc-gpu-per-buffer" && /per attachment/.test(c.cause))).toBe(true);
    // Imports that succeed today fail: the userspace entry points are named.
    const us = gate.find((f: { rule: string }) => f.rule === "model/userspace-regression");
    expect(us.message).toContain("DRM_IOCTL_PRIME_FD_TO_HANDLE");
    expect(us.message).toContain("VIDIOC_QBUF");
    // What it does fix, with a trace ending in the stale read it removes.
    const fixed = gate.find((f: { rule: string }) => f.rule === "model/fixed").model.fixed;
    expect(fixed.length).toBeGreaterThan(0);
    expect(fixed[0].trace.at(-1)).toMatch(/stale|lost/);
    // Left open: exporters whose buffers keep the flag clear.
    const missed = gate.find((f: { rule: string }) => f.rule === "model/hazard-left-open").model.missed;
    expect(missed.some((c: { exporter: string }) => c.exporter === "vb2-dma-contig-noncoherent")).toBe(true);
    // The series-level numbers are the model's, consistent with the findings.
    expect(s.model.evaluated).toBe(fp.evaluated);
    expect(s.model.falsePositives.length).toBeGreaterThanOrEqual(fp.falsePositives.length);
  });

  it("classifies what each patch touches", async () => {
    const io = captureIo();
    await main(["review", MBOX, "--format", "json"], io);
    const [p1, p2] = JSON.parse(io.out()).series[0].patches;
    const kinds = (p: { touches: { kind: string; function: string | null; name: string; file: string }[] }) =>
      p.touches.map((t) => `${t.file.split("/").pop()} ${t.kind} ${t.name} ${t.function ?? "-"}`);
    expect(kinds(p1)).toEqual([
      "dma-buf.c flag-set dma_coherent dma_buf_export",
      "dma-buf.c coherency-query dev_is_dma_coherent dma_buf_dynamic_attach",
      "dma-buf.c gate coherency dma_buf_dynamic_attach",
      "dma-buf.h struct-field dma_coherent -",
      "dma-buf.h struct-field coherent -",
    ]);
    expect(kinds(p2)).toEqual([
      "drm_prime.c coherency-query dev_is_dma_coherent drm_gem_prime_export",
      "drm_prime.c flag-set coherent drm_gem_prime_export",
    ]);
  });

  it("keeps the reply quoting patch 1/3 as a reply, not a patch", async () => {
    const io = captureIo();
    await main(["review", MBOX, "--format", "json"], io);
    const doc = JSON.parse(io.out());
    const subjects = doc.series[0].patches.map((p: { subject: string }) => p.subject);
    expect(subjects.some((s: string) => s.startsWith("Re:"))).toBe(false);
    expect(doc.orphanReplies).toEqual([]);
  });
});
