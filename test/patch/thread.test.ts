import { describe, expect, it } from "vitest";
import { loadMessages } from "../../src/ingest/mbox/messages.js";
import { groupSeries } from "../../src/patch/series.js";
import { assignThread, isThreadDue, repliersOf, untaggedCoverFor, type CoverLookup, type KnownMessage, type SlotMember, type ThreadHeaders, type ThreadLookup } from "../../src/patch/thread.js";
import { fixture } from "../helpers/mail.js";

const headers = (over: Partial<ThreadHeaders> & Pick<ThreadHeaders, "messageId">): ThreadHeaders => ({
  from: "dev@example.org",
  kind: "patch",
  inReplyTo: undefined,
  references: [],
  revision: 1,
  index: undefined,
  total: undefined,
  ...over,
});

/** Known threads by message, and open loose groups by key, as a store would answer. */
function lookup(threads: Record<string, string>, loose: Record<string, string> = {}): ThreadLookup & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    threadOf: (id) => threads[id],
    openLoose: (key, index) => {
      asked.push(`${key}#${index}`);
      return loose[key];
    },
  };
}

describe("assignThread", () => {
  it("joins the parent's thread, trying In-Reply-To, then the last and first References", () => {
    expect(assignThread(headers({ messageId: "r", kind: "reply", inReplyTo: "p", references: ["root", "p"] }), lookup({ p: "T" }))).toBe("T");
    expect(assignThread(headers({ messageId: "r", kind: "reply", inReplyTo: "gone", references: ["root", "mid"] }), lookup({ mid: "M" }))).toBe("M");
    expect(assignThread(headers({ messageId: "r", kind: "reply", inReplyTo: "gone", references: ["root", "mid"] }), lookup({ root: "R" }))).toBe("R");
  });

  it("with no known parent, names the root the headers give: the first reference, else In-Reply-To", () => {
    expect(assignThread(headers({ messageId: "r", inReplyTo: "p", references: ["root", "p"] }), lookup({}))).toBe("root");
    expect(assignThread(headers({ messageId: "r", inReplyTo: "p" }), lookup({}))).toBe("p");
  });

  it("gathers unthreaded numbered patches per author, revision and count while the slot is free", () => {
    const l = lookup({}, { "dev@example.org|v2|3": "loose:dev@example.org|v2|3|first" });
    expect(assignThread(headers({ messageId: "p2", revision: 2, index: 2, total: 3 }), l)).toBe("loose:dev@example.org|v2|3|first");
    expect(l.asked).toEqual(["dev@example.org|v2|3#2"]);
    expect(assignThread(headers({ messageId: "p1", revision: 1, index: 1, total: 3 }), lookup({}))).toBe("loose:dev@example.org|v1|3|p1");
  });

  it("a single patch, or anything else without threading headers, is a thread of its own", () => {
    const l = lookup({});
    expect(assignThread(headers({ messageId: "one", total: 1 }), l)).toBe("one");
    expect(assignThread(headers({ messageId: "cover", kind: "cover", index: 0, total: 3 }), l)).toBe("cover");
    expect(l.asked).toEqual([]);
  });
});

const slot = (over: Partial<SlotMember>): SlotMember => ({ kind: "patch", status: "seen", revision: 1, patchIndex: 1, patchTotal: 1, arrivedAt: 100, ...over });

describe("isThreadDue", () => {
  it("a complete revision is due at once; one missing a patch waits series-wait from its oldest message", () => {
    const complete = [slot({ kind: "cover", patchIndex: 0, patchTotal: 2 }), slot({ patchIndex: 1, patchTotal: 2 }), slot({ patchIndex: 2, patchTotal: 2, arrivedAt: 150 })];
    expect(isThreadDue(complete, 150, 3600)).toBe(true);
    const missing = complete.slice(0, 2);
    expect(isThreadDue(missing, 150, 3600)).toBe(false);
    expect(isThreadDue(missing, 100 + 3599, 3600)).toBe(false);
    expect(isThreadDue(missing, 100 + 3600, 3600)).toBe(true);
  });

  it("only revisions awaiting review count; skipped messages and replies never do", () => {
    const reviewedV1 = [slot({ status: "reviewed", patchIndex: 1, patchTotal: 2 })];
    const v2 = [slot({ revision: 2, patchIndex: 1, patchTotal: 1, arrivedAt: 200 })];
    expect(isThreadDue([...reviewedV1, ...v2], 200, 3600)).toBe(true);
    // A skipped copy does not fill the slot its revision waits for.
    expect(isThreadDue([slot({ patchIndex: 1, patchTotal: 2 }), slot({ status: "skipped", patchIndex: 2, patchTotal: 2 })], 100, 3600)).toBe(false);
    expect(isThreadDue([slot({ kind: "reply" })], 100, 3600)).toBe(true);
  });

  it("a stored index outside 1..total fills no slot", () => {
    expect(isThreadDue([slot({ patchIndex: 7, patchTotal: 1 })], 100, 3600)).toBe(false);
    expect(isThreadDue([slot({ patchIndex: null, patchTotal: null })], 100, 3600)).toBe(true);
  });
});

describe("repliersOf", () => {
  const post = (messageId: string, kind: string, inReplyTo: string | null, author: string | null = `${messageId}@example.org`) => ({ messageId, kind, inReplyTo, author });

  it("files each replier under the patch or cover letter the reply answers, through replies to replies", () => {
    const r = repliersOf([
      post("cover", "cover", null),
      post("p1", "patch", "cover"),
      post("a", "reply", "p1"),
      post("b", "reply", "a"),
      post("c", "reply", "cover"),
      post("a2", "reply", "b", "a@example.org"),
    ]);
    expect(r.get("p1")).toEqual([{ name: "a@example.org", email: "a@example.org" }, { name: "b@example.org", email: "b@example.org" }]);
    expect(r.get("cover")).toEqual([{ name: "c@example.org", email: "c@example.org" }]);
  });

  it("a reply whose patch is not in the thread, a loop, or no address files nobody", () => {
    const r = repliersOf([post("p1", "patch", null), post("x", "reply", "elsewhere"), post("l1", "reply", "l2"), post("l2", "reply", "l1"), post("n", "reply", "p1", null)]);
    expect([...r]).toEqual([]);
  });
});

describe("untaggedCoverFor: the cover rule groupSeries uses, one message at a time", () => {
  const COVER = "c@example.org";
  /** A store holding `rows`, answering by Message-ID and by In-Reply-To. */
  function store(rows: (KnownMessage & { inReplyTo?: string })[]): CoverLookup {
    return {
      message: (id) => rows.find((r) => r.messageId === id),
      answersTo: (id) => rows.filter((r) => r.inReplyTo === id),
    };
  }
  const coverRow: KnownMessage = { messageId: COVER, kind: "other", subject: "[Linaro-mm-sig] Try to address it", author: "dev@example.org", revision: 1, index: null, total: null };
  const patch = (i: number, over: Partial<ThreadHeaders> = {}) => ({
    ...headers({ messageId: `p${i}@example.org`, inReplyTo: COVER, references: [COVER], index: i, total: 3 }),
    subject: `[Linaro-mm-sig] [PATCH ${i}/3] dma-buf: part ${i}`,
    ...over,
  });
  const patchRow = (i: number, over: Partial<KnownMessage> = {}) => ({
    messageId: `p${i}@example.org`, kind: "patch", subject: `[PATCH ${i}/3] dma-buf: part ${i}`, author: "dev@example.org", revision: 2, index: i, total: 3, inReplyTo: COVER, ...over,
  });
  const coverMessage = { ...headers({ messageId: COVER, kind: "other" }), subject: coverRow.subject! };

  it("a numbered patch shows the parent it answers, a plain mail by its author, as slot 0 of its series", () => {
    expect(untaggedCoverFor(patch(1), store([coverRow]))).toEqual({ messageId: COVER, revision: 1, total: 3 });
    // By References alone, as groupSeries reads the parent too.
    expect(untaggedCoverFor(patch(2, { inReplyTo: undefined }), store([coverRow]))).toEqual({ messageId: COVER, revision: 1, total: 3 });
  });

  it("a plain mail read after its numbered patches is the cover itself", () => {
    expect(untaggedCoverFor(coverMessage, store([patchRow(2)]))).toEqual({ messageId: COVER, revision: 2, total: 3 });
    expect(untaggedCoverFor({ ...coverMessage, kind: "reply", inReplyTo: "v1@example.org" }, store([patchRow(1)]))).toMatchObject({ messageId: COVER });
  });

  it("not a reply, not a patch tag, not someone else's mail, not an unnumbered patch", () => {
    expect(untaggedCoverFor(patch(1), store([{ ...coverRow, subject: "Re: Try to address it" }]))).toBeUndefined();
    expect(untaggedCoverFor(patch(1), store([{ ...coverRow, author: "reviewer@example.com" }]))).toBeUndefined();
    expect(untaggedCoverFor(patch(1), store([{ ...coverRow, kind: "patch" }]))).toBeUndefined();
    expect(untaggedCoverFor(patch(1, { total: undefined, index: undefined }), store([coverRow]))).toBeUndefined();
    expect(untaggedCoverFor({ ...coverMessage, subject: "Re: [PATCH 1/3] dma-buf: part 1" }, store([patchRow(1)]))).toBeUndefined();
    expect(untaggedCoverFor(coverMessage, store([patchRow(1, { author: "other@example.net" })]))).toBeUndefined();
  });

  it("agrees with groupSeries on a fixture of that shape, whichever order the archive holds it in", async () => {
    const { messages } = await loadMessages(fixture("series/untagged-cover-3.mbox"));
    const grouped = groupSeries(messages).series;
    expect(grouped.map((s) => [s.id, s.cover?.messageId, s.total])).toEqual([["20260402101500.7700-1-erik.exporter@example.net", "20260402101500.7700-1-erik.exporter@example.net", 3]]);
    for (const order of [messages, [...messages].reverse()]) {
      const rows: (KnownMessage & { inReplyTo?: string })[] = [];
      const found = new Set<string>();
      for (const m of order) {
        const h = { messageId: m.messageId, from: m.from.email.toLowerCase(), kind: m.kind, inReplyTo: m.inReplyTo, references: m.references, revision: m.parsedSubject.revision, index: m.parsedSubject.index, total: m.parsedSubject.total, subject: m.subject };
        const c = untaggedCoverFor(h, store(rows));
        if (c) found.add(c.messageId);
        rows.push({ messageId: m.messageId, kind: m.kind, subject: m.subject, author: h.from, revision: h.revision, index: h.index ?? null, total: h.total ?? null, ...(m.inReplyTo ? { inReplyTo: m.inReplyTo } : {}) });
      }
      expect([...found]).toEqual([grouped[0]!.id]);
    }
  });
});
