import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import type { ValidateFunction } from "ajv";
import { InputError } from "../../errors.js";
import type { Catalog, Exporter, MemoryCall, Importer, Pattern, PerPlatform, Platform, Step } from "../../model/catalog.js";
import { defaultRulesDir } from "../rules/load.js";
import { describeSchemaError as describe } from "./schema-error.js";
import { loadFacts, validated } from "./facts.js";
import type { ModelMessage, ModelTexts, ResultCategory } from "../../model/messages.js";
import { docKey, lookupDocs, storeDocs } from "../doc-cache.js";

type Kind = "exporter" | "importer" | "pattern";

function perPlatform<T>(v: T | Record<Platform, T>): PerPlatform<T> {
  if (v !== null && typeof v === "object" && "x86" in (v as object)) return v as PerPlatform<T>;
  return { x86: v as T, arm64: v as T, arm32: v as T };
}

/** x86 makes every device dma-coherent for the DMA API; arm devices without `dma-coherent` are not. */
function deviceCoherent(v: unknown): PerPlatform<boolean> {
  if (v === "platform-default") return { x86: true, arm64: false, arm32: false };
  return perPlatform(v as boolean | Record<Platform, boolean>);
}

function parseStep(s: string): Step {
  const [op, flags] = s.split(" ");
  if (op === "sync-start" || op === "sync-end") return { op, flags: flags as "READ" | "WRITE" | "RW" };
  return { op: op as Exclude<Step["op"], "sync-start" | "sync-end"> };
}

function toExporter(d: Record<string, unknown>): Exporter {
  return {
    id: d["id"] as string,
    name: d["name"] as string,
    files: d["files"] as string[],
    exportPath: d["export-path"] as Exporter["exportPath"],
    platforms: d["platforms"] as Platform[],
    memory: perPlatform(d["memory"] as Exporter["memory"]["x86"]),
    mmap: perPlatform(d["mmap"] as Exporter["mmap"]["x86"]),
    mapSync: d["map-sync"] as Exporter["mapSync"],
    unmapSync: d["unmap-sync"] as Exporter["unmapSync"],
    mapOnce: d["map-once"] as boolean,
    begin: d["begin-cpu-access"] as Exporter["begin"],
    end: d["end-cpu-access"] as Exporter["end"],
    cpuAccessDirection: d["cpu-access-direction"] as Exporter["cpuAccessDirection"],
    deviceCoherent: deviceCoherent(d["device-coherent"]),
    contiguous: d["contiguous"] as boolean,
    zeroedDirty: d["zeroed-dirty"] as boolean,
    migratesForImport: d["migrates-for-import"] as boolean,
    dynamic: (d["dynamic"] as boolean | undefined) ?? false,
    unbracketedAlias: (d["unbracketed-alias"] as boolean | undefined) ?? false,
    userspaceSources: (d["userspace-sources"] as string[] | undefined) ?? [],
    inferred: d["inferred"] as boolean,
    notes: d["notes"] as string,
  };
}

function toImporter(d: Record<string, unknown>): Importer {
  const reader = d["cpu-reader"] as string;
  return {
    id: d["id"] as string,
    name: d["name"] as string,
    files: d["files"] as string[],
    platforms: d["platforms"] as Platform[],
    devCoherent: perPlatform(d["dev-coherent"] as boolean),
    access: d["access"] as Importer["access"],
    needsContiguous: d["needs-contiguous"] as boolean,
    iommu: (d["iommu"] as boolean | undefined) ?? false,
    peer2peer: (d["peer2peer"] as boolean | undefined) ?? false,
    dynamic: (d["dynamic"] as boolean | undefined) ?? false,
    flushesOnImport: d["flushes-on-import"] as boolean,
    cpuReader: reader === "none" ? undefined : { brackets: reader === "bracketed" },
    mapDirection: d["map-direction"] as Importer["mapDirection"],
    deviceWrites: (d["device-writes"] as boolean | undefined) ?? true,
    userspaceApis: (d["userspace-apis"] as string[] | undefined) ?? [],
    entryPoints: d["entry-points"] as string[],
    inferred: d["inferred"] as boolean,
    notes: d["notes"] as string,
  };
}

function toPattern(d: Record<string, unknown>): Pattern {
  return { id: d["id"] as string, name: d["name"] as string, bracketed: d["bracketed"] as boolean, steps: (d["steps"] as string[]).map(parseStep) };
}

/** The model's result categories and finding texts, validated; every category's rules name a message's rule. */
async function loadModelTexts(rulesDir: string): Promise<{ texts: ModelTexts; source: string }> {
  const { file, doc } = await validated(rulesDir, "model-findings");
  const source = await readFile(file, "utf8");
  const d = doc as { categories: ResultCategory[]; messages: Record<string, Omit<ModelMessage, "id">> };
  const messages = new Map(Object.entries(d.messages).map(([id, m]) => [id, { id, ...m }]));
  const rules = new Set([...messages.values()].flatMap((m) => (m.rule ? [m.rule] : [])));
  for (const [i, c] of d.categories.entries()) {
    const missing = c.rules.find((r) => !rules.has(r));
    if (missing) throw new InputError("bad-rule", `field categories.${i}.rules names ${missing}, which no message opens`, file);
  }
  if (new Set(d.categories.map((c) => c.key)).size !== d.categories.length) throw new InputError("bad-rule", "field categories repeats a key", file);
  return { texts: { categories: d.categories, messages }, source };
}

/**
 * Load the model's catalog from rules/catalog/{exporters,importers,patterns}/*.yaml, each file
 * validated against its schema; an entry's id must equal its file name. The catalog version is
 * a hash of the files, so a review can say which catalog it used.
 */
export async function loadCatalog(rulesDir = defaultRulesDir()): Promise<Catalog> {
  const kinds = [
    ["exporter", "exporters"],
    ["importer", "importers"],
    ["pattern", "patterns"],
  ] as const;
  const schemas = await Promise.all(kinds.map(([kind]) => readFile(join(rulesDir, "schema", `catalog-${kind}.schema.json`), "utf8")));
  const hash = createHash("sha256");
  const texts: string[] = [];
  const files: { kind: Kind; dir: string; name: string; file: string; text: string }[] = [];
  for (const [kind, dir] of kinds) {
    const full = join(rulesDir, "catalog", dir);
    for (const name of (await readdir(full)).filter((n) => n.endsWith(".yaml")).sort()) {
      const file = join(full, name);
      const text = await readFile(file, "utf8");
      hash.update(`${dir}/${name}\0${text}\0`);
      texts.push(`${dir}/${name}`, text);
      files.push({ kind, dir, name, file, text });
    }
  }
  const key = docKey("catalog", [...schemas, ...texts]);
  let docs = lookupDocs<Record<string, unknown>[]>(key);
  if (!docs) {
    // Imported here: a start-up that finds the catalog kept (doc-cache.ts) never loads them.
    const [{ Ajv }, { parse: parseYaml }] = await Promise.all([import("ajv"), import("yaml")]);
    const ajv = new Ajv({ strict: true, allErrors: false });
    const validators = new Map<Kind, ValidateFunction>();
    for (const [i, [kind]] of kinds.entries()) validators.set(kind, ajv.compile(JSON.parse(schemas[i]!)));
    docs = [];
    for (const { kind, name, file, text } of files) {
      let doc: unknown;
      try {
        doc = parseYaml(text);
      } catch (err) {
        throw new InputError("bad-rule", `YAML does not parse: ${(err as Error).message.split("\n")[0]}`, file);
      }
      const validate = validators.get(kind)!;
      if (!validate(doc)) throw new InputError("bad-rule", describe(validate.errors![0]!), file);
      const d = doc as Record<string, unknown>;
      if (d["id"] !== basename(name, ".yaml")) throw new InputError("bad-rule", `field id is "${String(d["id"])}" but the file is ${name}`, file);
      docs.push(d);
    }
    storeDocs(key, docs);
  }
  const of = (kind: Kind) => docs.filter((_, i) => files[i]!.kind === kind);
  const exporters = of("exporter").map(toExporter);
  const importers = of("importer").map(toImporter);
  const patterns = of("pattern").map(toPattern);
  // Which call sets up which CPU mapping is a memory fact, kept once in memory.yaml.
  hash.update(`memory.yaml\0${await readFile(join(rulesDir, "catalog", "memory.yaml"), "utf8")}\0`);
  const mappingAttrs = new Map<string, "wc" | "uncached">();
  const memoryCalls = new Map<string, MemoryCall>();
  const facts = await loadFacts(rulesDir);
  for (const call of facts.cachedAllocations) memoryCalls.set(call, { kind: "cached", memory: "cached" });
  for (const kind of facts.memory) {
    if (kind.cpuMapping) for (const call of kind.calls) mappingAttrs.set(call, kind.cpuMapping);
    for (const call of kind.calls) memoryCalls.set(call, { kind: kind.id, memory: kind.modelMemory });
  }
  const modelTexts = await loadModelTexts(rulesDir);
  hash.update(`model-findings.yaml\0${modelTexts.source}\0`);
  return { version: `catalog-${hash.digest("hex").slice(0, 8)}`, mappingAttrs, memoryCalls, texts: modelTexts.texts, exporters, importers, patterns };
}
