import { describe, expect, it } from "vitest";
import { trackAll, type TrackResult } from "../../src/feedback/track.js";
import { outline, outliner } from "../../src/ingest/outline.js";
import { latestRevisions, revisionChain } from "../../src/patch/revision-link.js";
import { changedLines, groupSeries, type Series } from "../../src/patch/series.js";
import { renderTrackJson, trackerJson, trackJsonStream } from "../../src/review/render/tracker.js";
import { messagesOf, trackDeps } from "../feedback/fixture.js";

/** The document as JSON.stringify makes it whole: what the pieces must add up to. */
function whole(results: readonly TrackResult[]): string {
  const doc = {
    series: results.flatMap((r) => (r.kind === "tracked" ? [trackerJson(r.tracker)] : [])),
    untracked: results.flatMap((r) => (r.kind === "no-previous" ? [{ subject: r.series.title, version: r.series.revision, messageId: r.series.id, reason: r.reason }] : [])),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function shape(all: readonly Series[]) {
  const ids = (s: Series) => ({
    id: s.id,
    cover: s.cover?.messageId,
    slots: s.slots.map((m) => m?.messageId),
    duplicates: s.duplicates.map((m) => m.messageId),
    replies: [...s.replies].map(([k, l]) => [k, l.map((m) => m.messageId)]),
  });
  const latest = latestRevisions(all);
  return { series: all.map(ids), chains: latest.map((l) => revisionChain(l, all).revisions.map((s) => s.id)) };
}

describe("track output in pieces", () => {
  it("adds up to the whole JSON document, tracked or not", async () => {
    const results = trackAll(groupSeries(await messagesOf()).series, await trackDeps());
    const lone: TrackResult = { kind: "no-previous", series: results[0]!.series, reason: "nothing to track" };
    for (const rs of [[], [lone], results, [lone, ...results, lone]]) {
      const doc = trackJsonStream();
      expect(rs.map((r) => doc.add(r)).join("") + doc.end()).toBe(whole(rs));
      expect(renderTrackJson(rs)).toBe(whole(rs));
    }
  });
});

describe("message outlines", () => {
  it("group and link as the full messages do, without their text", async () => {
    const messages = await messagesOf();
    const outlines = messages.map(outline);
    expect(shape(groupSeries(outlines).series)).toEqual(shape(groupSeries(messages).series));
    expect(outlines.every((m) => m.body === "" && m.files.every((f) => f.hunks.length <= 1))).toBe(true);
  });

  it("are the same from an outliner that keeps one copy of each text, and keep their own dates", async () => {
    const messages = await messagesOf();
    const shared = outliner();
    const outlines = messages.map((m) => shared(m));
    expect(outlines).toEqual(messages.map((m) => outline(m)));
    expect(shape(groupSeries(outlines).series)).toEqual(shape(groupSeries(messages).series));
    const dated = outlines.find((m) => m.date !== undefined)!;
    expect(dated.date).toBeInstanceOf(Date);
    expect(dated.date).not.toBe(messages[outlines.indexOf(dated)]!.date);
    // Their empty lists are one frozen list: a write to it throws instead of reaching every outline.
    const [a, b] = outlines;
    expect(a!.to).toBe(b!.cc);
    expect(Object.isFrozen(a!.trailers)).toBe(true);
    expect(() => (a!.to as unknown[]).push({ name: "x", email: "x@example.org" })).toThrow(TypeError);
  });

  it("tell a changed diff from a copy, as grouping compares them", async () => {
    const patches = (await messagesOf()).filter((m) => m.kind === "patch" && m.files.length > 0);
    const [a, b] = [patches[0]!, patches[1]!];
    expect(changedLines(outline(a))).toBe(changedLines(outline({ ...a })));
    expect(changedLines(outline(a)) === changedLines(outline(b))).toBe(changedLines(a) === changedLines(b));
  });
});
