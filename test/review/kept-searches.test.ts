import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Outcome } from "../../src/model/explore.js";
import { keptSearches } from "../../src/review/kept-searches.js";

const OK: Outcome = { kind: "ok", trace: ["{exporter} to {importer}: no access"] };
const STALE: Outcome = { kind: "stale-read", trace: ["CPU reads a stale line"] };

describe("kept searches", () => {
  let dir: string;
  const before = process.env["DMABUF_REVIEW_CACHE"];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "dmabuf-review-kept-"));
    process.env["DMABUF_REVIEW_CACHE"] = dir;
  });
  afterEach(() => {
    if (before === undefined) delete process.env["DMABUF_REVIEW_CACHE"];
    else process.env["DMABUF_REVIEW_CACHE"] = before;
    rmSync(dir, { recursive: true, force: true });
  });
  const files = () => readdirSync(dir).filter((n) => n.startsWith("searches-"));

  it("are kept by a run that added some and read back by the next", () => {
    const first = keptSearches("catalog-1");
    first.cache.set("a#p", OK);
    first.save();
    expect(files()).toHaveLength(1);
    const next = keptSearches("catalog-1");
    expect(next.cache.get("a#p")).toEqual(OK);
    expect([...next.cache.keys()]).toEqual(["a#p"]);
    // Another catalog is another key.
    expect(keptSearches("catalog-2").cache.size).toBe(0);
  });

  it("are read on first use, not when the run starts, and an unused run writes nothing", () => {
    const first = keptSearches("catalog-1");
    first.cache.set("a#p", OK);
    first.save();
    const [file] = files();
    const path = join(dir, file!);
    const unused = keptSearches("catalog-1");
    const later = keptSearches("catalog-1");
    // Written after both were made: only a read on first use can see it.
    writeFileSync(path, JSON.stringify([["b#p", STALE]]));
    expect(later.cache.has("b#p")).toBe(true);
    expect(later.cache.get("a#p")).toBeUndefined();
    unused.save();
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual([["b#p", STALE]]);
    // A first use that writes keeps what was there beside what it adds.
    later.cache.set("c#p", OK);
    later.save();
    expect(new Map(JSON.parse(readFileSync(join(dir, files()[0]!), "utf8")))).toEqual(new Map([["b#p", STALE], ["c#p", OK]]));
  });

  it("a run that only reads them writes nothing back", () => {
    const first = keptSearches("catalog-1");
    first.cache.set("a#p", OK);
    first.save();
    const path = join(dir, files()[0]!);
    writeFileSync(path, JSON.stringify([["a#p", OK]]) + "\n");
    const reader = keptSearches("catalog-1");
    expect(reader.cache.get("a#p")).toEqual(OK);
    reader.save();
    expect(readFileSync(path, "utf8").endsWith("\n")).toBe(true);
  });
});
