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

export function keptSearches(catalogVersion: string): KeptSearches {
  const key = modelKey(catalogVersion);
  const entries = lookupDocs<[string, Outcome][]>(key) ?? [];
  const cache: ExploreCache = new Map(entries);
  const loaded = cache.size;
  return {
    cache,
    save() {
      if (cache.size === loaded || loaded >= MAX_KEPT) return;
      const all = [...cache].slice(0, MAX_KEPT).map(([k, o]): [string, Outcome] => [k, { kind: o.kind, trace: [...o.trace] }]);
      storeDocs(key, all);
    },
  };
}
