/**
 * What a mail-channel run leaves behind, in a form two runs can be compared by: the outbox's
 * mails by Message-ID and every table of the store, row by row, with wall-clock times masked.
 * Used by the SIGKILL soak (bench/soak.ts) and its small version in the test suite.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Database } from "../src/state/sqlite.js";

export interface Snapshot {
  /** Message-ID → the .eml text, its Date header masked. */
  readonly mails: ReadonlyMap<string, string>;
  /** Table → its rows as lines, sorted; dates and run directories masked. */
  readonly tables: ReadonlyMap<string, readonly string[]>;
}

// Columns that hold the wall-clock time of a write, not anything read from the archive.
const CLOCK_COLUMN = /(^|_)at$|^first_read$/;
// An outbox file name starts with the time it was built (publish/mail/transport.ts).
const STAMP = /\d{8}T\d{6}Z/g;

function maskMail(text: string): string {
  return text.replace(/^Date: .*$/m, "Date: <date>").replace(STAMP, "<stamp>");
}

function maskValue(column: string, value: unknown, dirs: readonly string[]): string {
  if (value === null || value === undefined) return "null";
  if (CLOCK_COLUMN.test(column)) return "<at>";
  if (Buffer.isBuffer(value)) return JSON.stringify(maskMail(value.toString("utf8")));
  let s = String(value);
  for (const d of dirs) s = s.split(d).join("<dir>");
  return JSON.stringify(s.replace(STAMP, "<stamp>"));
}

/** The outbox and the store of one run; `dirs` (the run's own directories) read as `<dir>`. */
export function snapshot(outbox: string, db: string, dirs: readonly string[] = []): Snapshot {
  const mails = new Map<string, string>();
  let files: string[] = [];
  try {
    files = readdirSync(outbox).filter((f) => f.endsWith(".eml"));
  } catch {
    files = [];
  }
  for (const f of files) {
    const text = readFileSync(join(outbox, f), "utf8");
    const id = /^Message-ID:\s*<([^>]+)>/im.exec(text)?.[1] ?? `file:${f}`;
    mails.set(id, maskMail(text));
  }
  const tables = new Map<string, string[]>();
  const handle = new Database(db, { readonly: true });
  try {
    const names = handle.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
    for (const name of names) {
      const rows = handle.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[];
      tables.set(
        name,
        rows.map((r) => Object.entries(r).map(([c, v]) => `${c}=${maskValue(c, v, dirs)}`).join(" ")).sort(),
      );
    }
  } finally {
    handle.close();
  }
  return { mails, tables };
}

export interface Difference {
  readonly where: string;
  readonly only: "expected" | "got" | "text";
  readonly what: string;
}

/** Every way `got` differs from `expected`: mails missing, extra or with another text; rows likewise. */
export function compareSnapshots(expected: Snapshot, got: Snapshot): Difference[] {
  const out: Difference[] = [];
  for (const [id, text] of expected.mails) {
    const other = got.mails.get(id);
    if (other === undefined) out.push({ where: "outbox", only: "expected", what: id });
    else if (other !== text) out.push({ where: "outbox", only: "text", what: id });
  }
  for (const id of got.mails.keys()) if (!expected.mails.has(id)) out.push({ where: "outbox", only: "got", what: id });
  for (const name of new Set([...expected.tables.keys(), ...got.tables.keys()])) {
    // Rows counted, not just collected: a row written twice is a difference too.
    const count = new Map<string, number>();
    for (const row of expected.tables.get(name) ?? []) count.set(row, (count.get(row) ?? 0) + 1);
    for (const row of got.tables.get(name) ?? []) count.set(row, (count.get(row) ?? 0) - 1);
    for (const [row, n] of count) {
      for (let i = 0; i < Math.abs(n); i++) out.push({ where: name, only: n > 0 ? "expected" : "got", what: row });
    }
  }
  return out;
}
