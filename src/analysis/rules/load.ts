import { readFile, readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { ErrorObject } from "ajv";
import { InputError } from "../../errors.js";
import { describeSchemaError as describe } from "../catalog/schema-error.js";
import { compileRule, type Rule } from "./match.js";
import { loadFacts } from "../catalog/facts.js";
import { dmaApiContradictions, lockContradictions } from "../catalog/dma-api.js";
import type { RuleDoc } from "./schema.js";
import { docKey, lookupDocs, storeDocs } from "../doc-cache.js";

/** The package's own rules/ directory, whether running from src/ or dist/src/. */
export function defaultRulesDir(): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const parts = here.split(sep);
  const at = parts.lastIndexOf("src");
  const root = parts.slice(0, at).join(sep);
  return join(root.endsWith(`${sep}dist`) ? join(root, "..") : root, "rules");
}

let validator: ((doc: unknown) => boolean) & { errors?: ErrorObject[] | null } | undefined;

async function getValidator(rulesDir: string) {
  if (validator) return validator;
  const schema = JSON.parse(await readFile(join(rulesDir, "schema", "rule.schema.json"), "utf8"));
  // Imported here: a start-up that finds the rules kept (doc-cache.ts) never loads the compiler.
  const { Ajv } = await import("ajv");
  const ajv = new Ajv({ allErrors: false, strict: true });
  validator = ajv.compile(schema);
  return validator;
}

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === "schema" || entry.name === "catalog") continue;
      out.push(...(await yamlFiles(full)));
    } else if (entry.name.endsWith(".yaml") || entry.name.endsWith(".yml")) out.push(full);
  }
  return out.sort();
}

/**
 * Load and validate one rule file. A broken rule is an error naming the file and the field;
 * the id must equal the path under rules/ without `.yaml`.
 */
export async function loadRuleFile(file: string, rulesDir: string, idRoot = rulesDir): Promise<Rule> {
  return checkRule(await ruleDoc(file, await readFile(file, "utf8"), rulesDir, idRoot), file, rulesDir);
}

/** One rule file's text parsed and validated against the schema, its id checked against its path. */
async function ruleDoc(file: string, text: string, rulesDir: string, idRoot: string): Promise<RuleDoc> {
  const { parse: parseYaml } = await import("yaml");
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new InputError("bad-rule", `YAML does not parse: ${(err as Error).message.split("\n")[0]}`, file);
  }
  const validate = await getValidator(rulesDir);
  if (!validate(doc)) {
    throw new InputError("bad-rule", describe(validate.errors![0]!), file);
  }
  const rule = doc as RuleDoc;
  const expectedId = relative(idRoot, file).split(sep).join("/").replace(/\.ya?ml$/, "");
  if (rule.id !== expectedId) {
    throw new InputError("bad-rule", `field id is "${rule.id}" but the file path says "${expectedId}"`, file);
  }
  return rule;
}

/** What a valid rule document must still agree with (the DMA API and lock facts), compiled. */
async function checkRule(rule: RuleDoc, file: string, rulesDir: string): Promise<Rule> {
  // Outside the try below: a broken catalog file is its own error, not this rule's.
  const facts = await loadFacts(rulesDir);
  const api = dmaApiContradictions(rule, facts.dmaApi)[0];
  if (api) throw new InputError("bad-rule", `field ${api.field} contradicts the DMA API (${api.rule.id}): "${api.text}"`, file);
  const lock = lockContradictions(rule, facts.locks)[0];
  if (lock) throw new InputError("bad-rule", `field ${lock.field} contradicts the ${lock.rule.id}: "${lock.text}"`, file);
  try {
    return compileRule(rule, facts);
  } catch (err) {
    throw new InputError("bad-rule", (err as Error).message, file);
  }
}

export async function loadRules(rulesDir = defaultRulesDir()): Promise<Rule[]> {
  const files = await yamlFiles(rulesDir);
  if (files.length === 0) return [];
  const texts = await Promise.all(files.map((f) => readFile(f, "utf8")));
  const schema = await readFile(join(rulesDir, "schema", "rule.schema.json"), "utf8");
  const key = docKey("rules", [schema, ...files.flatMap((f, i) => [relative(rulesDir, f), texts[i]!])]);
  const kept = lookupDocs<RuleDoc[]>(key);
  const rules: Rule[] = [];
  const docs: RuleDoc[] = [];
  for (const [i, f] of files.entries()) {
    const doc = kept?.[i] ?? (await ruleDoc(f, texts[i]!, rulesDir, rulesDir));
    docs.push(doc);
    rules.push(await checkRule(doc, f, rulesDir));
  }
  if (!kept) storeDocs(key, docs);
  return rules;
}
