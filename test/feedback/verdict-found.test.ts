// Wrong verdicts on found items (issue 16), one case each; the mail is made up to the shape of the threads.
import { describe, expect, it } from "vitest";
import { trackSeries, type Tracker } from "../../src/feedback/track.js";
import { groupSeries, type Series } from "../../src/patch/series.js";
import { diffOf, mail, type MailSpec } from "./build.js";
import { trackDeps } from "./fixture.js";

const PRIYA = { name: "Priya Raman", email: "priya@example.org" };
const CORE = "drivers/dma-buf/dma-buf.c";
const quoted = (line: string) => ["> @@ -1,2 +1,3 @@", ">  #include <linux/dma-buf.h>", `> +${line}`].join("\n");

function groupOf(specs: readonly MailSpec[]): Series[] {
  return [...groupSeries(specs.map(mail)).series];
}

async function trackLatest(specs: readonly MailSpec[], latest: string): Promise<Tracker> {
  const all = groupOf(specs);
  const r = trackSeries(all.find((s) => s.id === latest)!, all, await trackDeps());
  if (r.kind !== "tracked") throw new Error(r.reason);
  return r.tracker;
}

describe("the author answering from another address", () => {
  it("a reply under the author's full name from a second address is the author's answer, not a new point", async () => {
    const t = await trackLatest(
      [
        { id: "a1", subject: "[PATCH] dma-buf: reword the gate comment", changes: [{ path: CORE, line: "/* the gate is taken by the caller */" }] },
        {
          id: "ask",
          subject: "Re: [PATCH] dma-buf: reword the gate comment",
          parent: "a1",
          from: PRIYA,
          day: 1,
          body: `${quoted("/* the gate is taken by the caller */")}\n\nWhich caller takes the gate, the importer or the exporter callback?\n`,
        },
        {
          id: "ans",
          subject: "Re: [PATCH] dma-buf: reword the gate comment",
          parent: "ask",
          refs: ["a1", "ask"],
          from: { name: "Jane Dev", email: "jane@home.example.net" },
          day: 2,
          body: "> Which caller takes the gate, the importer or the exporter callback?\n\nThat sentence is only re-wrapped here, I did not change what it says because the callers are documented elsewhere.\n",
        },
        { id: "a2", subject: "[PATCH v2] dma-buf: reword the gate comment", day: 4, changes: [{ path: CORE, line: "/* the gate is taken by the caller */" }] },
      ],
      "a2",
    );
    expect(t.items.map((i) => `${i.author.name} ${i.verdict}`)).toEqual(["Priya Raman answered"]);
  });
});

describe("a patch dropped after an objection", () => {
  const series = (body: string): MailSpec[] => [
    { id: "c1", subject: "[PATCH 0/2] dma-buf: rework the gate", body: "Two patches.\n" },
    { id: "d1", subject: "[PATCH 1/2] dma-buf: take the gate at attach", parent: "c1", changes: [{ path: CORE, line: "int gate_at_attach;" }] },
    { id: "d2", subject: "[PATCH 2/2] dma-buf: document the gate", parent: "c1", changes: [{ path: "include/linux/dma-buf.h", line: "/* gate */" }] },
    { id: "obj", subject: "Re: [PATCH 1/2] dma-buf: take the gate at attach", parent: "d1", refs: ["c1", "d1"], from: PRIYA, day: 1, body: `${quoted("int gate_at_attach;")}\n\n${body}\n` },
    { id: "c2", subject: "[PATCH v2 0/1] dma-buf: rework the gate", day: 4, body: "One patch left.\n" },
    { id: "e1", subject: "[PATCH v2 1/1] dma-buf: document the gate", parent: "c2", day: 4, changes: [{ path: "include/linux/dma-buf.h", line: "/* gate */" }] },
  ];

  it("is the objection taken: addressed", async () => {
    const t = await trackLatest(series("That won't work like this: the gate has to be dropped and taken again on contention."), "c2");
    expect(t.items.map((i) => `${i.source} ${i.verdict}`)).toEqual(["obj addressed"]);
  });

  it("a point that only asks about the dropped patch stays moot: obsolete", async () => {
    const t = await trackLatest(series("Please rebase this on the tree with the new gate helpers."), "c2");
    expect(t.items.map((i) => `${i.source} ${i.verdict}`)).toEqual(["obj obsolete"]);
  });
});

describe("a request met in the kernel's own words", () => {
  it("an ERR_PTR the code must expect is met by an IS_ERR_OR_NULL check: addressed", async () => {
    const t = await trackLatest(
      [
        { id: "m1", subject: "[PATCH] dma-buf: check the mapped table", changes: [{ path: CORE, line: "if (!table) return;" }] },
        { id: "ask", subject: "Re: [PATCH] dma-buf: check the mapped table", parent: "m1", from: PRIYA, day: 1, body: `${quoted("if (!table) return;")}\n\nThe table returned here could also be an ERR_PTR().\n` },
        { id: "m2", subject: "[PATCH v2] dma-buf: check the mapped table", day: 3, changes: [{ path: CORE, line: "if (IS_ERR_OR_NULL(table)) return;" }] },
      ],
      "m2",
    );
    expect(t.items.map((i) => `${i.source} ${i.verdict}`)).toEqual(["ask addressed"]);
  });
});

describe("a commit message naming the wrong thing", () => {
  const patch = (id: string, subject: string, message: string, day: number): MailSpec => ({
    id,
    subject,
    day,
    body: `${message}\n\nSigned-off-by: Jane Dev <jane.dev@example.org>\n---\n${diffOf([{ path: CORE, line: "vma->vm_flags &= ~VM_PFNMAP;" }])}\n`,
  });
  const OLD = "Heap pages have page structs.\nClear the VM_IO and VM_PFNMAP flags when mapping them.";

  it("the wrongly named flag gone from the new message is the point addressed", async () => {
    const t = await trackLatest(
      [
        patch("h1", "[PATCH] dma-buf: heaps: map pages as normal memory", OLD, 0),
        { id: "ask", subject: "Re: [PATCH] dma-buf: heaps: map pages as normal memory", parent: "h1", from: PRIYA, day: 1, body: "> Clear the VM_IO and VM_PFNMAP flags when mapping them.\n\nThe patch never touches VM_IO, please fix the description.\n" },
        patch("h2", "[PATCH v2] dma-buf: heaps: map pages as normal memory", "Heap pages have page structs.\nClear the VM_PFNMAP flag when mapping them.", 3),
      ],
      "h2",
    );
    expect(t.items.map((i) => `${i.source} ${i.verdict}`)).toEqual(["ask addressed"]);
  });
});

describe("two points in one reply", () => {
  it("a paragraph turning to another point (BTW, ...) with its own question is its own item", async () => {
    const t = await trackLatest(
      [
        { id: "x1", subject: "[PATCH] vfio: export a region", changes: [{ path: "drivers/vfio/pci/export.c", line: "map_region(priv->dev, priv->size);" }] },
        {
          id: "ask",
          subject: "Re: [PATCH] vfio: export a region",
          parent: "x1",
          from: PRIYA,
          day: 1,
          body: `${quoted("map_region(priv->dev, priv->size);")}\n\nThis maps into the default domain, so will the importer translate the address back?\n\nBTW, I don't see where priv->index is set, is it the requested region index?\n`,
        },
        { id: "x2", subject: "[PATCH v2] vfio: export a region", day: 3, changes: [{ path: "drivers/vfio/pci/export.c", line: "map_region(priv->dev, priv->size);" }] },
      ],
      "x2",
    );
    expect(t.items.map((i) => i.text)).toEqual([
      "This maps into the default domain, so will the importer translate the address back?",
      "BTW, I don't see where priv->index is set, is it the requested region index?",
    ]);
  });
});

describe("lines the reviewer asked to drop", () => {
  it("gone from the next revision is the point addressed, though the author first argued for them", async () => {
    const t = await trackLatest(
      [
        { id: "r1", subject: "[PATCH] dma-buf: restore on failure", changes: [{ path: CORE, line: "if (ret) restore_file(vma, old);" }] },
        { id: "ask", subject: "Re: [PATCH] dma-buf: restore on failure", parent: "r1", from: PRIYA, day: 1, body: `${quoted("if (ret) restore_file(vma, old);")}\n\nThis line is cargo cult: when mmap fails the vma is freed, no point in restoring anything.\n` },
        {
          id: "why",
          subject: "Re: [PATCH] dma-buf: restore on failure",
          parent: "ask",
          refs: ["r1", "ask"],
          day: 2,
          body: "> This line is cargo cult: when mmap fails the vma is freed, no point in restoring anything.\n\nIt was added on purpose to fix a crash in an older driver, because that driver looked at the file after a failed mmap.\n",
        },
        { id: "r2", subject: "[PATCH v2] dma-buf: restore on failure", day: 4, changes: [{ path: CORE, line: "ret = call_exporter(dmabuf);" }] },
      ],
      "r2",
    );
    expect(t.items.map((i) => `${i.source} ${i.verdict}`)).toEqual(["ask addressed"]);
  });
});

describe("a changelog naming a struct member", () => {
  it("speaks about the point that named the member, though it has no underscore", async () => {
    const PATCH = "drivers/vfio/pci/export.c";
    const t = await trackLatest(
      [
        { id: "v1c", subject: "[PATCH 0/1] vfio: export a region", body: "Export regions.\n" },
        { id: "v1p", subject: "[PATCH 1/1] vfio: export a region", parent: "v1c", changes: [{ path: PATCH, line: "priv->size = len;" }] },
        { id: "ask", subject: "Re: [PATCH 1/1] vfio: export a region", parent: "v1p", refs: ["v1c", "v1p"], from: PRIYA, day: 1, body: `${quoted("priv->size = len;")}\n\nWhere does priv->index get its value?\n` },
        { id: "v2c", subject: "[PATCH v2 0/1] vfio: export a region", day: 4, body: "Export regions.\n\nChanges in v2:\n - Set priv->index\n - Rebased on the ioctl split\n" },
        { id: "v2p", subject: "[PATCH v2 1/1] vfio: export a region", parent: "v2c", day: 4, changes: [{ path: PATCH, line: "priv->size = len; priv->index = idx;" }] },
      ],
      "v2c",
    );
    expect(t.items.map((i) => `${i.source} ${i.verdict} ${i.evidence.some((e) => e.includes("Set priv->index"))}`)).toEqual(["ask addressed true"]);
  });
});

describe("a bare vN: line over bullets", () => {
  it("heads the changes of that revision", async () => {
    const { parseChangelog } = await import("../../src/feedback/changelog.js");
    const text = "Export regions.\n\nv2:\n - Name the file export.c\n - Set priv->index\nv1: https://example.org/r/v1\n";
    expect(parseChangelog(text, 2)).toEqual([
      { revision: 2, text: "Name the file export.c" },
      { revision: 2, text: "Set priv->index" },
      { revision: 1, text: "https://example.org/r/v1" },
    ]);
  });
});

describe("an answer in one block to two points", () => {
  it("goes to the point its words speak about", async () => {
    const t = await trackLatest(
      [
        { id: "u1", subject: "[PATCH] udmabuf: add vmap", changes: [{ path: "drivers/dma-buf/udmabuf.c", line: "static int vmap_udmabuf(struct dma_buf *buf);" }] },
        {
          id: "ask",
          subject: "Re: [PATCH] udmabuf: add vmap",
          parent: "u1",
          from: PRIYA,
          day: 1,
          body: `${quoted("static int vmap_udmabuf(struct dma_buf *buf);")}\n\nPlease drop the robot line from the commit message, it did not report this.\n\nAnd keep in mind that it might be necessary to implement the begin/end cpu access callbacks for the mapping as well.\n`,
        },
        {
          id: "ans",
          subject: "Re: [PATCH] udmabuf: add vmap",
          parent: "ask",
          refs: ["u1", "ask"],
          day: 2,
          body: "Thanks for the lesson.\nThe cpu access callbacks are not needed here because the pages come from memfd and are coherent for the cpu anyway.\n",
        },
        { id: "u2", subject: "[PATCH v2] udmabuf: add vmap", day: 4, changes: [{ path: "drivers/dma-buf/udmabuf.c", line: "static int vmap_udmabuf(struct dma_buf *buf);" }] },
      ],
      "u2",
    );
    expect(t.items.map((i) => `${i.text.slice(0, 24)}: ${i.verdict}`)).toEqual(["Please drop the robot li: not addressed", "And keep in mind that it: answered"]);
  });
});

describe("a changelog entry and two points under one quote", () => {
  it("goes to the point whose own words it shares, not to both", async () => {
    const t = await trackLatest(
      [
        { id: "w1", subject: "[PATCH] udmabuf: add vmap", trailers: ["Reported-by: kernel test robot <lkp@intel.com>"], changes: [{ path: "drivers/dma-buf/udmabuf.c", line: "static int vmap_udmabuf(void);" }] },
        {
          id: "ask",
          subject: "Re: [PATCH] udmabuf: add vmap",
          parent: "w1",
          from: PRIYA,
          day: 1,
          body: "> Reported-by: kernel test robot <lkp@intel.com>\n\nPlease drop this line, the robot only gets credit for a report it made.\n\nAnd keep in mind that it might be necessary to implement the begin/end cpu access callbacks for the mapping as well.\n",
        },
        { id: "ans", subject: "Re: [PATCH] udmabuf: add vmap", parent: "ask", refs: ["w1", "ask"], day: 2, body: "Thanks.\nThe cpu access callbacks are not needed here because the pages come from memfd and are coherent for the cpu anyway.\n" },
        { id: "w2", subject: "[PATCH v2] udmabuf: add vmap", day: 4, notes: "v2: removed the line crediting the kernel test robot", changes: [{ path: "drivers/dma-buf/udmabuf.c", line: "static int vmap_udmabuf(void);" }] },
      ],
      "w2",
    );
    expect(t.items.map((i) => `${i.text.slice(0, 24)}: ${i.verdict}`)).toEqual(["Please drop this line, t: addressed", "And keep in mind that it: answered"]);
  });
});

describe("a request opening on \"Needs\"", () => {
  it("asks for a change, even with a friendly \"fine with me\" after it", async () => {
    const { classify } = await import("../../src/feedback/items.js");
    expect(classify("Needs a summary of the options we tried here. Copying the old thread is fine with me.")).toBe("change requested");
    expect(classify("Looks good and fine with me.")).toBe("ack");
  });
});

describe("a request met in another patch", () => {
  it("the quoted lines stay, a new Kconfig entry elsewhere carries the point: addressed", async () => {
    const DRV = "drivers/gpu/drm/foo/foo_dma_buf.c";
    const v = (n: number, kconfig: boolean): MailSpec[] => {
      const tag = n === 1 ? "PATCH" : `PATCH v${n}`;
      const c = `c${n}`;
      return [
        { id: c, subject: `[${tag} 0/2] dma-buf: move notify`, day: 3 * (n - 1), body: "Move notify.\n" },
        {
          id: `k${n}`,
          subject: `[${tag} 1/2] dma-buf: add move notify`,
          parent: c,
          day: 3 * (n - 1),
          changes: [{ path: CORE, line: "int dma_buf_notify_move(void);" }, ...(kconfig ? [{ path: "drivers/dma-buf/Kconfig", line: '\tbool "Move notify between drivers (EXPERIMENTAL)"' }] : [])],
        },
        { id: `d${n}`, subject: `[${tag} 2/2] drm/foo: use move notify`, parent: c, day: 3 * (n - 1), changes: [{ path: DRV, line: "foo_bo_invalidate(bo);" }] },
      ];
    };
    const ask: MailSpec = {
      id: "ask",
      subject: "Re: [PATCH 2/2] drm/foo: use move notify",
      parent: "d1",
      refs: ["c1", "d1"],
      from: PRIYA,
      day: 1,
      body: `${quoted("foo_bo_invalidate(bo);")}\n\nPlease put move notify behind an experimental config option until the locking is settled.\n`,
    };
    const met = await trackLatest([...v(1, false), ask, ...v(2, true)], "c2");
    expect(met.items.map((i) => `${i.source} ${i.verdict}`)).toEqual(["ask addressed"]);
    const unmet = await trackLatest([...v(1, false), ask, ...v(2, false)], "c2");
    expect(unmet.items.map((i) => `${i.source} ${i.verdict}`)).toEqual(["ask not addressed"]);
  });
});
