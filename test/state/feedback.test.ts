import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { trackAll, type Tracker } from "../../src/feedback/track.js";
import { renderTrackerText } from "../../src/review/render/tracker.js";
import type { Verdict } from "../../src/feedback/verdict.js";
import { FeedbackStore } from "../../src/state/feedback.js";
import { Store } from "../../src/state/store.js";
import { dropMessage, seriesOf, trackDeps, V1_COVER, V2_COVER } from "../feedback/fixture.js";

const tmp = () => join(mkdtempSync(join(tmpdir(), "dmabuf-review-feedback-")), "state.db");

async function tracker(edit?: (s: string) => string): Promise<Tracker> {
  const r = trackAll(await seriesOf(edit), await trackDeps())[0]!;
  if (r.kind !== "tracked") throw new Error(r.reason);
  return r.tracker;
}

describe("feedback store", () => {
  it("keeps links and judged items across a restart, and reports the verdicts an update changes", async () => {
    const path = tmp();
    const before = await tracker((s) => dropMessage(s, "YWxleC1hbnN3ZXItam9uYXM@example.com"));
    let store = Store.open(path);
    let fb = new FeedbackStore(store.db);
    expect(fb.saveTracking(before)).toHaveLength(9);
    store.close();

    store = Store.open(path);
    fb = new FeedbackStore(store.db);
    expect(fb.links(V2_COVER)).toEqual([
      { seriesId: V2_COVER, previousId: V1_COVER, how: "change-id", detail: "change-id 20221020-dma-coherent-7d1f2a3b4c5e", resend: false },
    ]);
    expect(fb.followers(V1_COVER)).toEqual([V2_COVER]);
    const items = fb.items(V2_COVER);
    expect(items.map((i) => `${i.itemId} ${i.verdict} ${i.patch} ${i.author}`)).toEqual([
      "1.1 not addressed 1/3 Priya Raman <priya.raman@example.org>",
      "1.2 addressed 1/3 Priya Raman <priya.raman@example.org>",
      "1.3 unclear 2/3 Sam Okafor <sam.okafor@example.net>",
      "1.4 not addressed 1/3 Jonas Weber <jonas.weber@example.de>",
      "1.5 addressed 2/3 Mei Tanaka <mei.tanaka@example.jp>",
      "1.6 obsolete 3/3 Tomas Lindgren <tomas.lindgren@example.se>",
      "1.7 addressed 3/3 Hana Novak <hana.novak@example.cz>",
      "1.8 not addressed 0/3 Ravi Kumar <ravi.kumar@example.in>",
      "1.9 unclear 0/3 Nadia Leclerc <nadia.leclerc@example.ca>",
    ]);
    expect(items[3]!.evidence).toEqual(before.items[3]!.evidence);

    // The author's answer arrives: one verdict changes, and only that one is reported.
    const after = await tracker();
    expect(fb.saveTracking(after)).toEqual([{ itemId: "1.4", from: "not addressed", to: "answered" }]);
    expect(fb.items(V2_COVER)[3]!.verdict).toBe("answered");
    store.close();
  });

  it("finds a point again by its reply and text when a late reply renumbers the items", async () => {
    const store = Store.open(tmp());
    const fb = new FeedbackStore(store.db);
    // Sam's reply (item 1.3) reaches the archive late: every later item moves up by one.
    const early = await tracker((s) => dropMessage(s, "c2FtLXJldmlld2Vk@example.net"));
    fb.saveTracking(early);
    const late = await tracker();
    expect(late.items.map((i) => i.id)).not.toEqual(early.items.map((i) => i.id));
    const sam = late.items.find((i) => i.source === "c2FtLXJldmlld2Vk@example.net")!;
    expect(fb.changes(late)).toEqual([{ itemId: sam.id, from: undefined, to: sam.verdict }]);
    expect(fb.saveTracking(late)).toEqual([{ itemId: sam.id, from: undefined, to: sam.verdict }]);
    // A reply's one point whose sentence now reads differently is still that point, not a new one.
    const one = late.items.find((i) => late.items.filter((x) => x.source === i.source).length === 1)!;
    const to: Verdict = one.verdict === "addressed" ? "unclear" : "addressed";
    const reworded = { ...late, items: late.items.map((i) => (i === one ? { ...i, text: `${i.text} (reworded)`, verdict: to } : i)) };
    expect(fb.changes(reworded)).toEqual([{ itemId: one.id, from: one.verdict, to }]);
    store.close();
  });

  it("says whether a tracker is new, changed or the same, and counts the writes", async () => {
    const store = Store.open(tmp());
    const fb = new FeedbackStore(store.db);
    const first = renderTrackerText(await tracker((s) => dropMessage(s, "YWxleC1hbnN3ZXItam9uYXM@example.com")));
    const second = renderTrackerText(await tracker());
    expect(fb.compareTracker("mail", V2_COVER, V2_COVER, first)).toBe("new");
    // Not recorded (the post failed): still new.
    expect(fb.compareTracker("mail", V2_COVER, V2_COVER, first)).toBe("new");
    fb.recordTracker("mail", V2_COVER, V2_COVER, first);
    expect(fb.compareTracker("mail", V2_COVER, V2_COVER, first)).toBe("unchanged");
    expect(fb.compareTracker("mail", V2_COVER, V2_COVER, second)).toBe("updated");
    fb.recordTracker("mail", V2_COVER, V2_COVER, second);
    expect(fb.tracker("mail", V2_COVER)).toMatchObject({ seriesId: V2_COVER, body: second, writes: 2 });
    expect(fb.compareTracker("gitlab", V2_COVER, V2_COVER, second)).toBe("new");
    store.close();
  });
});
