import { performance } from "node:perf_hooks";
import { readFileSync } from "node:fs";
import type { Rule } from "../src/analysis/rules/match.js";
import type { Catalog } from "../src/model/catalog.js";
import type { CParser } from "../src/patch/c-source.js";
import { buildMessage } from "../src/patch/message.js";
import { groupSeries } from "../src/patch/series.js";
import { reviewSeries } from "../src/review/review-series.js";

/**
 * Review time for a 2,000-line userspace diff: the functions of the showcase fixtures (buggy
 * and correct) repeated under new names into one new file, as a large merge of a media stack.
 */
export function benchUserspace(rules: readonly Rule[], parser: CParser, catalog: Catalog): void {
  const sources = ["v4l2-capture-to-display", "v4l2-capture-to-display-correct", "mesa-winsys-import", "gst-dmaheap-allocator-correct"].map((n) =>
    readFileSync(new URL(`../../fixtures/userspace/${n}.patch`, import.meta.url), "utf8")
      .split("\n")
      .filter((l) => l.startsWith("+") && !l.startsWith("+++"))
      .map((l) => l.slice(1)),
  );
  const lines: string[] = [];
  for (let i = 0; lines.length < 2000; i++) {
    const src = sources[i % sources.length]!;
    lines.push(...src.map((l) => l.replace(/\b(draw_overlay|show_frame|sync_frame|sample_bo_\w+|gst_dma_heap_\w+)\b/g, `$1_${i}`)));
  }
  lines.length = 2000;
  const path = "src/media/bench_pipeline.c";
  const body = `Bench: one large userspace change.\n\nSigned-off-by: Bench <bench@example.org>\n---\ndiff --git a/${path} b/${path}\nnew file mode 100644\n--- /dev/null\n+++ b/${path}\n@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}`).join("\n")}\n`;
  const message = buildMessage({
    messageId: "bench-userspace@example.org",
    from: { name: "Bench", email: "bench@example.org" },
    to: [],
    cc: [],
    date: new Date(0),
    subject: "[PATCH] media: a 2,000-line userspace change",
    inReplyTo: undefined,
    references: [],
    body,
    source: "bench",
  });
  const series = groupSeries([message]).series[0]!;
  const times: number[] = [];
  let findings = 0;
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    const r = reviewSeries(series, rules, parser, { catalog, cache: new Map() });
    times.push(performance.now() - t);
    findings = r.patches[0]!.findings.length;
  }
  times.sort((a, b) => a - b);
  console.log(`userspace review     ${times[3]!.toFixed(0).padStart(6)} ms  median of 7: a ${lines.length}-line C diff, ${findings} findings (rules and model)`);
}
