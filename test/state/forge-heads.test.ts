import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ForgeHeads } from "../../src/state/forge-heads.js";
import { Store } from "../../src/state/store.js";

describe("forge heads", () => {
  it("keeps the pushes of a change in the order they were seen, the first sighting of a head winning, across a restart", () => {
    const path = join(mkdtempSync(join(tmpdir(), "dmabuf-review-heads-")), "state.db");
    let store = Store.open(path);
    let heads = new ForgeHeads(store.db);
    heads.record("github", "o/r#2", "b".repeat(40), "2026-11-02T10:00:00.000Z");
    heads.record("github", "o/r#2", "a".repeat(40), "2026-11-01T10:00:00.000Z");
    heads.record("github", "o/r#2", "b".repeat(40), "2026-11-09T10:00:00.000Z");
    heads.record("github", "o/r#3", "c".repeat(40), "2026-11-01T09:00:00.000Z");
    store.close();
    store = Store.open(path);
    heads = new ForgeHeads(store.db);
    expect(heads.list("github", "o/r#2")).toEqual([
      { sha: "a".repeat(40), seenAt: "2026-11-01T10:00:00.000Z" },
      { sha: "b".repeat(40), seenAt: "2026-11-02T10:00:00.000Z" },
    ]);
    expect(heads.list("gitlab", "o/r#2")).toEqual([]);
    store.close();
  });

  it("no two migrations share a number (the store applies each number once, so the second would be skipped)", () => {
    const numbers = readdirSync(join(import.meta.dirname, "..", "..", "src", "state", "migrations"))
      .filter((f) => f.endsWith(".sql"))
      .map((f) => f.slice(0, 3));
    expect(numbers.length).toBeGreaterThan(3);
    expect(new Set(numbers).size).toBe(numbers.length);
  });
});
