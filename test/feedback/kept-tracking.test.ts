import { describe, expect, it } from "vitest";
import { patchesDigest, threadDigest } from "../../src/feedback/kept-tracking.js";
import { keyMessage } from "../../src/patch/content-key.js";
import type { Message } from "../../src/patch/message.js";
import type { Series } from "../../src/patch/series.js";
import { trackSeries } from "../../src/feedback/track.js";
import { groupSeries } from "../../src/patch/series.js";
import { ReviewCache } from "../../src/review/review-cache.js";
import { JANE, mail, type MailSpec } from "./build.js";
import { seriesOf, trackDeps } from "./fixture.js";

describe("kept tracking: digests of a revision", () => {
  it("read a decoded message by its content key, which stands for all of it", async () => {
    const [s] = await seriesOf();
    const slot = s!.slots.find((m): m is Message => m !== undefined)!;
    // Two objects given one key are one message to the digests, whatever their fields say.
    const other = { ...slot, body: `${slot.body}\nanother line` };
    keyMessage(other, "the same key");
    const keyed = { ...slot };
    keyMessage(keyed, "the same key");
    const over = (m: Message): Series => ({ ...s!, slots: s!.slots.map((x) => (x === slot ? m : x)) });
    expect(patchesDigest(over(other))).toBe(patchesDigest(over(keyed)));
    expect(threadDigest(over(other))).toBe(threadDigest(over(keyed)));
  });

  it("read a message without a key (built, or derived from another) by all its fields", async () => {
    const [s] = await seriesOf();
    const slot = s!.slots.find((m): m is Message => m !== undefined)!;
    const over = (m: Message): Series => ({ ...s!, slots: s!.slots.map((x) => (x === slot ? m : x)) });
    expect(patchesDigest(over({ ...slot }))).toBe(patchesDigest(over({ ...slot })));
    expect(patchesDigest(over({ ...slot, body: `${slot.body}\nanother line` }))).not.toBe(patchesDigest(over({ ...slot })));
  });
});

describe("kept tracking: judgements across trackings", () => {
  const CORE = "drivers/dma-buf/dma-buf.c";
  const PRIYA = { name: "Priya Raman", email: "priya@example.org" };
  const v1: MailSpec = { id: "k1", subject: "[PATCH] dma-buf: gate", changes: [{ path: CORE, line: "gate_t gate;" }] };
  const ask: MailSpec = { id: "ka", subject: "Re: [PATCH] dma-buf: gate", parent: "k1", from: PRIYA, day: 1, body: "> +gate_t gate;\n\nPlease make this a plain int.\n" };
  const v2: MailSpec = { id: "k2", subject: "[PATCH v2] dma-buf: gate", day: 3, changes: [{ path: CORE, line: "int gate;" }] };
  const later: MailSpec = { id: "kb", subject: "Re: [PATCH v2] dma-buf: gate", parent: "k2", from: PRIYA, day: 4, body: "Thanks, that looks good to me now.\n" };
  const answer: MailSpec = { id: "kc", subject: "Re: [PATCH] dma-buf: gate", parent: "ka", from: JANE, day: 2, body: "> Please make this a plain int.\n\nWill do in v2, thanks.\n" };

  it("a reviewer's reply on the latest revision leaves the earlier points' judgements kept; an author's reply does not", async () => {
    const deps = { ...(await trackDeps()), reviews: new ReviewCache() };
    const track = (specs: readonly MailSpec[]) => {
      const all = groupSeries(specs.map(mail)).series;
      const r = trackSeries(all.find((s) => s.id === "k2")!, all, deps);
      if (r.kind !== "tracked") throw new Error(r.reason);
      return r.tracker;
    };
    const first = track([v1, ask, v2]);
    expect(first.items).toHaveLength(1);
    const again = track([v1, ask, v2, later]);
    expect(again.pending).toBe(first.pending + 1);
    expect(again.items[0]).toBe(first.items[0]);
    // The author's answers are read from every thread of the chain: one more is judged anew.
    const answered = track([v1, ask, answer, v2, later]);
    expect(answered.items[0]).not.toBe(first.items[0]);
  });
});
