import { describe, expect, it } from "vitest";
import { MAX_SERIES_PATCHES, parseSubject } from "../../src/patch/subject.js";

describe("parseSubject", () => {
  // Each row: a subject as it reaches dri-devel or linaro-mm-sig, and what b4 would read from it.
  const table = [
    {
      raw: "[PATCH v2 3/5] dma-buf: add dma_coherent flag",
      want: { revision: 2, index: 3, total: 5, isReply: false, isPatch: true, rfc: false, resend: false, prefixes: [], listTags: [] },
      clean: "[PATCH v2 3/5] dma-buf: add dma_coherent flag",
    },
    {
      raw: "[RFC PATCH] dma-buf: add dma_coherent flag",
      want: { revision: 1, index: undefined, total: undefined, rfc: true, isPatch: true, isReply: false },
      clean: "[RFC PATCH] dma-buf: add dma_coherent flag",
    },
    {
      raw: "[PATCH drm-misc-next v3 0/2] drm/prime: coherency for exports",
      want: { revision: 3, index: 0, total: 2, prefixes: ["drm-misc-next"], isPatch: true },
      clean: "[PATCH drm-misc-next v3 0/2] drm/prime: coherency for exports",
    },
    {
      raw: "Re: [PATCH 1/3] dma-buf: add dma_coherent flag",
      want: { revision: 1, index: 1, total: 3, isReply: true, isPatch: true, listTags: [] },
      clean: "[PATCH 1/3] dma-buf: add dma_coherent flag",
    },
    {
      raw: "[Linaro-mm-sig] [PATCH 1/3] dma-buf: add dma_coherent flag",
      want: { index: 1, total: 3, isReply: false, listTags: ["Linaro-mm-sig"], prefixes: [] },
      clean: "[PATCH 1/3] dma-buf: add dma_coherent flag",
    },
    {
      raw: "Re: [Linaro-mm-sig] Re: [PATCH v2] dma-buf: add dma_coherent flag",
      want: { revision: 2, index: undefined, total: undefined, isReply: true, listTags: ["Linaro-mm-sig"] },
      clean: "[PATCH v2] dma-buf: add dma_coherent flag",
    },
    {
      raw: "[PATCH RESEND v2 1/2] media: videobuf2: set the coherent flag",
      want: { revision: 2, index: 1, total: 2, resend: true, rfc: false, prefixes: [] },
      clean: "[PATCH RESEND v2 1/2] media: videobuf2: set the coherent flag",
    },
    {
      raw: "[RFC][PATCH 2/2] dma-buf: heaps: per-attachment coherency",
      want: { revision: 1, index: 2, total: 2, rfc: true, isPatch: true, listTags: [] },
      clean: "[RFC][PATCH 2/2] dma-buf: heaps: per-attachment coherency",
    },
    {
      raw: "AW: [PATCH] dma-buf: add dma_coherent flag",
      want: { revision: 1, index: undefined, isReply: true, isPatch: true },
      clean: "[PATCH] dma-buf: add dma_coherent flag",
    },
  ];

  for (const row of table) {
    it(`reads ${JSON.stringify(row.raw)}`, () => {
      const s = parseSubject(row.raw);
      expect(s).toMatchObject(row.want);
      expect(s.raw).toBe(row.raw);
      expect(s.clean).toBe(row.clean);
    });
  }

  it("gives the title after every bracket, tags and prefixes removed", () => {
    for (const row of table) {
      expect(parseSubject(row.raw).title).toBe(row.raw.replace(/^.*\]\s*/, ""));
    }
  });

  it("keeps brackets inside the title as title text", () => {
    const s = parseSubject("[PATCH] dma-buf: fix the [sic] message in dma_buf_export()");
    expect(s.title).toBe("dma-buf: fix the [sic] message in dma_buf_export()");
    expect(s.prefixes).toEqual([]);
  });

  it("takes a topic bracket after the patch bracket as a prefix, not a list tag", () => {
    const s = parseSubject("[PATCH 2/4] [media] vb2: drop the dma_sync in prepare");
    expect(s.prefixes).toEqual(["media"]);
    expect(s.listTags).toEqual([]);
    expect(s.title).toBe("vb2: drop the dma_sync in prepare");
  });

  it("reads a zero-padded index and PATCHv2 written together", () => {
    expect(parseSubject("[PATCHv2 01/10] x")).toMatchObject({ revision: 2, index: 1, total: 10 });
  });

  it("does not count a forward as a reply", () => {
    expect(parseSubject("Fwd: [PATCH] x").isReply).toBe(false);
    expect(parseSubject("Re[2]: [PATCH] x").isReply).toBe(true);
  });

  it("says a subject without patch brackets is not a patch", () => {
    const s = parseSubject("Re: dma-buf coherency, next steps");
    expect(s).toMatchObject({ isPatch: false, isReply: true, title: "dma-buf coherency, next steps", clean: "dma-buf coherency, next steps" });
  });

  it("folds the whitespace a folded header leaves", () => {
    const s = parseSubject("[PATCH 1/2] dma-buf: a subject\n  folded over two lines");
    expect(s.title).toBe("dma-buf: a subject folded over two lines");
  });

  it("ignores an n/m past MAX_SERIES_PATCHES and says why: a series gets a slot per patch", () => {
    for (const n of ["4294967295", "100000000", String(MAX_SERIES_PATCHES + 1)]) {
      const s = parseSubject(`[PATCH 1/${n}] dma-buf: x`);
      expect(s).toMatchObject({ isPatch: true, index: undefined, total: undefined, title: "dma-buf: x" });
      expect(s.outOfRange).toBe(`numbered 1/${n}: more than ${MAX_SERIES_PATCHES} patches`);
    }
    const most = parseSubject(`[PATCH ${MAX_SERIES_PATCHES}/${MAX_SERIES_PATCHES}] x`);
    expect(most).toMatchObject({ index: MAX_SERIES_PATCHES, total: MAX_SERIES_PATCHES });
    expect(most.outOfRange).toBeUndefined();
    // A stable review series, as linaro-mm-sig carried one.
    expect(parseSubject("[PATCH 5.16 0073/1039] x")).toMatchObject({ index: 73, total: 1039, prefixes: ["5.16"] });
  });
});
