import { describe, expect, it } from "vitest";
import { mapMessages, MessageTable } from "../../src/channels/message-table.js";
import { contentKeyOf } from "../../src/patch/content-key.js";
import type { Message } from "../../src/patch/message.js";
import type { Series } from "../../src/patch/series.js";

const diff = [{ path: "drivers/dma-buf/dma-buf.c", hunks: [] }];
const message = (id: string, body: string, files: readonly unknown[] = diff) => ({ messageId: id, body, files }) as unknown as Message;

describe("MessageTable", () => {
  it("answers a key it holds with the message it holds, and keys what it takes in", () => {
    const t = new MessageTable(100);
    const a = message("a", "x".repeat(10));
    expect(t.intern("ka", a)).toBe(a);
    expect(contentKeyOf(a)).toBe("ka");
    const copy = { ...a };
    expect(t.intern("ka", copy)).toBe(a);
    expect(t.reused).toBe(1);
  });

  it("lets go of the least recently used past its bound of body length, and never holds a message larger than it", () => {
    const t = new MessageTable(30);
    const [a, b, c] = ["a", "b", "c"].map((id) => message(id, "x".repeat(10)));
    t.intern("a", a!);
    t.intern("b", b!);
    t.intern("a", { ...a! }); // a used again: b is now the oldest
    t.intern("c", c!);
    t.intern("d", message("d", "x".repeat(5))); // 35 > 30: b goes
    expect(t.intern("a", { ...a! })).toBe(a);
    const b2 = { ...b! };
    expect(t.intern("b", b2)).toBe(b2);
    const big = message("big", "x".repeat(31));
    t.intern("big", big);
    expect(t.intern("big", { ...big })).not.toBe(big);
  });

  it("keys a message without a diff but does not hold it: nothing is cached by what is inside it", () => {
    const t = new MessageTable(100);
    const reply = message("r", "thanks", []);
    const copy = { ...reply };
    expect(t.intern("r", reply)).toBe(reply);
    expect(t.intern("r", copy)).toBe(copy);
    expect(contentKeyOf(copy)).toBe("r");
    expect(t.reused).toBe(0);
  });
});

describe("mapMessages", () => {
  it("visits cover letter, patches, resent copies and replies, in that order, and keeps the rest of the series", () => {
    const [cover, p1, dup, r1, r2] = ["cover", "p1", "dup", "r1", "r2"].map((id) => message(id, ""));
    const s = { id: "cover", title: "t", cover, slots: [p1, undefined], duplicates: [dup], replies: new Map([["p1", [r1!, r2!]]]) } as unknown as Series;
    const seen: string[] = [];
    const out = mapMessages(s, (m) => (seen.push(m.messageId), { ...m }));
    expect(seen).toEqual(["cover", "p1", "dup", "r1", "r2"]);
    expect(out).toMatchObject({ id: "cover", title: "t" });
    expect(out.slots[1]).toBeUndefined();
    expect(out.replies.get("p1")!.map((m) => m.messageId)).toEqual(["r1", "r2"]);
    expect(out.cover).not.toBe(cover);
  });
});
