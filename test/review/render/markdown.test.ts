import { describe, expect, it } from "vitest";
import type { Finding } from "../../../src/review/finding.js";
import {
  countSeverities,
  countsLine,
  escapeMarkdown,
  readMarker,
  readMarkers,
  renderFindingComment,
  renderResolvedComment,
  renderSummary,
} from "../../../src/review/render/markdown.js";
import { expectedFindings } from "../../peers/forge-server.js";
import { pushFromMbox } from "../../peers/forge-series.js";

const f: Finding = {
  rule: "cpu-access/end-cpu-access-dropped",
  title: "exporter stops providing end_cpu_access",
  severity: "warning",
  risk: "missing-bracketing",
  file: "drivers/media/common/videobuf2/videobuf2-dma-sg.c",
  line: 109,
  function: undefined,
  message: "vb2_dma_sg no longer implements end_cpu_access, so *CPU writes* through <linux/dma-buf.h> mappings are not cleaned; __iomem stays.",
  evidence: ["removed ops member end_cpu_access at videobuf2-dma-sg.c:109"],
  quote: ["-\t.end_cpu_access = vb2_dma_sg_dmabuf_ops_end_cpu_access, /* ``` */"],
  references: [{ doc: "Documentation/driver-api/dma-buf.rst" }],
  fingerprint: "0123456789abcdef",
  patch: 1,
};

describe("markdown for forge comments", () => {
  it("renders a finding: severity and rule, the quoted lines, the message, evidence folded, the hidden fingerprint", () => {
    const body = renderFindingComment(f);
    const lines = body.split("\n");
    expect(lines[0]).toBe("**warning** `cpu-access/end-cpu-access-dropped` (missing-bracketing)");
    // The quote holds three backticks, so the fence is longer.
    expect(lines.slice(2, 5)).toEqual(["````diff", f.quote[0], "````"]);
    expect(body).toContain("vb2_dma_sg no longer implements end_cpu_access, so \\*CPU writes\\* through &lt;linux/dma-buf.h&gt; mappings are not cleaned; \\_\\_iomem stays.");
    expect(body).toContain("<details><summary>Evidence</summary>");
    expect(body).toContain("- Documentation/driver-api/dma-buf.rst");
    expect(lines.at(-1)).toBe("<!-- dmabuf-review finding=0123456789abcdef -->");
    expect(readMarker(body)).toEqual({ kind: "finding", fingerprint: "0123456789abcdef", resolvedAt: undefined });
  });

  it("keeps C names readable: underscores inside a name are left alone", () => {
    expect(escapeMarkdown("dma_buf_map_attachment() and DMA_ATTR_SKIP_CPU_SYNC")).toBe("dma_buf_map_attachment() and DMA_ATTR_SKIP_CPU_SYNC");
    expect(escapeMarkdown("#include | a ~ b [x]")).toBe("\\#include \\| a \\~ b \\[x\\]");
  });

  it("marks a comment resolved at a revision and keeps the earlier text folded", () => {
    const resolved = renderResolvedComment(renderFindingComment(f), f.fingerprint, "abc123def456");
    expect(resolved.split("\n")[0]).toBe("**Resolved** at abc123def456: no longer found.");
    expect(readMarkers(resolved)).toEqual([{ kind: "finding", fingerprint: f.fingerprint, resolvedAt: "abc123def456" }]);
    expect(resolved).toContain("<details><summary>Earlier comment</summary>");
  });

  it("reads every marker in a body, and none from text that is not ours", () => {
    expect(readMarkers(`${renderFindingComment(f)}\n\n${renderFindingComment({ ...f, fingerprint: "fedcba9876543210" })}`).map((m) => (m as { fingerprint: string }).fingerprint)).toEqual([
      "0123456789abcdef",
      "fedcba9876543210",
    ]);
    expect(readMarker("LGTM <!-- a comment -->")).toBeUndefined();
    expect(readMarker(undefined)).toBeUndefined();
  });

  it("summarises a revision: counts, one row per finding, the model's before/after table, the caller's notes", async () => {
    const findings = await expectedFindings(await pushFromMbox());
    const counts = countSeverities(findings);
    expect(countsLine({ error: 1, warning: 0, info: 2 })).toBe("1 error, 0 warnings, 2 notes");
    expect(countsLine({ error: 0, warning: 0, info: 0 })).toBe("no findings");
    const series = { series: {} as never, patches: [{ findings, outOfScope: false }] as never, model: undefined };
    const text = renderSummary(series, { at: "abc123def456", notes: ["This push: 3 new."] });
    const lines = text.split("\n");
    expect(lines[0]).toBe(`**dmabuf-review** at abc123def456: ${countsLine(counts)}.`);
    expect(lines.filter((l) => /^\| (error|warning|info) \| `/.test(l))).toHaveLength(findings.length);
    // Errors first.
    expect(lines.find((l) => /^\| (error|warning|info) \|/.test(l))).toMatch(/^\| error \|/);
    expect(lines.slice(-3)).toEqual(["This push: 3 new.", "", "<!-- dmabuf-review summary -->"]);
    expect(readMarker(text)).toEqual({ kind: "summary" });
    const few = renderSummary(series, { at: "x", maxRows: 2 });
    expect(few).toContain(`${findings.length - 2} more findings are not listed here.`);
  });
});
