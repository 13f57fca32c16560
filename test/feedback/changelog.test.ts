import { describe, expect, it } from "vitest";
import { parseChangelog, readChangelog } from "../../src/feedback/changelog.js";
import { seriesOf } from "./fixture.js";

describe("parseChangelog", () => {
  it("reads a b4 cover letter: heading, bullets with indented continuations, no Link lines", () => {
    const text = [
      "Some prose about the series.",
      "",
      "Changes in v3:",
      "- Moved the check into dma_buf_attach()",
      "  as asked (Priya)",
      "- Link to v2: https://lore.kernel.org/r/x@y",
      "",
      "Changes in v2:",
      "* Dropped patch 3",
      "",
      "Jane Dev (2):",
      "  dma-buf: one",
    ].join("\n");
    expect(parseChangelog(text, 3)).toEqual([
      { revision: 3, text: "Moved the check into dma_buf_attach() as asked (Priya)" },
      { revision: 2, text: "Dropped patch 3" },
    ]);
  });

  it("reads the forms written below ---: vN lines, ranges, 'since', a bare heading, and stops at the diffstat", () => {
    const text = [
      "v3: rebased",
      "v1 -> v2: use the helper",
      "    everywhere",
      "",
      "Changes since v1:",
      "- renamed the flag",
      "",
      "Changelog:",
      "- fixed a typo",
      "",
      " drivers/dma-buf/dma-buf.c | 5 +++++",
      " 1 file changed, 5 insertions(+)",
    ].join("\n");
    expect(parseChangelog(text, 3)).toEqual([
      { revision: 3, text: "rebased" },
      { revision: 2, text: "use the helper everywhere" },
      { revision: 2, text: "renamed the flag" },
      { revision: 3, text: "fixed a typo" },
    ]);
  });

  it("finds nothing in prose that is no changelog", () => {
    expect(parseChangelog("This series adds a flag.\n\nPlease comment.\n", 2)).toEqual([]);
  });
});

describe("readChangelog", () => {
  it("collects the v2 cover letter and the notes of each v2 patch of the fixture", async () => {
    const v2 = (await seriesOf()).find((s) => s.revision === 2)!;
    expect(readChangelog(v2).map((e) => `v${e.revision} ${e.patch}/${e.total}: ${e.text}`)).toEqual([
      "v2 0/3: New helper drm_gem_prime_clear_coherent(), used by amdgpu for USWC buffers, so that exporters can override the flag (Mei)",
      "v2 0/3: Reworded the kernel-doc of dma_buf.dma_coherent (Priya)",
      "v2 0/3: Dropped the videobuf2 patch: vb2 devices and CPU-written buffers need a different answer (Tomas, Hana)",
      "v2 1/3: the kernel-doc of @dma_coherent says what the flag describes and that exporters may clear it (Priya)",
      "v2 2/3: add drm_gem_prime_clear_coherent() so that drivers can override the device default (Mei)",
      "v2 3/3: new patch",
    ]);
  });
});
