import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { docKey, lookupDocs, storeDocs, type DocKey } from "../analysis/doc-cache.js";
import type { ExploreCache } from "../model/evaluate.js";
import type { Outcome } from "../model/explore.js";

/**
 * The model's searches kept between runs, under a hash of the model's code and the catalog's
 * version: a search's key names its pattern but not the pattern's steps, which the catalog holds.
 * The first review of a catalog fills them; later ones (the base matrix above all) read them
 * instead of searching again.
 */

// Past this many searches the file stops growing: it holds the base matrix and the usual effects.
const MAX_KEPT = 20_000;

let code: string[] | undefined;

function modelKey(catalogVersion: string): DocKey {
  if (!code) {
    const dir = fileURLToPath(new URL("../model/", import.meta.url));
    const files = (readdirSync(dir, { recursive: true }) as string[]).filter((n) => /\.[jt]s$/.test(n)).sort();
    code = files.flatMap((n) => [n, readFileSync(join(dir, n), "utf8")]);
  }
  return docKey("searches", [catalogVersion, ...code]);
}

export interface KeptSearches {
  readonly cache: ExploreCache;
  /** Writes the searches back when the run added any. */
  save(): void;
}

/**
 * The searches kept for this catalog, read on the first use: a review whose patches leave the
 * model alone (out of scope, or no effect) neither hashes the model's code nor reads the file.
 */
export function keptSearches(catalogVersion: string): KeptSearches {
  let key: DocKey | undefined;
  let loaded: number | undefined;
  const cache = new LazyCache(() => {
    key = modelKey(catalogVersion);
    const entries = lookupDocs<[string, Outcome][]>(key) ?? [];
    loaded = entries.length;
    return entries;
  });
  return {
    cache,
    save() {
      if (key === undefined || loaded === undefined || cache.size === loaded || loaded >= MAX_KEPT) return;
      const all = [...cache].slice(0, MAX_KEPT).map(([k, o]): [string, Outcome] => [k, { kind: o.kind, trace: [...o.trace] }]);
      storeDocs(key, all);
    },
  };
}

/** A Map that fills itself from `load` the first time it is read or written. */
class LazyCache extends Map<string, Outcome> {
  #load: (() => Iterable<[string, Outcome]>) | undefined;

  constructor(load: () => Iterable<[string, Outcome]>) {
    super();
    this.#load = load;
  }

  #fill(): void {
    const load = this.#load;
    if (!load) return;
    this.#load = undefined;
    for (const [k, o] of load()) super.set(k, o);
  }

  override get(k: string): Outcome | undefined {
    this.#fill();
    return super.get(k);
  }
  override set(k: string, o: Outcome): this {
    this.#fill();
    return super.set(k, o);
  }
  override has(k: string): boolean {
    this.#fill();
    return super.has(k);
  }
  override delete(k: string): boolean {
    this.#fill();
    return super.delete(k);
  }
  override clear(): void {
    this.#load = undefined;
    super.clear();
  }
  override get size(): number {
    this.#fill();
    return super.size;
  }
  override forEach(f: (o: Outcome, k: string, m: Map<string, Outcome>) => void, self?: unknown): void {
    this.#fill();
    super.forEach(f, self);
  }
  override entries(): MapIterator<[string, Outcome]> {
    this.#fill();
    return super.entries();
  }
  override keys(): MapIterator<string> {
    this.#fill();
    return super.keys();
  }
  override values(): MapIterator<Outcome> {
    this.#fill();
    return super.values();
  }
  override [Symbol.iterator](): MapIterator<[string, Outcome]> {
    this.#fill();
    return super[Symbol.iterator]();
  }
}
