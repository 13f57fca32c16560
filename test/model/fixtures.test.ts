import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { captureIo } from "../helpers/io.js";

const DIR = join(import.meta.dirname, "..", "..", "fixtures", "model");

interface Config {
  exporter: string;
  importer: string;
  platform: string;
  pattern: string;
  before: string;
  after: string;
  trace: string[];
}

/**
 * Patches whose expected model verdicts sit in their notes:
 *   model-expect: <category> <exporter> <importer> <platform> <pattern> <before> <after>
 *   model-empty: <category> ...     (no configuration in these categories)
 *   model-none: <why>               (no model claim at all)
 *   model-no-stale: <platform>...   (no configuration on these platforms reads stale data or loses a write)
 *   model-untouched: <importer>...  (no configuration with these importers changes)
 *   model-trace: <text>             (some changed configuration's trace has a step containing it)
 */
describe("model verdicts on patches", () => {
  for (const name of readdirSync(DIR).filter((f) => f.endsWith(".patch")).sort()) {
    it(name, async () => {
      const text = readFileSync(join(DIR, name), "utf8");
      const io = captureIo();
      await main(["review", join(DIR, name), "--format", "json"], io);
      expect(io.err()).toBe("");
      const series = JSON.parse(io.out()).series[0];
      const model = series.model as Record<string, Config[]> | null;
      if (/^model-none:/m.test(text)) {
        expect(model).toBeNull();
        expect(series.patches.flatMap((p: { findings: { rule: string }[] }) => p.findings).filter((f: { rule: string }) => f.rule.startsWith("model/"))).toEqual([]);
        return;
      }
      expect(model).not.toBeNull();
      for (const m of text.matchAll(/^model-expect: (\w+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+)$/gm)) {
        const [, category, exporter, importer, platform, pattern, before, after] = m;
        const hit = model![category!]!.find((c) => c.exporter === exporter && c.importer === importer && c.platform === platform && c.pattern === pattern);
        expect(hit, `${category}: ${exporter} -> ${importer} (${platform}) ${pattern}`).toBeDefined();
        expect([hit!.before, hit!.after]).toEqual([before, after]);
        expect(hit!.trace.length).toBeGreaterThan(0);
      }
      for (const m of text.matchAll(/^model-no-stale: (.+)$/gm)) {
        const platforms = m[1]!.split(/\s+/);
        const all = Object.values(model!).filter(Array.isArray).flat() as Config[];
        const bad = all.filter((c) => platforms.includes(c.platform) && /stale-read|lost-write/.test(c.after));
        expect(bad.map((c) => `${c.exporter} -> ${c.importer} (${c.platform}) ${c.pattern}: ${c.after}`)).toEqual([]);
      }
      for (const m of text.matchAll(/^model-untouched: (.+)$/gm)) {
        const importers = m[1]!.split(/\s+/);
        const all = Object.values(model!).filter(Array.isArray).flat() as Config[];
        expect(all.filter((c) => importers.includes(c.importer)).map((c) => `${c.importer} (${c.platform}) ${c.pattern}`)).toEqual([]);
      }
      for (const m of text.matchAll(/^model-trace: (.+)$/gm)) {
        const all = Object.values(model!).filter(Array.isArray).flat() as Config[];
        expect(all.some((c) => c.trace.some((step) => step.includes(m[1]!))), m[1]).toBe(true);
      }
      for (const m of text.matchAll(/^model-empty: (.+)$/gm)) {
        for (const category of m[1]!.split(/\s+/)) expect(model![category], category).toEqual([]);
      }
      // Every model finding sits on a line the patch changed and carries the model result.
      for (const f of series.patches.flatMap((p: { findings: { rule: string; model?: unknown; message: string }[] }) => p.findings)) {
        if (f.rule.startsWith("model/") && f.rule !== "model/not-modelled") expect(f.model).toBeDefined();
      }
    });
  }
});
