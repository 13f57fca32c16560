import { describe, expect, it } from "vitest";
import { groupSeries, type Series } from "../../src/patch/series.js";
import { findPrevious, revisionChain } from "../../src/patch/revision-link.js";
import { trackSeries } from "../../src/feedback/track.js";
import { mail, type MailSpec } from "./build.js";
import { trackDeps } from "./fixture.js";

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

describe("items on untagged revisions", () => {
  it("are numbered by the revision's place in the chain: points on the untagged v2 are 2.n, not a second 1.n", async () => {
    const reviewer = { name: "Priya Raman", email: "priya@example.org" };
    const ask = (id: string, parent: string, day: number, words: string): MailSpec => ({
      id,
      subject: "Re: [PATCH] dma-buf: add a check option",
      parent,
      from: reviewer,
      day,
      body: `> @@ -1,2 +1,3 @@\n>  #include <linux/dma-buf.h>\n> +int x;\n\n${words}\n`,
    });
    const all = group(
      { id: "u1", subject: "[PATCH] dma-buf: add a check option", changes: [{ path: file, line: "int a;" }] },
      ask("q1", "u1", 1, "Please name the option after the check."),
      { id: "u2", subject: "[PATCH] dma-buf: add a check option", parent: "u1", day: 3, notes: "v2: renamed the option", changes: [{ path: file, line: "int b;" }] },
      ask("q2", "u2", 4, "Please document the option in the Kconfig help."),
      { id: "u3", subject: "[PATCH] dma-buf: add a check option", parent: "u1", day: 6, notes: "v3: documented it", changes: [{ path: file, line: "int c;" }] },
    );
    const r = trackSeries(byId(all, "u3"), all, await trackDeps());
    expect(r.kind).toBe("tracked");
    if (r.kind !== "tracked") return;
    expect(r.tracker.items.map((i) => `${i.id} v${i.version} ${i.source}`)).toEqual(["1.1 v1 q1", "2.1 v2 q2"]);
  });
});
