import { describe, expect, it } from "vitest";
import { trackAll, type Tracker } from "../../src/feedback/track.js";
import { renderTracker, renderTrackerMarkdown, trackerMarker } from "../../src/review/render/tracker.js";
import { seriesOf, trackDeps, V2_COVER } from "./fixture.js";

describe("tracker renderings", async () => {
  const r = trackAll(await seriesOf(), await trackDeps())[0]!;
  if (r.kind !== "tracked") throw new Error(r.reason);
  const t: Tracker = r.tracker;

  it("markdown: a hidden marker to find the comment again, one table row per item, the evidence folded", () => {
    const md = renderTrackerMarkdown(t);
    const lines = md.split("\n");
    expect(lines[0]).toBe(`<!-- dmabuf-review:tracker series=${V2_COVER} -->`);
    expect(trackerMarker(t)).toBe(lines[0]);
    expect(lines[1]).toBe("### Review feedback tracked into v2: dma-buf: coherency flag with an exporter override");
    expect(lines.filter((l) => l.startsWith("| 1."))).toEqual([
      "| 1.1 | **not addressed** | change requested | v1 1/3 | Priya Raman | Could the decision be made per attachment instead, with the exporter and the importer both having a say, rather than per device? |",
      "| 1.2 | **addressed** | change requested | v1 1/3 | Priya Raman | Please spell out in this kernel-doc that the flag describes the memory of this buffer rather than the exporting device, and who may clear it. |",
      "| 1.3 | **unclear** | ack | v1 2/3 | Sam Okafor | Reviewed-by: Sam Okafor <sam.okafor@example.net> |",
      "| 1.4 | **answered** | objection | v1 1/3 | Jonas Weber | That is a regression for userspace that works today; I don't think we can take the series in this form. |",
      "| 1.5 | **addressed** | suggestion | v1 2/3 | Mei Tanaka | How about letting the exporter override the flag, either by clearing it after export or through a dma_buf_ops callback it can implement? |",
      "| 1.6 | **obsolete** | question | v1 3/3 | Tomas Lindgren | Why does the vmalloc allocator mark its buffers coherent unconditionally? |",
      "| 1.7 | **addressed** | objection | v1 3/3 | Hana Novak | NAK for the videobuf2 part. |",
      "| 1.8 | **not addressed** | ack | v1 0/3 | Ravi Kumar | Tested-by: Ravi Kumar <ravi.kumar@example.in> |",
      "| 1.9 | **unclear** | change requested | v1 0/3 | Nadia Leclerc | Swapping exporter and importer is not something userspace can do in general: a camera feeding several consumers has no single importer to swap with. Please don't present it as the way out. |",
    ]);
    expect(md).toContain("<details><summary>Evidence</summary>");
    expect(md).toContain(
      "**1.1** not addressed: Priya Raman, 2022-10-21 at `drivers/dma-buf/dma-buf.c:219` in `dma_buf_dynamic_attach`, `Y1JtQ2xwcml5YQ@example.org`\n\n- restated by Nadia Leclerc, `bmFkaWEtc3VtbWFyeQ@example.ca`\n- interdiff v1 1/3 → v2 1/3",
    );
  });

  it("one renderer per format; the JSON one is the contract's series entry", () => {
    expect(renderTracker(t, "markdown")).toBe(renderTrackerMarkdown(t));
    expect(renderTracker(t, "text").startsWith("Tracker: dma-buf: coherency flag with an exporter override (v2)\n")).toBe(true);
    const doc = JSON.parse(renderTracker(t, "json"));
    expect(doc.revisions).toEqual([
      { version: 1, messageId: "20221020-dma-coherent-v1-0-3f2a9c1b7d4e@example.com" },
      { version: 2, messageId: V2_COVER },
    ]);
    expect(doc.counts).toEqual({ addressed: 3, "not addressed": 2, answered: 1, obsolete: 1, unclear: 2 });
    expect(doc.items[2]).toMatchObject({ id: "1.3", kind: "ack", verdict: "unclear", trailer: "Reviewed-by: Sam Okafor <sam.okafor@example.net>" });
  });
});
