import { describe, expect, it } from "vitest";
import { BoundedMap } from "../../src/review/bounded-map.js";

const outcome = (n: number) => ({ kind: "ok" as const, trace: [`step ${n}`] });

describe("BoundedMap", () => {
  it("keeps at most its limit, forgetting the least recently used first", () => {
    const c = new BoundedMap(2, [["a", outcome(1)]]);
    c.set("b", outcome(2));
    c.set("a", outcome(3)); // a known key is replaced and counts as used, nothing forgotten
    expect([...c.keys()]).toEqual(["b", "a"]);
    expect(c.use("b")).toEqual(outcome(2));
    c.set("c", outcome(4));
    expect([...c.keys()]).toEqual(["b", "c"]);
    expect(c.get("c")).toEqual(outcome(4));
    expect(c.size).toBe(2);
  });

  it("computes a missing value once, an undefined one included, and counts a hit as a use", () => {
    const c = new BoundedMap<string, string | undefined>(2);
    let runs = 0;
    const compute = (k: string) => (runs++, k === "none" ? undefined : k.toUpperCase());
    expect(c.keep("a", compute)).toBe("A");
    expect(c.keep("none", compute)).toBeUndefined();
    expect(c.keep("a", compute)).toBe("A");
    expect(c.keep("none", compute)).toBeUndefined();
    expect(runs).toBe(2);
    c.keep("b", compute); // "a" was used before "none": "a" goes
    expect([...c.keys()]).toEqual(["none", "b"]);
  });

  it("with a byte bound, forgets the least recently used until a new entry fits, and keeps none heavier than all of it", () => {
    const c = new BoundedMap<string, string>(10, [], { bytes: 10, weigh: (k, v) => k.length + v.length });
    c.set("a", "1234"); // 5
    c.set("b", "123"); // 4
    expect(c.bytes).toBe(9);
    c.use("a");
    c.set("c", "12"); // 3: "b", used least recently, goes
    expect([...c.keys()]).toEqual(["a", "c"]);
    expect(c.bytes).toBe(8);
    c.set("a", "1"); // replaced: its old weight goes with it
    expect(c.bytes).toBe(5);
    let runs = 0;
    expect(c.keep("big", () => (runs++, "123456789"))).toBe("123456789");
    expect(c.keep("big", () => (runs++, "123456789"))).toBe("123456789");
    expect(runs).toBe(2);
    expect([...c.keys()]).toEqual(["c", "a"]);
    c.delete("c");
    expect(c.bytes).toBe(2);
    c.clear();
    expect(c.bytes).toBe(0);
  });
});
