import { describe, expect, it } from "vitest";
import { loadMessages } from "../../src/ingest/mbox/messages.js";
import { buildMessage, type Message } from "../../src/patch/message.js";
import { groupSeries } from "../../src/patch/series.js";
import { MAX_SERIES_PATCHES } from "../../src/patch/subject.js";
import type { InputError } from "../../src/errors.js";
import { fields, fixture } from "../helpers/mail.js";

/** A one-hunk patch body touching `path`, enough for buildMessage to call it a patch. */
function patchBody(path: string, line: string): string {
  return [
    `Change ${path}.`,
    "",
    "Signed-off-by: Jane Dev <jane.dev@example.org>",
    "---",
    `diff --git a/${path} b/${path}`,
    "index 1111111..2222222 100644",
    `--- a/${path}`,
    `+++ b/${path}`,
    "@@ -1,2 +1,3 @@",
    " #include <linux/dma-buf.h>",
    `+${line}`,
    " ",
    "",
  ].join("\n");
}

interface Spec {
  id: string;
  subject: string;
  parent?: string;
  refs?: string[];
  from?: string;
  minute?: number;
  body?: string;
}

function msg(s: Spec): Message {
  // Patches get a diff; cover letters (0/n), replies and other mail get prose.
  const wantsDiff = /^\[PATCH/.test(s.subject) && !/ 0\/\d+\]/.test(s.subject);
  return buildMessage(
    fields({
      messageId: s.id,
      subject: s.subject,
      inReplyTo: s.parent,
      references: s.refs ?? (s.parent ? [s.parent] : []),
      from: { name: s.from ?? "Jane Dev", email: `${(s.from ?? "Jane Dev").toLowerCase().replace(" ", ".")}@example.org` },
      date: new Date(Date.UTC(2026, 10, 9, 10, s.minute ?? 0)),
      body: s.body ?? (wantsDiff ? patchBody(`drivers/dma-buf/${s.id}.c`, `/* ${s.id} */`) : "Some words.\n"),
    }),
  );
}

const ids = (list: readonly (Message | undefined)[]) => list.map((m) => m?.messageId);
const replyIds = (map: ReadonlyMap<string, readonly Message[]>) =>
  Object.fromEntries([...map.entries()].map(([k, v]) => [k, v.map((m) => m.messageId)]));

describe("groupSeries on fixture threads", () => {
  it("shallow threading: patches answer the cover; replies hang off the patch, also a reply to a reply", async () => {
    const { messages } = await loadMessages(fixture("messages/series-shallow.mbox"));
    const g = groupSeries(messages);
    expect(g.series).toHaveLength(1);
    const s = g.series[0]!;
    expect(s).toMatchObject({ id: "cover.1795584291.git.jane.dev@example.org", revision: 1, total: 2, missing: [], duplicates: [] });
    expect(s.cover?.parsedSubject.title).toBe("dma-buf: CPU access callbacks come in pairs");
    expect(ids(s.slots)).toEqual(["a108877924.1795584291.git.jane.dev@example.org", "d07fc08547.1795584291.git.jane.dev@example.org"]);
    expect(replyIds(s.replies)).toEqual({
      "a108877924.1795584291.git.jane.dev@example.org": ["87sam1234.fsf@reviewer.example.com", "b2c3d4e5-jane@example.org"],
      "cover.1795584291.git.jane.dev@example.org": ["87sam5678.fsf@reviewer.example.com"],
    });
    expect(g.orphanReplies).toEqual([]);
    expect(g.other).toEqual([]);
  });

  it("deep threading: each patch answers the one before, still one series in index order", async () => {
    const { messages } = await loadMessages(fixture("messages/series-deep.mbox"));
    const g = groupSeries(messages);
    expect(g.series).toHaveLength(1);
    const s = g.series[0]!;
    expect(s).toMatchObject({ id: "20261112-deep-1@example.org", revision: 3, total: 3, missing: [], cover: undefined });
    expect(ids(s.slots)).toEqual(["20261112-deep-1@example.org", "20261112-deep-2@example.org", "20261112-deep-3@example.org"]);
    expect(s.title).toBe("dma-buf: warn about one-sided CPU access callbacks");
  });

  it("joins unthreaded git format-patch files of one author into one series", async () => {
    const { messages } = await loadMessages(fixture("messages/series-unthreaded"));
    expect(messages.map((m) => m.inReplyTo)).toEqual([undefined, undefined, undefined]);
    const g = groupSeries(messages);
    expect(g.series).toHaveLength(1);
    const s = g.series[0]!;
    expect(s.cover?.parsedSubject.index).toBe(0);
    expect(s.slots.map((m) => m?.parsedSubject.index)).toEqual([1, 2]);
    expect(s.missing).toEqual([]);
  });
});

describe("groupSeries", () => {
  it("reports a patch that never arrived as an empty slot", () => {
    const g = groupSeries([
      msg({ id: "c", subject: "[PATCH 0/3] dma-buf: three things" }),
      msg({ id: "p1", subject: "[PATCH 1/3] one", parent: "c" }),
      msg({ id: "p3", subject: "[PATCH 3/3] three", parent: "c" }),
    ]);
    expect(g.series).toHaveLength(1);
    const s = g.series[0]!;
    expect(s.total).toBe(3);
    expect(s.missing).toEqual([2]);
    expect(ids(s.slots)).toEqual(["p1", undefined, "p3"]);
  });

  it("allocates no slots for a count past MAX_SERIES_PATCHES: the patch is refused, a reply to it grouped", () => {
    const err = (() => {
      try {
        msg({ id: "big", subject: "[PATCH 1/4294967295] dma-buf: x" });
      } catch (e) {
        return e as InputError;
      }
      return undefined;
    })();
    expect([err?.reason, err?.detail]).toEqual(["too-large", `numbered 1/4294967295: more than ${MAX_SERIES_PATCHES} patches`]);
    const g = groupSeries([
      msg({ id: "p1", subject: "[PATCH 1/2] one" }),
      msg({ id: "r", subject: "Re: [PATCH 1/100000000] one", parent: "p1" }),
    ]);
    expect(g.series.map((s) => [s.id, s.total, s.slots.length])).toEqual([["p1", 2, 2]]);
    expect(replyIds(g.series[0]!.replies)).toEqual({ p1: ["r"] });
  });

  it("keeps a deep thread together when the patch in the middle is missing", () => {
    const g = groupSeries([
      msg({ id: "p1", subject: "[PATCH 1/3] one" }),
      msg({ id: "p3", subject: "[PATCH 3/3] three", parent: "p2", refs: ["p1", "p2"] }),
    ]);
    expect(g.series).toHaveLength(1);
    expect(g.series[0]!.missing).toEqual([2]);
  });

  it("reports a second copy of a slot in the same thread as a duplicate, and reviews the first", () => {
    const g = groupSeries([
      msg({ id: "c", subject: "[PATCH 0/2] x" }),
      msg({ id: "p1", subject: "[PATCH 1/2] one", parent: "c" }),
      msg({ id: "p2", subject: "[PATCH 2/2] two", parent: "c", minute: 1 }),
      msg({ id: "p2-again", subject: "[PATCH 2/2] two", parent: "c", minute: 5 }),
    ]);
    const s = g.series[0]!;
    expect(ids(s.slots)).toEqual(["p1", "p2"]);
    expect(ids(s.duplicates)).toEqual(["p2-again"]);
  });

  it("reports a second cover letter of the same revision in the thread as a duplicate, never loses it", () => {
    const g = groupSeries([
      msg({ id: "c", subject: "[PATCH 0/2] x" }),
      msg({ id: "c-again", subject: "[PATCH 0/2] x", parent: "c", minute: 2 }),
      msg({ id: "p1", subject: "[PATCH 1/2] one", parent: "c" }),
      msg({ id: "p2", subject: "[PATCH 2/2] two", parent: "c" }),
    ]);
    expect(g.series).toHaveLength(1);
    const s = g.series[0]!;
    expect(s.cover?.messageId).toBe("c");
    expect(ids(s.slots)).toEqual(["p1", "p2"]);
    expect(ids(s.duplicates)).toEqual(["c-again"]);
  });

  it("reads the same Message-ID twice as one message", () => {
    const p = msg({ id: "p1", subject: "[PATCH] one" });
    const g = groupSeries([p, p]);
    expect(g.series).toHaveLength(1);
    expect(g.series[0]!.duplicates).toEqual([]);
  });

  it("attaches a reply to a reply to the patch above them, even when the middle reply is not in the input", () => {
    const g = groupSeries([
      msg({ id: "c", subject: "[PATCH 0/2] x" }),
      msg({ id: "p1", subject: "[PATCH 1/2] one", parent: "c" }),
      msg({ id: "p2", subject: "[PATCH 2/2] two", parent: "c" }),
      msg({ id: "r1", subject: "Re: [PATCH 2/2] two", parent: "p2", refs: ["c", "p2"] }),
      msg({ id: "r2", subject: "Re: [PATCH 2/2] two", parent: "r1", refs: ["c", "p2", "r1"] }),
      msg({ id: "r4", subject: "Re: [PATCH 2/2] two", parent: "r3", refs: ["c", "p2", "r1", "r3"] }),
      msg({ id: "r5", subject: "Re: [PATCH 0/2] x", parent: "c", refs: ["c"] }),
    ]);
    expect(replyIds(g.series[0]!.replies)).toEqual({ p2: ["r1", "r2", "r4"], c: ["r5"] });
  });

  it("makes a v2 posted in reply to the v1 cover letter its own series", () => {
    const g = groupSeries([
      msg({ id: "v1c", subject: "[PATCH 0/2] dma-buf: pairs", minute: 0 }),
      msg({ id: "v1p1", subject: "[PATCH 1/2] one", parent: "v1c", minute: 0 }),
      msg({ id: "v1p2", subject: "[PATCH 2/2] two", parent: "v1c", minute: 0 }),
      msg({ id: "v2c", subject: "[PATCH v2 0/2] dma-buf: pairs", parent: "v1c", minute: 30 }),
      msg({ id: "v2p1", subject: "[PATCH v2 1/2] one", parent: "v2c", refs: ["v1c", "v2c"], minute: 30 }),
      msg({ id: "v2p2", subject: "[PATCH v2 2/2] two", parent: "v2c", refs: ["v1c", "v2c"], minute: 30 }),
      msg({ id: "v2r", subject: "Re: [PATCH v2 1/2] one", parent: "v2p1", refs: ["v1c", "v2c", "v2p1"], minute: 40 }),
    ]);
    expect(g.series.map((s) => [s.id, s.revision, ids(s.slots)])).toEqual([
      ["v1c", 1, ["v1p1", "v1p2"]],
      ["v2c", 2, ["v2p1", "v2p2"]],
    ]);
    expect(replyIds(g.series[1]!.replies)).toEqual({ v2p1: ["v2r"] });
    expect(g.series[0]!.replies.size).toBe(0);
  });

  it("does not join unthreaded patches of two authors", () => {
    const g = groupSeries([
      msg({ id: "a1", subject: "[PATCH 1/2] one", from: "Jane Dev" }),
      msg({ id: "b2", subject: "[PATCH 2/2] two", from: "Sam Reviewer" }),
    ]);
    expect(g.series).toHaveLength(2);
    expect(g.series.map((s) => s.missing)).toEqual([[2], [1]]);
  });

  it("does not join two unthreaded copies of the same slot", () => {
    const g = groupSeries([msg({ id: "a1", subject: "[PATCH 1/2] one" }), msg({ id: "a1b", subject: "[PATCH 1/2] one" })]);
    expect(g.series).toHaveLength(2);
  });

  it("keeps a reply whose patch is not in the input aside, and other mail out of the series", () => {
    const g = groupSeries([
      msg({ id: "p", subject: "[PATCH] one" }),
      msg({ id: "r", subject: "Re: [PATCH] something else", parent: "elsewhere" }),
      msg({ id: "o", subject: "dma-buf BoF at Plumbers" }),
    ]);
    expect(g.series).toHaveLength(1);
    expect(ids(g.orphanReplies)).toEqual(["r"]);
    expect(ids(g.other)).toEqual(["o"]);
  });

  it("orders series by date and names the author and change-id", () => {
    const later = msg({ id: "later", subject: "[PATCH] later", minute: 50 });
    const earlier = msg({
      id: "earlier",
      subject: "[PATCH] earlier",
      minute: 10,
      body: patchBody("drivers/dma-buf/a.c", "/* a */") + "\n-- \nchange-id: 20261109-earlier-1a2b\n",
    });
    const g = groupSeries([later, earlier]);
    expect(g.series.map((s) => s.id)).toEqual(["earlier", "later"]);
    expect(g.series[0]!.author.email).toBe("jane.dev@example.org");
    expect(g.series.map((s) => s.changeId)).toEqual(["20261109-earlier-1a2b", undefined]);
  });

  it("takes a series' change-id from the cover letter", () => {
    const g = groupSeries([
      msg({ id: "c", subject: "[PATCH 0/1] x", body: "Cover.\n\n---\nbase-commit: 0123456789abcdef\nchange-id: 20261109-pairs-77aa\n" }),
      msg({ id: "p1", subject: "[PATCH 1/1] one", parent: "c" }),
    ]);
    expect(g.series[0]!.changeId).toBe("20261109-pairs-77aa");
  });
});
