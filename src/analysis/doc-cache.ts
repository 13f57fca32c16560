import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";

/**
 * Rule and catalog documents as they were once parsed and validated, kept between runs and keyed
 * by the texts they came from (schema and files): a hit skips the YAML parser and the schema
 * compiler, most of a one-patch review's start-up. Only what loaded cleanly is kept, so a broken
 * file always goes the whole way and fails as before.
 */

// The code that reads and validates documents, and the parser and validator versions: part of
// every key, so a change in how documents are read or checked invalidates what is kept.
const READERS = ["doc-cache", "rules/load", "rules/schema", "catalog/load", "catalog/facts"];
let format: string | undefined;

function readerFormat(): string {
  if (format === undefined) {
    const require = createRequire(import.meta.url);
    const version = (pkg: string) => (require(`${pkg}/package.json`) as { version: string }).version;
    const hash = createHash("sha256").update(`yaml@${version("yaml")} ajv@${version("ajv")}`);
    // Beside this module: .js when built, .ts when the tests run the sources.
    const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
    for (const f of READERS) hash.update(readFileSync(new URL(f + ext, import.meta.url)));
    format = hash.digest("hex");
  }
  return format;
}

/** `DMABUF_REVIEW_CACHE`: a directory, or `off`; by default the user's cache directory. */
function cacheDir(): string | undefined {
  const env = process.env["DMABUF_REVIEW_CACHE"];
  if (env === "off") return undefined;
  if (env) return env;
  const base = process.env["XDG_CACHE_HOME"] || join(homedir(), ".cache");
  return join(base, "dmabuf-review");
}

export interface DocKey {
  readonly name: string;
  readonly digest: string;
}

/** The key of `name`'s documents read from these texts (schema first, then each file with its path). */
export function docKey(name: string, texts: readonly string[]): DocKey {
  const hash = createHash("sha256").update(readerFormat());
  for (const t of texts) hash.update(`\0${t.length}\0`).update(t);
  return { name, digest: hash.digest("hex").slice(0, 32) };
}

function fileOf(dir: string, key: DocKey): string {
  return join(dir, `${key.name}-${key.digest}.json`);
}

/** The documents kept for `key`, or undefined; an unreadable entry is a miss. */
export function lookupDocs<T>(key: DocKey): T | undefined {
  const dir = cacheDir();
  if (!dir) return undefined;
  try {
    return JSON.parse(readFileSync(fileOf(dir, key), "utf8")) as T;
  } catch {
    return undefined;
  }
}

/**
 * Keeps `docs` under `key` and drops older entries of the same name. Written aside and renamed,
 * so a concurrent reader sees the whole entry or none; a cache that cannot be written is no error.
 */
export function storeDocs(key: DocKey, docs: unknown): void {
  const dir = cacheDir();
  if (!dir) return;
  const text = JSON.stringify(docs);
  // Only plain data survives JSON unchanged; anything else is read afresh each time.
  if (!isDeepStrictEqual(JSON.parse(text), docs)) return;
  try {
    mkdirSync(dir, { recursive: true });
    const file = fileOf(dir, key);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
    for (const n of readdirSync(dir)) {
      if (n.startsWith(`${key.name}-`) && n.endsWith(".json") && join(dir, n) !== file) rmSync(join(dir, n), { force: true });
    }
  } catch {
    // read-only home, full disk: every run parses the files, as without a cache
  }
}
