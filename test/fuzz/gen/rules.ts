import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import fc from "fast-check";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { defaultRulesDir } from "../../../src/analysis/rules/load.js";
import { jsonPaths, placeOf, type Json } from "./json.js";

/**
 * Rule files as a rule author breaks them: the real rules of rules/, mutated as data (a field
 * dropped, renamed, retyped, a regex or glob made invalid, an id changed) or as text (cut,
 * a line lost, doubled or mis-indented, YAML anchors and tags), and saved under a path that
 * matches their id or not.
 */
export const RULES_DIR = defaultRulesDir();

function ruleFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return e.name === "schema" || e.name === "catalog" ? [] : ruleFiles(full);
    return e.name.endsWith(".yaml") ? [full] : [];
  });
}

export const REAL_RULES = ruleFiles(RULES_DIR)
  .sort()
  .map((f) => ({ path: relative(RULES_DIR, f), text: readFileSync(f, "utf8") }));

/** A rule file to write under a temporary rules root: where, and what. */
export interface RuleFile {
  readonly path: string;
  readonly text: string;
}

const value: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    null, true, 0, -1, 1e308, "", "error", "warning", "critical", "added", "removed", "any", "ops-member", "cache-sync", "gate",
    "/(a+)+$/", "/[/", "/^dma_sync_(sg|sgtable)_for_(cpu|device)$/", "[", "(", "*", "**/*.c", "{unclosed", "\\", "{name} {nope}",
    "begin_cpu_access", [], {}, ["drivers/**"], [{ at: 0 }], [{ at: -1, pattern: "(" }], { at: "x" }, { doc: 1 },
  ),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

type DocMutation =
  | { readonly kind: "delete" | "wrap"; readonly at: number }
  | { readonly kind: "retext"; readonly at: number; readonly text: string }
  | { readonly kind: "set" | "add"; readonly at: number; readonly key: string; readonly value: Json }
  | { readonly kind: "rename"; readonly at: number; readonly key: string };

type TextMutation =
  | { readonly kind: "cut"; readonly at: number }
  | { readonly kind: "drop-line" | "double-line" | "indent"; readonly at: number }
  | { readonly kind: "insert-line"; readonly at: number; readonly line: string };

const key = fc.oneof(fc.constantFrom("id", "severity", "risk", "match", "kind", "name", "paths", "args", "effect", "series", "with", "message", "references", "x-unknown", ""), fc.string({ maxLength: 8 }));

// A string field given other text (a message, a regex, a glob, a name) keeps the file's shape:
// the mutation most likely to load and then be matched.
const text = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom("{name} in {function} {with.file}", "^\\s*\\.begin_cpu_access", "drivers/**", "**", "dma_buf_*", "(a|b", "(x+x+)+y", "\\", "[^]"),
);

const docMutation: fc.Arbitrary<DocMutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("retext" as const), at: fc.nat(), text }) },
  fc.record({ kind: fc.constantFrom("delete" as const, "wrap" as const), at: fc.nat() }),
  fc.record({ kind: fc.constantFrom("set" as const, "add" as const), at: fc.nat(), key, value }),
  fc.record({ kind: fc.constant("rename" as const), at: fc.nat(), key }),
);

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
  fc.record({ kind: fc.constantFrom("drop-line" as const, "double-line" as const, "indent" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insert-line" as const),
    at: fc.nat(),
    line: fc.oneof(fc.constantFrom("  - : ", "\t", "key: [unclosed", "x: *alias", "y: &anchor 1", "z: !!binary AAAA", "<<: *a", "---", "...", "%YAML 1.1", "id: other/id", "? complex", "a: b: c"), fc.string({ maxLength: 20 })),
  }),
);

function mutateDoc(doc: Json, m: DocMutation): Json {
  const all = jsonPaths(doc);
  if (m.kind === "retext") {
    const strings = all.filter((p) => p.length > 0 && typeof placeOf(doc, p).container[placeOf(doc, p).key] === "string");
    if (strings.length === 0) return doc;
    return mutateDoc(doc, { kind: "set", at: all.indexOf(strings[m.at % strings.length]!), key: "", value: m.text });
  }
  const path = all[m.at % all.length]!;
  if (path.length === 0) return m.kind === "set" ? structuredClone(m.value) : m.kind === "wrap" ? [doc] : doc;
  const copy = structuredClone(doc);
  const { container: parent, key: last } = placeOf(copy, path);
  if (m.kind === "delete") {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (m.kind === "wrap") parent[last] = [parent[last]!];
  // Copies: the constants are shared by every case, and a later mutation must not reach into one.
  else if (m.kind === "set") parent[last] = structuredClone(m.value);
  else if (m.kind === "add") {
    const target = parent[last];
    if (target && typeof target === "object" && !Array.isArray(target)) target[m.key] = structuredClone(m.value);
    else parent[m.key] = structuredClone(m.value);
  } else if (m.kind === "rename" && !Array.isArray(parent)) {
    parent[m.key] = parent[last]!;
    if (m.key !== last) delete parent[last];
  }
  return copy;
}

function mutateText(text: string, m: TextMutation): string {
  if (m.kind === "cut") return text.slice(0, m.at % (text.length + 1));
  const lines = text.split("\n");
  const at = m.at % lines.length;
  if (m.kind === "drop-line") lines.splice(at, 1);
  else if (m.kind === "double-line") lines.splice(at, 0, lines[at]!);
  else if (m.kind === "indent") lines[at] = ` ${lines[at]}`;
  else if (m.kind === "insert-line") lines.splice(at, 0, m.line);
  return lines.join("\n");
}

export const ruleFile: fc.Arbitrary<RuleFile> = fc
  .record({
    rule: fc.constantFrom(...REAL_RULES),
    docMutations: fc.array(docMutation, { maxLength: 2 }),
    textMutations: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(textMutation, { minLength: 1, maxLength: 2 }) }),
    elsewhere: fc.oneof(
      { weight: 8, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom("sync/other-name.yaml", "top.yaml", "deep/er/rule.yml") },
    ),
  })
  .map(({ rule, docMutations, textMutations, elsewhere }) => {
    let doc = parseYaml(rule.text) as Json;
    for (const m of docMutations) doc = mutateDoc(doc, m);
    let text = docMutations.length > 0 ? stringifyYaml(doc) : rule.text;
    for (const m of textMutations) text = mutateText(text, m);
    return { path: elsewhere ?? rule.path, text };
  });
