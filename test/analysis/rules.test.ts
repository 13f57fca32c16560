import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultRulesDir, loadRuleFile } from "../../src/analysis/rules/load.js";
import { InputError } from "../../src/errors.js";
import { allFindings, bundledRules, reviewPath } from "../helpers/review.js";

const rulesDir = defaultRulesDir();
const fixturesDir = join(rulesDir, "..", "fixtures", "rules");
const brokenDir = join(rulesDir, "..", "fixtures", "rules-broken");

function ruleFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return e.name === "schema" || e.name === "catalog" ? [] : ruleFiles(full);
    return e.name.endsWith(".yaml") ? [full] : [];
  });
}

interface Expectations {
  readonly expect: string[];
  readonly none: string[];
  readonly later: string[];
}

/** `expect:` lines live in the notes after `---`, which `git am` ignores. */
function expectations(text: string): Expectations {
  const grab = (key: string) => [...text.matchAll(new RegExp(`^${key}: *(.+)$`, "gm"))].map((m) => m[1]!.trim());
  return { expect: grab("expect"), none: grab("expect-none"), later: grab("expect-later") };
}

const files = ruleFiles(rulesDir).sort();

describe("rules", () => {
  it("has at least ten rules", () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  for (const file of files) {
    const id = relative(rulesDir, file).replace(/\.yaml$/, "");
    describe(id, () => {
      it("validates against the schema and its id matches its path", async () => {
        const rule = await loadRuleFile(file, rulesDir);
        expect(rule.doc.id).toBe(id);
      });

      const dir = join(fixturesDir, id);
      const fixtures = existsSync(dir) ? readdirSync(dir).filter((f) => /\.(patch|mbox|eml)$/.test(f)).sort() : [];
      it("has a fires- and a quiet- fixture", () => {
        expect(fixtures.some((f) => f.startsWith("fires-"))).toBe(true);
        expect(fixtures.some((f) => f.startsWith("quiet-"))).toBe(true);
      });

      for (const fixture of fixtures) {
        it(`${fixture}: yields exactly the expected findings`, async () => {
          const path = join(dir, fixture);
          const exp = expectations(readFileSync(path, "utf8"));
          if (fixture.startsWith("fires-")) expect(exp.expect.some((e) => e.startsWith(`${id} `))).toBe(true);
          if (fixture.startsWith("quiet-")) expect(exp.none).toContain(id);
          const review = await reviewPath(path);
          expect(review.skipped).toEqual([]);
          const got = allFindings(review)
            .map((f) => `${f.rule} ${f.file}:${f.line}`)
            .filter((f) => !exp.later.includes(f))
            .sort();
          expect(got).toEqual([...exp.expect].sort());
          for (const rule of exp.none) expect(got.filter((g) => g.startsWith(`${rule} `))).toEqual([]);
        });
      }
    });
  }

  it("every rule message and reference is non-empty", async () => {
    for (const r of await bundledRules()) {
      expect(r.doc.message.length).toBeGreaterThan(20);
      expect(r.doc.references.length).toBeGreaterThan(0);
    }
  });
});

describe("broken rule files", () => {
  // Grouped like rules/ (rules-broken/<group>/<name>.yaml) so that a file's only defect is its own.
  const broken = existsSync(brokenDir) ? ruleFiles(brokenDir).map((f) => relative(brokenDir, f)).sort() : [];
  it("there are broken-rule fixtures", () => {
    expect(broken.length).toBeGreaterThanOrEqual(3);
  });
  for (const name of broken) {
    it(`${name} fails to load with an error naming the file and the field`, async () => {
      const path = join(brokenDir, name);
      const wanted = /^# error: (.+)$/m.exec(readFileSync(path, "utf8"))?.[1];
      expect(wanted, "the fixture says which error it expects in a `# error:` comment").toBeDefined();
      const err = await loadRuleFile(path, rulesDir, brokenDir).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).reason).toBe("bad-rule");
      expect((err as InputError).source).toBe(path);
      expect((err as InputError).message).toContain(wanted!);
    });
  }
});
