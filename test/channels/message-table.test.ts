import { describe, expect, it } from "vitest";
import { mapMessages, MessageTable, TableMirror } from "../../src/channels/message-table.js";
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

describe("TableMirror", () => {
  it("sends as a key alone exactly what the table it mirrors holds, through evictions", () => {
    const table = new MessageTable(100);
    const mirror = new TableMirror(100);
    // Bodies of 0..59 characters, replies among them, keys coming back in a fixed scramble.
    const all = Array.from({ length: 40 }, (_, i) => message(`m${i}`, "x".repeat((i * 37) % 60), i % 5 === 0 ? [] : diff));
    let stubs = 0;
    for (let step = 0; step < 400; step++) {
      const m = all[(step * step + 3 * step) % all.length]!;
      const copy = { ...m };
      const sent = mirror.send(m.messageId, copy);
      if ("held" in sent) {
        stubs++;
        expect(table.resolve(sent).messageId).toBe(m.messageId);
      } else {
        expect(sent).toBe(copy);
        const held = table.intern(m.messageId, copy);
        // Sent whole: the table did not hold it, so the copy is the canonical one now.
        expect(held).toBe(copy);
      }
    }
    expect(stubs).toBeGreaterThan(50);
    expect(stubs).toBe(table.reused);
  });

  it("is refused a key the table does not hold: the two have drifted apart, a bug, not a guess", () => {
    expect(() => new MessageTable(100).resolve({ held: "nothing" })).toThrow(/not held/);
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
