import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../src/analysis/catalog/load.js";
import { SEVERITY_RANK, type Severity } from "../../src/analysis/rules/schema.js";
import { loadMessages } from "../../src/ingest/mbox/messages.js";
import { CParser } from "../../src/patch/c-source.js";
import { groupSeries } from "../../src/patch/series.js";
import { reviewSeries } from "../../src/review/review-series.js";
import { bundledRules } from "../helpers/review.js";

/**
 * Issue 14's precision cases, one fixture each (fixtures/precision): a finding is about what a
 * patch changes. The expectation is in the fixture's notes: `expect:` is the whole list of
 * findings (a model/not-modelled note aside), `expect-none:` a rule that must stay quiet,
 * `expect-max-severity:` the highest severity allowed.
 */
const dir = join(import.meta.dirname, "..", "..", "fixtures", "precision");
const grab = (text: string, key: string) => [...text.matchAll(new RegExp(`^${key}: *(.+)$`, "gm"))].map((m) => m[1]!.trim());

async function findingsOf(fixture: string) {
  const path = join(dir, fixture);
  const [rules, catalog, parser, loaded] = await Promise.all([bundledRules(), loadCatalog(), CParser.load(), loadMessages(path)]);
  expect(loaded.skipped).toEqual([]);
  return groupSeries(loaded.messages).series.flatMap((s) =>
    reviewSeries(s, rules, parser, { catalog, cache: new Map() }).patches.flatMap((p) => p.findings),
  );
}

describe("precision: what a patch introduces", () => {
  it("a fix around an unchanged line says the line is unchanged, at info", async () => {
    const [f] = (await findingsOf("fix-brackets-existing-vmap.patch")).filter((x) => x.rule.startsWith("fixed/"));
    expect(f?.severity).toBe("info");
    expect(f?.evidence[0]).toMatch(/^unchanged framework call dma_buf_vmap_unlocked at /);
    expect(f?.message).toMatch(/^The patch removes what cpu-access\/vmap-without-bracketing warns about\. Before it: foo_fb_copy\(\)/);
  });

  for (const fixture of readdirSync(dir).filter((f) => f.endsWith(".patch")).sort()) {
    it(fixture, async () => {
      const text = readFileSync(join(dir, fixture), "utf8");
      const findings = await findingsOf(fixture);
      const got = findings.filter((f) => f.rule !== "model/not-modelled").map((f) => `${f.rule} ${f.file}:${f.line}`);
      expect(got.sort()).toEqual(grab(text, "expect").sort());
      for (const rule of grab(text, "expect-none")) expect(got.filter((g) => g.startsWith(`${rule} `))).toEqual([]);
      for (const max of grab(text, "expect-max-severity") as Severity[]) {
        expect(findings.filter((f) => SEVERITY_RANK[f.severity] > SEVERITY_RANK[max]).map((f) => f.rule)).toEqual([]);
      }
    });
  }
});
