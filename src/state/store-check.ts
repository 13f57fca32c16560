import { existsSync, statSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { InputError } from "../errors.js";
import type { Db } from "./db.js";

/**
 * A store is refused, never repaired or replaced: a lost or damaged ledger would send replies
 * and forge posts a second time, and a store from a newer release holds data this one misreads.
 * Each refusal is one `bad-store` InputError naming the file (the CLI prints it and exits 2).
 *
 * How the bot knows data is expected: once a store has opened cleanly, a marker file is written
 * beside it (`state.db.created`). A missing or 0-byte store with its marker present was lost;
 * without the marker, the path is new (or the crash came before anything was committed) and a
 * fresh store is created.
 */
export function storeMarker(path: string): string {
  return `${path}.created`;
}

const refuse = (path: string, detail: string) => new InputError("bad-store", detail, path);

function lost(path: string, what: string): InputError {
  const marker = basename(storeMarker(path));
  return refuse(path, `${what}, but it held data (${marker} is beside it): restore it from a backup, or delete ${marker} to start an empty store (replies already sent may then be sent again)`);
}

/** Before SQLite opens the file: a store that held data and is now missing or empty is lost, not new. */
export function checkStoreFile(path: string): void {
  if (path === ":memory:" || !existsSync(storeMarker(path))) return;
  if (!existsSync(path)) throw lost(path, "is missing");
  if (statSync(path).size === 0) throw lost(path, "is empty (0 bytes)");
}

/** The first problems `PRAGMA quick_check` reports, or none: every page and record is read once. */
function quickCheck(db: Db): string[] {
  const rows = db.pragma("quick_check(3)") as Record<string, unknown>[];
  const said = rows.map((r) => String(Object.values(r)[0]).replace(/^\*\*\* in database \w+ \*\*\*\s*/, ""));
  return said.length === 1 && said[0] === "ok" ? [] : said;
}

/**
 * After opening, before any migration: the file passes SQLite's quick check, holds the schema
 * when its marker says it held data, and records no migration this build does not know.
 */
export function checkStore(db: Db, path: string, knownVersions: readonly number[]): void {
  const problems = quickCheck(db);
  if (problems.length > 0) {
    throw refuse(path, `fails its integrity check (quick_check: ${problems.join("; ").replace(/\s+/g, " ").slice(0, 300)}): restore it from a backup`);
  }
  const hasSchema = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get() !== undefined;
  if (!hasSchema) {
    if (path !== ":memory:" && existsSync(storeMarker(path))) throw lost(path, "holds no dmabuf-review tables");
    return;
  }
  const recorded = (db.prepare("SELECT DISTINCT version FROM schema_version ORDER BY version").all() as { version: number }[]).map((r) => r.version);
  const unknown = recorded.filter((v) => !knownVersions.includes(v));
  if (unknown.length > 0) {
    const highest = Math.max(0, ...knownVersions);
    throw refuse(
      path,
      `has schema version ${unknown.join(", ")}, which this dmabuf-review does not know (it knows up to ${highest}): it was written by a newer release; run that release, or restore a backup`,
    );
  }
}

/** Written once the store has opened cleanly; from then on an empty or missing store is an error. */
export function markStore(path: string): void {
  if (path === ":memory:" || existsSync(storeMarker(path))) return;
  writeFileSync(
    storeMarker(path),
    `dmabuf-review: ${basename(path)} beside this file holds the bot's state (first opened ${new Date().toISOString()}).\n` +
      `While this file exists, a missing or empty ${basename(path)} is refused instead of being started afresh.\n`,
  );
}

/**
 * SQLite's own word that a file is damaged or not a database, as a refusal naming the file;
 * any other error is the caller's to report.
 */
export function asStoreError(err: unknown, path: string): unknown {
  if (err instanceof InputError) return err;
  const code = (err as { code?: unknown }).code;
  const message = (err as Error).message ?? String(err);
  if (typeof code !== "string") return err;
  if (code.startsWith("SQLITE_CORRUPT")) return refuse(path, `is damaged (${message}): restore it from a backup`);
  if (code === "SQLITE_NOTADB") return refuse(path, `is not a SQLite database (${message})`);
  if (code.startsWith("SQLITE_CANTOPEN")) return refuse(path, `cannot be opened (${message})`);
  return err;
}
