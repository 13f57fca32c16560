import { describe, expect, it } from "vitest";
import { BoundedSearches } from "../../src/review/bounded-searches.js";

const outcome = (n: number) => ({ kind: "ok" as const, trace: [`step ${n}`] });

describe("BoundedSearches", () => {
  it("keeps at most its limit, forgetting the oldest first", () => {
    const c = new BoundedSearches(2, [["a", outcome(1)]]);
    c.set("b", outcome(2));
    c.set("a", outcome(3)); // a known key is replaced, nothing forgotten
    expect([...c.keys()]).toEqual(["a", "b"]);
    c.set("c", outcome(4));
    expect([...c.keys()]).toEqual(["b", "c"]);
    expect(c.get("c")).toEqual(outcome(4));
    expect(c.size).toBe(2);
  });
});
