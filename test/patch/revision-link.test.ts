import { describe, expect, it } from "vitest";
import { loadMessages } from "../../src/ingest/mbox/messages.js";
import { groupSeries, type Series } from "../../src/patch/series.js";
import { effectiveRevision, findPrevious, latestRevisions, normaliseTitle, pairPatches, readProse, revisionChain } from "../../src/patch/revision-link.js";
import { outline } from "../../src/ingest/outline.js";
import { fixture } from "../helpers/mail.js";
import { mail } from "../feedback/build.js";

const JOE = { name: "Joe Other", email: "joe@example.com" };

function group(...messages: Parameters<typeof mail>[0][]): Series[] {
  return [...groupSeries(messages.map(mail)).series];
}

const byId = (all: readonly Series[], id: string) => all.find((s) => s.id === id)!;

describe("findPrevious", () => {
  it("links by b4 change-id, to the closest earlier revision (v3 follows v2, not v1)", () => {
    const cid = "\n---\nbase-commit: 1234567\nchange-id: 20261102-flag-0123456789ab\n";
    const all = group(
      { id: "v1c", subject: "[PATCH 0/1] dma-buf: a flag", body: `Cover.${cid}` },
      { id: "v1p", subject: "[PATCH 1/1] dma-buf: add a flag", parent: "v1c" },
      { id: "v2c", subject: "[PATCH v2 0/1] dma-buf: the flag, renamed", body: `Cover.${cid}`, day: 3 },
      { id: "v2p", subject: "[PATCH v2 1/1] dma-buf: add the flag", parent: "v2c", day: 3 },
      { id: "v3c", subject: "[PATCH v3 0/1] something else entirely", body: `Cover.${cid}`, day: 6, from: JOE },
      { id: "v3p", subject: "[PATCH v3 1/1] other", parent: "v3c", day: 6, from: JOE },
    );
    const v3 = findPrevious(byId(all, "v3c"), all)!;
    expect(v3.previous.id).toBe("v2c");
    expect(v3.how).toBe("change-id");
    expect(v3.detail).toBe("change-id 20261102-flag-0123456789ab");
    const chain = revisionChain(byId(all, "v3c"), all);
    expect(chain.revisions.map((s) => s.id)).toEqual(["v1c", "v2c", "v3c"]);
    expect(chain.links.map((l) => l.how)).toEqual(["change-id", "change-id"]);
    expect(latestRevisions(all).map((s) => s.id)).toEqual(["v3c"]);
  });

  it("does not take a series sent later for an earlier revision: a series started again at v1 is not before the old v3", () => {
    const all = group(
      { id: "v3c", subject: "[PATCH v3 0/2] drm: associate ddc adapters", day: 1 },
      { id: "v3p1", subject: "[PATCH v3 1/2] drm: add the ddc field", parent: "v3c", day: 1 },
      { id: "v3p2", subject: "[PATCH v3 2/2] drm/foo: use the ddc field", parent: "v3c", day: 1 },
      { id: "n1c", subject: "[PATCH 0/2] drm: next round of ddc adapters", day: 30 },
      { id: "n1p1", subject: "[PATCH 1/2] drm: add the ddc field", parent: "n1c", day: 30 },
      { id: "n1p2", subject: "[PATCH 2/2] drm/foo: use the ddc field", parent: "n1c", day: 30 },
    );
    expect(findPrevious(byId(all, "v3c"), all)).toBeUndefined();
    expect(revisionChain(byId(all, "v3c"), all).revisions.map((s) => s.id)).toEqual(["v3c"]);
  });

  it("links a v2 sent in reply to the v1 thread (git send-email --in-reply-to)", () => {
    const all = group(
      { id: "v1p", subject: "[PATCH] dma-buf: fix the thing" },
      { id: "r1", subject: "Re: [PATCH] dma-buf: fix the thing", parent: "v1p", from: JOE, day: 1 },
      { id: "v2p", subject: "[PATCH v2] dma-buf: fix a different thing", parent: "r1", refs: ["v1p", "r1"], day: 2, from: { name: "Jane D.", email: "jane@other.example" } },
    );
    expect(all.map((s) => s.id)).toEqual(["v1p", "v2p"]);
    const link = findPrevious(byId(all, "v2p"), all)!;
    expect(link).toMatchObject({ how: "in-reply-to", detail: "In-Reply-To <r1>", resend: false });
    expect(link.previous.id).toBe("v1p");
  });

  it("links by the `Link to v1:` line b4 writes into the cover letter", () => {
    const all = group(
      { id: "v1c@x", subject: "[PATCH 0/1] dma-buf: old title" },
      { id: "v1p@x", subject: "[PATCH 1/1] dma-buf: one", parent: "v1c@x" },
      {
        id: "v2c@x",
        subject: "[PATCH v2 0/1] dma-buf: new title",
        body: "Cover.\n\nChanges in v2:\n- Everything\n- Link to v1: https://lore.kernel.org/r/v1c%40x\n",
        from: JOE,
        day: 4,
      },
      { id: "v2p@x", subject: "[PATCH v2 1/1] dma-buf: two", parent: "v2c@x", from: JOE, day: 4 },
    );
    const link = findPrevious(byId(all, "v2c@x"), all)!;
    expect(link).toMatchObject({ how: "link", detail: "cover letter links <v1c@x>" });
  });

  it("links by normalised title and author, and not across authors", () => {
    const all = group(
      { id: "a1", subject: "[PATCH] dma-buf: Add the coherent flag." },
      { id: "b1", subject: "[PATCH] dma-buf: add coherent flag", from: JOE, day: 1 },
      { id: "a2", subject: "[PATCH v2] dma-buf: add coherent flag", day: 2 },
    );
    const link = findPrevious(byId(all, "a2"), all)!;
    expect(link.previous.id).toBe("a1");
    expect(link.how).toBe("subject");
    expect(findPrevious(byId(all, "b1"), all)).toBeUndefined();
    expect(normaliseTitle("dma-buf: Add the coherent flag.")).toBe("dma-buf: add coherent flag");
  });

  it("links a renamed series by its patch titles", () => {
    const all = group(
      { id: "c1", subject: "[PATCH 0/2] dma-buf: reject broken sharing" },
      { id: "p11", subject: "[PATCH 1/2] dma-buf: add a flag", parent: "c1" },
      { id: "p12", subject: "[PATCH 2/2] drm/prime: set the flag", parent: "c1" },
      { id: "c2", subject: "[PATCH v2 0/3] dma-buf: coherency with an override", day: 5 },
      { id: "p21", subject: "[PATCH v2 1/3] dma-buf: add a flag", parent: "c2", day: 5 },
      { id: "p22", subject: "[PATCH v2 2/3] drm/prime: set the flag", parent: "c2", day: 5 },
      { id: "p23", subject: "[PATCH v2 3/3] drm/amdgpu: clear the flag", parent: "c2", day: 5 },
    );
    const link = findPrevious(byId(all, "c2"), all)!;
    expect(link).toMatchObject({ how: "patch-subjects", detail: "2 patch titles in common, same author" });
    expect(link.previous.id).toBe("c1");
  });

  it("a RESEND links to the revision it repeats, and the next revision follows the resend", () => {
    const all = group(
      { id: "o", subject: "[PATCH] dma-buf: fix" },
      { id: "r", subject: "[RESEND PATCH] dma-buf: fix", day: 7 },
      { id: "v2", subject: "[PATCH v2] dma-buf: fix", day: 9 },
    );
    const resend = findPrevious(byId(all, "r"), all)!;
    expect(resend).toMatchObject({ how: "subject", resend: true });
    expect(resend.previous.id).toBe("o");
    expect(findPrevious(byId(all, "o"), all)).toBeUndefined();
    expect(revisionChain(byId(all, "v2"), all).revisions.map((s) => s.id)).toEqual(["o", "r", "v2"]);
  });

  it("links the dma_coherent fixture's renamed v2 to v1 by change-id", async () => {
    const { messages } = await loadMessages(fixture("feedback/dma-coherent/v1-v2.mbox"));
    const all = groupSeries(messages).series;
    const v2 = all.find((s) => s.revision === 2)!;
    const link = findPrevious(v2, all)!;
    expect(link.how).toBe("change-id");
    expect(link.previous.title).toBe("dma-buf: reject attachments that cannot be coherent");
    expect(v2.title).toBe("dma-buf: coherency flag with an exporter override");
  });
});

describe("what linking reads of the prose, from outlines", () => {
  const specs: Parameters<typeof mail>[0][] = [
    { id: "v1c@x", subject: "[PATCH 0/1] dma-buf: old title" },
    { id: "v1p@x", subject: "[PATCH 1/1] dma-buf: one", parent: "v1c@x" },
    // Linked by its lore link alone: another author, another title.
    { id: "v2c@x", subject: "[PATCH 0/1] dma-buf: new title", body: "Cover.\n\nChanges since\n  v1:\n- Link to v1: https://lore.kernel.org/r/v1c%40x\n", from: JOE, day: 4 },
    { id: "v2p@x", subject: "[PATCH 1/1] dma-buf: two", parent: "v2c@x", from: JOE, day: 4 },
    // Untagged, its revision only in its notes, which a cover letter's reading leaves out.
    { id: "v3p@x", subject: "[PATCH] dma-buf: new title", notes: "v2 -> v3:\n- renamed", from: JOE, day: 8 },
  ];

  it("reads the changelog as a cover letter's and as a patch's, and the lore links", () => {
    const [, , cover, , patch] = specs.map(mail);
    expect(readProse(cover!)).toEqual({ asCover: 2, asPatch: 2, links: ["v1c@x"] });
    expect(readProse(patch!)).toEqual({ asCover: 0, asPatch: 3, links: [] });
    // A Link: tag to a Message-ID with a bare % is read as written, not thrown on.
    expect(readProse({ commitMessage: "Fix it.\n\nLink: https://lore.kernel.org/r/20221020.1a%zz@host.example\n", notes: "" }).links).toEqual(["20221020.1a%zz@host.example"]);
  });

  it("links and numbers the revisions from outlines as from the whole messages", () => {
    const whole = groupSeries(specs.map(mail)).series;
    const outlined = groupSeries(specs.map((s) => outline(mail(s)))).series;
    expect(outlined.flatMap((s) => [s.cover, ...s.slots]).filter((m) => m && m.commitMessage !== "")).toEqual([]);
    const read = (all: readonly Series[]) =>
      all.map((s) => ({
        id: s.id,
        revision: effectiveRevision(s),
        links: revisionChain(s, all).links.map((l) => [l.previous.id, l.series.id, l.how, l.detail]),
      }));
    expect(read(outlined)).toEqual(read(whole));
    expect(read(whole).find((r) => r.id === "v2c@x")).toMatchObject({ revision: 2, links: [["v1c@x", "v2c@x", "link", "cover letter links <v1c@x>"]] });
  });
});

describe("pairPatches", () => {
  const older = group(
    { id: "c1", subject: "[PATCH 0/4] x" },
    { id: "a", subject: "[PATCH 1/4] dma-buf: add flag", parent: "c1", changes: [{ path: "drivers/dma-buf/dma-buf.c", line: "a" }] },
    { id: "b", subject: "[PATCH 2/4] drm/prime: set flag", parent: "c1", changes: [{ path: "drivers/gpu/drm/drm_prime.c", line: "b" }] },
    {
      id: "c",
      subject: "[PATCH 3/4] media: vb2: set the flag everywhere",
      parent: "c1",
      changes: [
        { path: "drivers/media/common/videobuf2/videobuf2-dma-sg.c", line: "c1" },
        { path: "drivers/media/common/videobuf2/videobuf2-vmalloc.c", line: "c2" },
      ],
    },
    { id: "d", subject: "[PATCH 4/4] udmabuf: set flag", parent: "c1", changes: [{ path: "drivers/dma-buf/udmabuf.c", line: "d" }] },
  )[0]!;
  const newer = group(
    { id: "c2", subject: "[PATCH v2 0/5] x", day: 3 },
    { id: "B", subject: "[PATCH v2 1/5] drm/prime: set flag", parent: "c2", day: 3, changes: [{ path: "drivers/gpu/drm/drm_prime.c", line: "B" }] },
    { id: "A", subject: "[PATCH v2 2/5] dma-buf: add a coherency flag", parent: "c2", day: 3, changes: [{ path: "drivers/dma-buf/dma-buf.c", line: "A" }] },
    { id: "C1", subject: "[PATCH v2 3/5] media: vb2-dma-sg: flag", parent: "c2", day: 3, changes: [{ path: "drivers/media/common/videobuf2/videobuf2-dma-sg.c", line: "C1" }] },
    { id: "C2", subject: "[PATCH v2 4/5] media: vb2-vmalloc: flag", parent: "c2", day: 3, changes: [{ path: "drivers/media/common/videobuf2/videobuf2-vmalloc.c", line: "C2" }] },
    { id: "E", subject: "[PATCH v2 5/5] drm/amdgpu: clear flag", parent: "c2", day: 3, changes: [{ path: "drivers/gpu/drm/amd/amdgpu/amdgpu_dma_buf.c", line: "E" }] },
  )[0]!;

  it("pairs a reordered patch by title, a reworded one by title and files, a split one by files", () => {
    const p = pairPatches(older, newer);
    const show = p.pairs.map((x) => `${x.old.index}->${x.new.map((n) => n.index).join("+")} ${x.how}`);
    expect(show).toEqual(["1->2 reworded", "2->1 subject", "3->3+4 files"]);
    expect(p.dropped.map((d) => d.message.messageId)).toEqual(["d"]);
    expect(p.added.map((d) => d.message.messageId)).toEqual(["E"]);
  });

  it("does not pair on a similar title alone when the files differ", () => {
    const o = group({ id: "x1", subject: "[PATCH] dma-buf: add flag to heaps", changes: [{ path: "drivers/dma-buf/heaps/system_heap.c", line: "x" }] })[0]!;
    const n = group({ id: "x2", subject: "[PATCH v2] dma-buf: add flag to udmabuf", day: 2, changes: [{ path: "drivers/dma-buf/udmabuf.c", line: "y" }] })[0]!;
    const p = pairPatches(o, n);
    expect(p.pairs).toEqual([]);
    expect(p.dropped).toHaveLength(1);
    expect(p.added).toHaveLength(1);
  });
});
