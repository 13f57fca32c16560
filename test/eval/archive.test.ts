import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findArchiveBundle, openArchive, projectRoot, type Archive } from "../../eval/archive.js";
import { readDevset, type LabelledSeries } from "../../eval/devset.js";
import { loadPipeline, placeFindings, reviewLabelled } from "../../eval/eval.js";
import { judge } from "../../eval/score.js";
import { loadOne } from "../../src/ingest/mbox/messages.js";
import type { Message } from "../../src/patch/message.js";
import { groupSeries } from "../../src/patch/series.js";

// The real linaro-mm-sig archive, read from ../shared at test time and never copied here.
const BUNDLE = findArchiveBundle();
const DEVSET = readDevset(join(projectRoot(), "eval", "devset"));
const why = BUNDLE ? "" : " (skipped: ../shared/archives/linaro-mm-sig-2019-2022.bundle is not there)";

function labelled(id: string): LabelledSeries {
  const s = DEVSET.find((l) => l.id === id);
  if (!s) throw new Error(`no labelled series ${id}`);
  return s;
}

describe.skipIf(!BUNDLE)(`the real archive${why}`, () => {
  let archive: Archive;
  beforeAll(() => {
    archive = openArchive(BUNDLE!);
  });
  afterAll(() => archive?.close());

  it("holds every labelled message under its commit, with the labelled Message-ID", async () => {
    const all = DEVSET.flatMap((s) => s.messages.map((m) => ({ series: s.id, ...m })));
    const bytes = await archive.read(all.map((m) => m.commit));
    const wrong = all.filter((m) => !bytes.get(m.commit)?.toString("latin1").toLowerCase().includes(`<${m.messageId.toLowerCase()}>`));
    expect(wrong.map((m) => `${m.series} ${m.commit} <${m.messageId}>`)).toEqual([]);
    expect(all.length).toBeGreaterThan(900);
  });

  it("groups the 2022 dma_coherent RFC, whose cover letter has no [PATCH 0/N], as one series with its cover", async () => {
    const s = labelled("dma-coherent-flag-2022");
    const bytes = await archive.read(s.messages.map((m) => m.commit));
    const messages: Message[] = [];
    for (const m of s.messages) {
      const r = await loadOne({ bytes: bytes.get(m.commit)!, source: m.commit });
      if (!("kind" in r)) throw new Error(`${m.commit}: ${r.reason}: ${r.detail}`);
      messages.push(r);
    }
    const g = groupSeries(messages);
    expect(g.series).toHaveLength(1);
    const series = g.series[0]!;
    expect(series.id).toBe("20221020121316.3946-1-christian.koenig@amd.com");
    expect(series.cover?.kind).toBe("cover");
    expect(series.title).toBe("Try to address the DMA-buf coherency problem");
    expect(series.slots.map((m) => m?.parsedSubject.index)).toEqual([1, 2, 3]);
    expect(series.missing).toEqual([]);
  });

  it("reviews that series as one: the attach gate of patch 1 matches the reviewers' concern", async () => {
    const s = labelled("dma-coherent-flag-2022");
    const outcome = await reviewLabelled(s, archive, await loadPipeline());
    expect(outcome.reviews).toHaveLength(1);
    expect(outcome.reviews[0]!.patches.map((p) => p.index)).toEqual([1, 2, 3]);
    const gate = placeFindings(outcome).filter((f) => f.rule === "attach/device-coherency-gate");
    expect(gate.map((f) => `${f.patch} ${f.file}`)).toEqual(["1 drivers/dma-buf/dma-buf.c"]);
    const verdict = judge(gate[0]!);
    expect(verdict.kind).toBe("match");
    expect(verdict.kind === "match" && verdict.expects.map((e) => e.id)).toContain("e1");
  });
});
