import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadCatalog } from "../../src/analysis/catalog/load.js";
import type { Catalog } from "../../src/model/catalog.js";
import { baseWorld } from "../../src/model/effect.js";
import { evaluateWorld, type Evaluated } from "../../src/model/evaluate.js";

interface Scenario {
  n: number;
  exporter: string;
  importer: string;
  platform: string;
  pattern: string;
  expected: string;
  inferred?: boolean;
}

const doc = parse(readFileSync(join(import.meta.dirname, "..", "..", "fixtures", "model", "scenarios.yaml"), "utf8")) as {
  scenarios: Scenario[];
  "not-covered": { n: number; reason: string }[];
};

let catalog: Catalog;
let evaluated: Evaluated[];
beforeAll(async () => {
  catalog = await loadCatalog();
  evaluated = evaluateWorld(baseWorld(catalog));
});

describe("the domain notes' scenario table", () => {
  it("covers every scenario 1-30 or says why not", () => {
    const covered = new Set([...doc.scenarios.map((s) => s.n), ...doc["not-covered"].map((s) => s.n)]);
    const missing = Array.from({ length: 30 }, (_, i) => i + 1).filter((n) => !covered.has(n));
    expect(missing).toEqual([]);
  });

  for (const s of doc.scenarios) {
    it(`#${s.n}: ${s.exporter} -> ${s.importer} (${s.platform}), ${s.pattern}: ${s.expected}${s.inferred ? " (inferred)" : ""}`, () => {
      const e = evaluated.find((x) => x.exporter.id === s.exporter && x.importer.id === s.importer && x.platform === s.platform && x.pattern.id === s.pattern);
      expect(e, "configuration exists in the matrix").toBeDefined();
      expect(e!.outcome.kind).toBe(s.expected);
      if (s.expected !== "ok") expect(e!.outcome.trace.length).toBeGreaterThan(0);
    });
  }
});
