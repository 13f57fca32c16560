import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../src/analysis/catalog/load.js";
import type { Catalog } from "../../src/model/catalog.js";
import { compareOutcomes } from "../../src/model/compare.js";
import { fillMessage } from "../../src/model/messages.js";

const SRC = join(import.meta.dirname, "..", "..", "src");
let catalog: Catalog;
beforeAll(async () => {
  catalog = await loadCatalog();
});

describe("model texts and result categories are data", () => {
  it("every message id the code asks for is in model-findings.yaml, and every text there is used", () => {
    const code = ["review/model-findings.ts", "model/compare.ts"].map((f) => readFileSync(join(SRC, f), "utf8")).join("\n");
    const asked = new Set([...code.matchAll(/"((?:cause-|missed-)[a-z-]+|false-positive[a-z-]*|derived-exporter[a-z-]*|userspace-regression|new-hazard|hazard-left-open|fixed|slower|not-modelled|userspace-hazard|import-refused-today)"/g)].map((m) => m[1]!));
    for (const id of asked) expect(catalog.texts.messages.has(id), id).toBe(true);
    const unused = [...catalog.texts.messages.keys()].filter((id) => !asked.has(id));
    expect(unused).toEqual([]);
  });

  it("the result names its categories once, in the order and with the labels the data gives", () => {
    const r = compareOutcomes(catalog, []);
    expect(r.categories.map((c) => c.key)).toEqual(["falsePositives", "userspace", "newHazards", "missed", "fixed", "slower", "introduced"]);
    for (const c of r.categories) expect(Array.isArray(r[c.key])).toBe(true);
  });

  it("fills placeholders, capitalises {What}, and refuses a missing value", () => {
    expect(fillMessage(catalog.texts, "slower", { count: 3 })).toMatch(/^3 configurations stay correct/);
    expect(fillMessage(catalog.texts, "new-hazard", { what: "this change", count: 2 })).toMatch(/^This change makes 2 configurations/);
    expect(() => fillMessage(catalog.texts, "slower")).toThrow(/no value for \{count\}/);
  });
});
