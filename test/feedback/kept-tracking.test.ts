import { describe, expect, it } from "vitest";
import { patchesDigest, threadDigest } from "../../src/feedback/kept-tracking.js";
import { keyMessage } from "../../src/patch/content-key.js";
import type { Message } from "../../src/patch/message.js";
import type { Series } from "../../src/patch/series.js";
import { seriesOf } from "./fixture.js";

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
