import { describe, expect, it } from "vitest";
import { groupSeries, type Series } from "../../src/patch/series.js";
import { findPrevious, revisionChain } from "../../src/patch/revision-link.js";
import { mail, type MailSpec } from "./build.js";

// Shapes of real multi-posting histories, rebuilt with our own words and files.

function group(...specs: MailSpec[]): Series[] {
  return [...groupSeries(specs.map(mail)).series];
}

const byId = (all: readonly Series[], id: string) => all.find((s) => s.id === id)!;
const chainIds = (all: readonly Series[], id: string) => revisionChain(byId(all, id), all).revisions.map((s) => s.id);
const file = "drivers/dma-buf/dma-buf.c";

describe("revisions posted inside one thread", () => {
  it("an untagged patch answering the patch it replaces is the next revision, linked to it and not to the first", () => {
    const all = group(
      { id: "a1", subject: "[PATCH] dma-buf: add a check option", changes: [{ path: file, line: "int a;" }] },
      { id: "a2", subject: "[PATCH] dma-buf: add a check option", day: 2, notes: "v2: move the check", changes: [{ path: file, line: "int b;" }] },
      { id: "a3", subject: "[PATCH] dma-buf: add a check option", parent: "a2", day: 2, notes: "v2: move the check\nv3: one helper", changes: [{ path: file, line: "int c;" }] },
      { id: "a4", subject: "[PATCH] dma-buf: add a check option", parent: "a2", day: 3, notes: "v3: one helper\nv4: ifdef", changes: [{ path: file, line: "int d;" }] },
    );
    expect(all.map((s) => s.id)).toEqual(["a1", "a2", "a3", "a4"]);
    expect(chainIds(all, "a4")).toEqual(["a1", "a2", "a3", "a4"]);
    expect(findPrevious(byId(all, "a3"), all)?.previous.id).toBe("a2");
    expect(findPrevious(byId(all, "a4"), all)?.previous.id).toBe("a3");
  });

  it("an identical copy of a patch in its own thread stays a duplicate of it", () => {
    const same = [{ path: file, line: "int a;" }];
    const all = group(
      { id: "b1", subject: "[PATCH] dma-buf: add a check option", changes: same },
      { id: "b1-again", subject: "[PATCH] dma-buf: add a check option", parent: "b1", day: 1, changes: same },
    );
    expect(all).toHaveLength(1);
    expect(all[0]!.duplicates.map((m) => m.messageId)).toEqual(["b1-again"]);
  });

  it("a few patches of v8 posted into the v7 thread come between v7 and v9, even when the v9 cover links v7", () => {
    const v7 = (n: number) => ({ id: `v7p${n}`, subject: `[PATCH v7 ${n}/3] drm: fix part ${n}`, parent: "v7c", changes: [{ path: `drivers/gpu/drm/p${n}.c`, line: "x();" }] });
    const all = group(
      { id: "v7c", subject: "[PATCH v7 0/3] drm: fix the table counts" },
      v7(1),
      v7(2),
      v7(3),
      { id: "v8p", subject: "[PATCH v8] drm: fix part 2", parent: "v7p2", day: 5, changes: [{ path: "drivers/gpu/drm/p2.c", line: "y();" }] },
      { id: "v9c", subject: "[PATCH v9 0/2] drm: fix the table counts", day: 20, body: "Cover.\n\nv8: fixed part 2\nv7: https://lore.kernel.org/r/v7c\n" },
      { id: "v9p1", subject: "[PATCH v9 1/2] drm: fix part 1", parent: "v9c", day: 20 },
      { id: "v9p2", subject: "[PATCH v9 2/2] drm: fix part 2", parent: "v9c", day: 20 },
    );
    const link = findPrevious(byId(all, "v9c"), all)!;
    expect(link.previous.id).toBe("v8p");
    expect(chainIds(all, "v9c")).toEqual(["v7c", "v8p", "v9c"]);
  });
});

describe("numbers that do not order the postings", () => {
  it("a title's 'RFC:' dropped on the next posting still names the same series, and an equal changelog number follows the earlier posting", () => {
    const all = group(
      { id: "r1", subject: "[PATCH] RFC: dma-buf: require a special vma", changes: [{ path: file, line: "int a;" }] },
      { id: "r2", subject: "[PATCH] RFC: dma-buf: require a pfnmap vma", parent: "r1", day: 2, notes: "v2: pfnmap", changes: [{ path: file, line: "int b;" }] },
      { id: "r3", subject: "[PATCH 1/2] dma-buf: require a pfnmap vma", day: 20, notes: "v2: pfnmap", changes: [{ path: file, line: "int c;" }] },
    );
    expect(findPrevious(byId(all, "r2"), all)?.previous.id).toBe("r1");
    expect(findPrevious(byId(all, "r3"), all)?.previous.id).toBe("r2");
  });

  it("an untagged posting follows the posting before it even when that one was tagged with a higher number", () => {
    const all = group(
      { id: "t3", subject: "[PATCH v3 1/4] dma-buf: require a pfnmap vma", day: 1, notes: "v3: warn only" },
      { id: "t4", subject: "[PATCH v4 1/4] dma-buf: require a pfnmap vma", day: 10, notes: "v3: warn only" },
      { id: "t5", subject: "[PATCH 1/4] dma-buf: require a pfnmap vma", day: 30, notes: "v3: warn only" },
    );
    expect(findPrevious(byId(all, "t5"), all)?.previous.id).toBe("t4");
    expect(findPrevious(byId(all, "t4"), all)?.previous.id).toBe("t3");
    expect(chainIds(all, "t5")).toEqual(["t3", "t4", "t5"]);
  });
});
