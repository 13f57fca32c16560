import type { MemoryClass } from "../../model/catalog.js";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import picomatch from "picomatch";
import { InputError } from "../../errors.js";
import type { OpsMember } from "../vocabulary.js";
import { describeSchemaError as describe } from "./schema-error.js";
import { docKey, lookupDocs, storeDocs } from "../doc-cache.js";

/** What a dma-buf function asks of its caller about the reservation lock. */
export type LockContract = "caller-holds" | "takes" | "must-not-hold";

export interface LockedFunction {
  readonly name: string;
  readonly contract: LockContract;
  readonly since: string;
  readonly before: string;
  readonly unlockedVariant?: string;
  readonly lockedVariant?: string;
}

export interface AnnotatedCall {
  readonly call: string;
  /** Arguments must match this for the call to count (lockdep_assert_held of any lock). */
  readonly argument?: RegExp;
}

export interface LockFacts {
  readonly lock: string;
  readonly functions: ReadonlyMap<string, LockedFunction>;
  /** Exporter callbacks by the lock state the core calls them in. */
  readonly callbacks: ReadonlyMap<OpsMember, "locked" | "unlocked">;
  readonly lockCalls: ReadonlySet<string>;
  readonly unlockCalls: ReadonlySet<string>;
  readonly assertions: readonly AnnotatedCall[];
  readonly notHeldAnnotations: readonly AnnotatedCall[];
  readonly heldName: RegExp;
  readonly notHeldName: RegExp;
  readonly possibleLockCall: RegExp;
}

export interface MemoryKind {
  readonly id: string;
  readonly name: string;
  readonly modelMemory: Exclude<MemoryClass, "cached">;
  /** The model's attribute for a CPU alias set up by one of the kind's calls, if it is a mapping kind. */
  readonly cpuMapping: "wc" | "uncached" | undefined;
  readonly why: string;
  readonly calls: ReadonlySet<string>;
  readonly identifiers: ReadonlySet<string>;
  readonly path: ((p: string) => boolean) | undefined;
  readonly strings: readonly RegExp[];
}

/** A rule of the DMA API, with the advice that would go against it. */
export interface DmaApiRule {
  readonly id: string;
  readonly says: string;
  readonly contradictedBy: readonly RegExp[];
}

/** Facts the rules consult as data: the lock contract, memory the CPU does not cache, the DMA API. */
export interface Facts {
  readonly locks: LockFacts;
  readonly memory: readonly MemoryKind[];
  /** Allocation calls whose memory the CPU caches (the page allocator, CMA, shmem...). */
  readonly cachedAllocations: ReadonlySet<string>;
  readonly dmaApi: readonly DmaApiRule[];
}

/** One catalog/<name>.yaml, checked against schema/catalog-<name>.schema.json. */
export async function validated(rulesDir: string, name: string): Promise<{ file: string; doc: Record<string, unknown> }> {
  const file = join(rulesDir, "catalog", `${name}.yaml`);
  const schemaText = await readFile(join(rulesDir, "schema", `catalog-${name}.schema.json`), "utf8");
  const schema = JSON.parse(schemaText);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new InputError("bad-rule", "catalog file is missing", file);
    throw new InputError("bad-rule", `YAML does not parse: ${(err as Error).message.split("\n")[0]}`, file);
  }
  const key = docKey(`facts-${name}`, [schemaText, text]);
  const kept = lookupDocs<Record<string, unknown>>(key);
  if (kept) return { file, doc: kept };
  // Imported here: a start-up that finds the facts kept (doc-cache.ts) never loads them.
  const [{ Ajv }, { parse: parseYaml }] = await Promise.all([import("ajv"), import("yaml")]);
  const validate = new Ajv({ strict: true, allErrors: false }).compile(schema);
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new InputError("bad-rule", `YAML does not parse: ${(err as Error).message.split("\n")[0]}`, file);
  }
  if (!validate(doc)) throw new InputError("bad-rule", describe(validate.errors![0]!), file);
  storeDocs(key, doc);
  return { file, doc: doc as Record<string, unknown> };
}

function regexAt(source: string, field: string, file: string, flags = ""): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new InputError("bad-rule", `field ${field} is not a valid regular expression: ${(err as Error).message}`, file);
  }
}

type Raw = Record<string, unknown>;

function annotated(list: readonly Raw[], field: string, file: string): AnnotatedCall[] {
  return list.map((a, i) => {
    const arg = a["argument"] as string | undefined;
    return { call: a["call"] as string, argument: arg === undefined ? undefined : regexAt(arg, `${field}.${i}.argument`, file) };
  });
}

function toLockFacts(d: Raw, file: string): LockFacts {
  const functions = new Map<string, LockedFunction>();
  for (const [i, f] of (d["functions"] as Raw[]).entries()) {
    const name = f["name"] as string;
    if (functions.has(name)) throw new InputError("bad-rule", `field functions.${i}.name repeats ${name}`, file);
    functions.set(name, {
      name,
      contract: f["contract"] as LockContract,
      since: f["since"] as string,
      before: f["before"] as string,
      unlockedVariant: f["unlocked-variant"] as string | undefined,
      lockedVariant: f["locked-variant"] as string | undefined,
    });
  }
  // A variant must be an entry of its own with the opposite contract, or the pair tells lies.
  for (const [i, f] of [...functions.values()].entries()) {
    for (const [key, want] of [
      ["unlocked-variant", "takes"],
      ["locked-variant", "caller-holds"],
    ] as const) {
      const v = key === "unlocked-variant" ? f.unlockedVariant : f.lockedVariant;
      if (v === undefined) continue;
      const other = functions.get(v);
      if (!other) throw new InputError("bad-rule", `field functions.${i}.${key} names ${v}, which has no entry`, file);
      if (other.contract !== want) {
        throw new InputError("bad-rule", `field functions.${i}.${key} names ${v}, whose contract is ${other.contract}, not ${want}`, file);
      }
    }
  }
  const callbacks = new Map<OpsMember, "locked" | "unlocked">();
  for (const c of d["callbacks"] as Raw[]) callbacks.set(c["member"] as OpsMember, c["called"] as "locked" | "unlocked");
  const ev = d["evidence"] as Raw;
  const naming = ev["naming"] as Raw;
  return {
    lock: d["lock"] as string,
    functions,
    callbacks,
    lockCalls: new Set(ev["lock-calls"] as string[]),
    unlockCalls: new Set(ev["unlock-calls"] as string[]),
    assertions: annotated(ev["assertions"] as Raw[], "evidence.assertions", file),
    notHeldAnnotations: annotated(ev["not-held-annotations"] as Raw[], "evidence.not-held-annotations", file),
    heldName: regexAt(naming["held"] as string, "evidence.naming.held", file),
    notHeldName: regexAt(naming["not-held"] as string, "evidence.naming.not-held", file),
    possibleLockCall: regexAt(ev["possible-lock-calls"] as string, "evidence.possible-lock-calls", file),
  };
}

function toMemory(d: Raw, file: string): MemoryKind[] {
  const seen = new Set<string>();
  return (d["kinds"] as Raw[]).map((k, i) => {
    const id = k["id"] as string;
    if (seen.has(id)) throw new InputError("bad-rule", `field kinds.${i}.id repeats ${id}`, file);
    seen.add(id);
    const r = k["recognise"] as Raw;
    const paths = r["paths"] as string[] | undefined;
    return {
      id,
      name: k["name"] as string,
      modelMemory: k["model-memory"] as MemoryKind["modelMemory"],
      cpuMapping: k["cpu-mapping"] as MemoryKind["cpuMapping"],
      why: k["why"] as string,
      calls: new Set((r["calls"] as string[] | undefined) ?? []),
      identifiers: new Set((r["identifiers"] as string[] | undefined) ?? []),
      path: paths ? picomatch(paths) : undefined,
      strings: ((r["strings"] as string[] | undefined) ?? []).map((s, j) => regexAt(s, `kinds.${i}.recognise.strings.${j}`, file)),
    };
  });
}

function toDmaApi(d: Raw, file: string): DmaApiRule[] {
  return (d["rules"] as Raw[]).map((r, i) => ({
    id: r["id"] as string,
    says: r["says"] as string,
    contradictedBy: (r["contradicted-by"] as string[]).map((c, j) => regexAt(c, `rules.${i}.contradicted-by.${j}`, file, "i")),
  }));
}

const cache = new Map<string, Promise<Facts>>();

/**
 * Load rules/catalog/locks.yaml, memory.yaml and dma-api.yaml, each validated against its schema and then
 * for what a schema cannot say (variants that exist, regexes that compile, no repeats).
 */
export function loadFacts(rulesDir: string): Promise<Facts> {
  let p = cache.get(rulesDir);
  if (!p) {
    p = (async () => {
      const locks = await validated(rulesDir, "locks");
      const memory = await validated(rulesDir, "memory");
      const dmaApi = await validated(rulesDir, "dma-api");
      return {
        locks: toLockFacts(locks.doc, locks.file),
        memory: toMemory(memory.doc, memory.file),
        cachedAllocations: new Set(((memory.doc["cached-allocations"] as Raw | undefined)?.["calls"] as string[] | undefined) ?? []),
        dmaApi: toDmaApi(dmaApi.doc, dmaApi.file),
      };
    })();
    cache.set(rulesDir, p);
    p.catch(() => cache.delete(rulesDir));
  }
  return p;
}
