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
});
