import { mkdirSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Database } from "./sqlite.js";
import { asStoreError, checkStore, checkStoreFile, markStore } from "./store-check.js";

/** The migrations live beside the sources, also when running from dist/. */
function migrationsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const fromDist = here.includes(`${"/dist/"}`) ? here.replace(/\/dist\/src\/state$/, "/src/state") : here;
  return join(fromDist, "migrations");
}

export type Db = Database;

/**
 * Open (or create) the store: WAL so a reader never blocks the watcher, foreign work kept
 * out, schema brought up to date from migrations/NNN-name.sql in order, each in a transaction.
 * A store that is lost, damaged or from a newer release is refused (store-check.ts).
 */
export function openDb(path: string): Db {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  checkStoreFile(path);
  let db: Db | undefined;
  try {
    db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("busy_timeout = 5000");
    // A backfill commits a batch of random-key index pages at a time; checkpointing every 4,000
    // pages rather than 1,000 writes each hot page back to the database file a quarter as often.
    db.pragma("wal_autocheckpoint = 4000");
    const migrations = migrationFiles();
    checkStore(db, path, migrations.map((m) => m.version));
    migrate(db, migrations);
  } catch (err) {
    db?.close();
    throw asStoreError(err, path);
  }
  markStore(path);
  return db;
}

interface Migration {
  readonly version: number;
  readonly file: string;
}

function migrationFiles(): Migration[] {
  return readdirSync(migrationsDir())
    .filter((f) => /^\d{3}-[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => ({ version: Number(file.slice(0, 3)), file }));
}

function migrate(db: Db, migrations: readonly Migration[]): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  // Apply every migration not yet recorded, not only those above the highest one: migrations
  // written on parallel branches land out of order.
  const applied = new Set((db.prepare("SELECT version FROM schema_version").all() as { version: number }[]).map((r) => r.version));
  for (const { version, file } of migrations) {
    if (applied.has(version)) continue;
    const sql = readFileSync(join(migrationsDir(), file), "utf8");
    db.transaction(() => {
      db.exec(sql);
      db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(version);
    })();
  }
}

export function now(): string {
  return new Date().toISOString();
}
