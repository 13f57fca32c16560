import { describe, expect, it } from "vitest";
import { ghostRevisions, isGhost } from "../../src/feedback/ghost.js";
import { trackSeries } from "../../src/feedback/track.js";
import { buildMessage, type Message } from "../../src/patch/message.js";
import { groupSeries } from "../../src/patch/series.js";
import { fields } from "../helpers/mail.js";
import { JANE, mail } from "./build.js";
import { trackDeps } from "./fixture.js";

const ROB = { name: "Rob Reviewer", email: "rob@example.net" };
const TITLE = "dma-buf: frob: take the reservation lock in frob_map";
// v1 went to another list: its cover and patches are absent, replies to them arrived.
const V1_COVER = "v1-0-frob@example.org";
const V1_P1 = "v1-1-frob@example.org";
const V1_P2 = "v1-2-frob@example.org";

function reply(id: string, subject: string, parent: string, refs: readonly string[], body: string, from = ROB, day = 1): Message {
  return buildMessage(
    fields({
      messageId: id,
      subject,
      inReplyTo: parent,
      references: refs,
      from,
      to: [JANE],
      date: new Date(Date.UTC(2026, 10, 2 + day, 12, 0)),
      body,
    }),
  );
}

const review = reply(
  "rob-1@example.net",
  `Re: [PATCH 1/2] ${TITLE}`,
  V1_P1,
  [V1_COVER, V1_P1],
  [
    "On Mon, Nov 02, 2026 at 10:00:00AM +0000, Jane Dev wrote:",
    "> @@ -40,6 +40,8 @@ static struct sg_table *frob_map(struct dma_buf_attachment *at,",
    ">  \tstruct frob_buffer *buf = at->dmabuf->priv;",
    "> +\tfrob_lock(buf);",
    "",
    "Please take the reservation lock with dma_resv_lock() here instead of frob_lock().",
    "",
    "Rob",
    "",
  ].join("\n"),
);
const chatter = reply("rob-2@example.net", `Re: [PATCH 2/2] ${TITLE}`, V1_P2, [V1_COVER, V1_P2], "Hi Jane,\n\nThanks!\n\nRob\n", ROB, 2);
// An ack and a snip marker under a quote: neither is a point to track on code nobody here can see.
const acked = reply(
  "ann-1@example.net",
  `Re: [PATCH 2/2] ${TITLE}`,
  V1_P2,
  [V1_COVER, V1_P2],
  "On Mon, Nov 02, 2026 at 10:00:00AM +0000, Jane Dev wrote:\n> +\tfrob_doc(buf);\n\n[ ... ]\n\nAcked-by: Ann Other <ann@example.com>\n",
  { name: "Ann Other", email: "ann@example.com" },
  3,
);

function v2(): Message[] {
  const refs = ["v2-0-frob@example.org"];
  return [
    mail({ id: "v2-0-frob@example.org", subject: `[PATCH v2 0/2] ${TITLE}`, day: 5, body: "Changes in v2:\n- use dma_resv_lock\n" }),
    mail({ id: "v2-1-frob@example.org", subject: `[PATCH v2 1/2] ${TITLE}`, parent: refs[0], refs, day: 5, changes: [{ path: "drivers/dma-buf/frob.c", line: "\tdma_resv_lock(buf->resv, NULL);" }] }),
    mail({ id: "v2-2-frob@example.org", subject: `[PATCH v2 2/2] dma-buf: frob: document the lock`, parent: refs[0], refs, day: 5 }),
  ];
}

describe("revisions known only from replies", () => {
  it("rebuilds v1 from replies to absent patches and tracks its points against v2", async () => {
    const grouped = groupSeries([review, chatter, acked, ...v2()]);
    expect(grouped.orphanReplies.map((m) => m.messageId).sort()).toEqual(["ann-1@example.net", "rob-1@example.net", "rob-2@example.net"]);
    const current = grouped.series.find((s) => s.id === "v2-0-frob@example.org")!;
    const deps = await trackDeps();

    // Without the replies whose patch is absent there is nothing before v2.
    expect(trackSeries(current, grouped.series, deps).kind).toBe("no-previous");

    const r = trackSeries(current, grouped.series, { ...deps, orphans: grouped.orphanReplies });
    expect(r.kind).toBe("tracked");
    if (r.kind !== "tracked") return;
    const [ghost] = r.tracker.revisions;
    expect(isGhost(ghost!)).toBe(true);
    expect(ghost!.id).toBe(V1_COVER);
    expect(ghost!.slots[0]?.messageId).toBe(V1_P1);
    expect(ghost!.slots[0]?.files).toEqual([]);
    expect(ghost!.author.email).toBe(JANE.email);
    expect(r.tracker.links[0]?.previous).toBe(ghost);
    // One point: the request; the thanks, the ack and the snip marker on patch 2 are not review points.
    expect(r.tracker.items.map((i) => [i.source, i.version, i.patch.index])).toEqual([["rob-1@example.net", 1, 1]]);
    const item = r.tracker.items[0]!;
    expect(item.evidence[0]).toMatch(/^v1 is known only from replies/);
    // The quoted hunk is the ghost's known text: code, never read as its commit message.
    expect(ghost!.slots[0]?.body).toContain("+\tfrob_lock(buf);");
    expect(ghost!.slots[0]?.commitMessage).toBe("");
    expect(item.anchor.kind).not.toBe("prose");
    expect(item.anchor.quoted.join("\n")).toContain("frob_lock(buf);");
  });

  it("leaves a thread alone when a known series holds its root", () => {
    // Only patch 1 of v2 reached the archive (its cover and patch 2 went elsewhere): a reply to patch 2
    // is an orphan, yet v2 is known, and a second v2 would take its place in the chain.
    const posted = v2().filter((m) => m.messageId === "v2-1-frob@example.org");
    const late = reply("rob-3@example.net", `Re: [PATCH v2 2/2] ${TITLE}`, "v2-2-frob@example.org", ["v2-0-frob@example.org", "v2-2-frob@example.org"], "Please rename it.\n", ROB, 7);
    const grouped = groupSeries([...posted, late]);
    expect(grouped.orphanReplies.map((m) => m.messageId)).toEqual(["rob-3@example.net"]);
    expect(ghostRevisions(grouped.orphanReplies, grouped.series)).toEqual([]);
  });

  it("makes no revision of replies whose subject names no patch", () => {
    const stray = reply("rob-4@example.net", "Re: dma-buf: frob questions", "absent@example.net", ["absent@example.net"], "Please explain.\n");
    expect(ghostRevisions([stray], [])).toEqual([]);
  });

  it("calls a point on a patch the next revision renamed unclear, never dropped or unchanged", async () => {
    // v2 reworked the series under new titles and a cover with no changelog: nothing pairs the
    // ghost's patch 1, whose code nobody here has seen, with a patch of v2.
    const refs = ["v2-0-frob@example.org"];
    const renamed = [
      mail({ id: "v2-0-frob@example.org", subject: `[PATCH v2 0/2] ${TITLE}`, day: 5, body: "Reworked.\n" }),
      mail({ id: "v2-1-frob@example.org", subject: "[PATCH v2 1/2] dma-buf: add a reservation helper", parent: refs[0], refs, day: 5, changes: [{ path: "drivers/dma-buf/dma-resv.c", line: "\treturn 0;" }] }),
      mail({ id: "v2-2-frob@example.org", subject: "[PATCH v2 2/2] dma-buf: frob: convert to the helper", parent: refs[0], refs, day: 5 }),
    ];
    const grouped = groupSeries([review, ...renamed]);
    const current = grouped.series.find((s) => s.id === "v2-0-frob@example.org")!;
    const r = trackSeries(current, grouped.series, { ...(await trackDeps()), orphans: grouped.orphanReplies });
    expect(r.kind).toBe("tracked");
    if (r.kind !== "tracked") return;
    const item = r.tracker.items.find((i) => i.source === "rob-1@example.net")!;
    expect(item.verdict).toBe("unclear");
    expect(item.evidence.join("\n")).toMatch(/known only from replies and pairs with no patch of v2/);
  });
});
