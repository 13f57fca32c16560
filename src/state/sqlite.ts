import Libsql from "libsql";

/**
 * The store's SQLite connection: libsql (a prebuilt binary from the npm registry, nothing to
 * compile at install) behind the part of the better-sqlite3 API the store uses, with
 * better-sqlite3's semantics where libsql 0.5 differs: pluck() in get() and iterate(), nested
 * transactions as savepoints, a single null, Buffer or boolean parameter (libsql aborts the
 * whole process on a boolean or a lone Buffer), rows without libsql's `_metadata`.
 */

/** What SQLite can bind; undefined binds NULL, as with better-sqlite3. */
export type SqlValue = number | string | bigint | Uint8Array | null | undefined;
/** Positional values, or one object of named values (`@name`, `:name`, `$name`). */
export type BindParams = SqlValue[] | [object];

export interface RunResult {
  readonly changes: number;
  readonly lastInsertRowid: number | bigint;
}

type Native = Libsql.Database;
type NativeStatement = Libsql.Statement<unknown[]>;
type Mode = "object" | "raw" | "pluck";

function bindValue(v: unknown): SqlValue {
  if (v === undefined) return null;
  if (v === null || typeof v === "number" || typeof v === "string" || typeof v === "bigint" || v instanceof Uint8Array) return v;
  throw new TypeError(`SQLite binds numbers, strings, bigints, buffers and null, not ${typeof v}`);
}

/** Always one argument for libsql: an array, or a named-value object (its own test of arity is wrong for one value). */
function bindable(params: readonly unknown[]): unknown {
  const only = params[0];
  if (params.length === 1 && typeof only === "object" && only !== null && !(only instanceof Uint8Array) && !Array.isArray(only)) {
    const named: Record<string, SqlValue> = {};
    for (const [k, v] of Object.entries(only)) named[k] = bindValue(v);
    return named;
  }
  return params.flat().map(bindValue);
}

/** libsql's iterate() gives a BLOB as an ArrayBuffer, its get() as a Buffer: a Buffer always. */
function buffers<T extends Record<string, unknown> | unknown[]>(row: T): T {
  const r = row as Record<string, unknown>;
  for (const k in r) if (r[k] instanceof ArrayBuffer) r[k] = Buffer.from(r[k]);
  return row;
}

function* rowsOf(rows: Iterable<unknown>, pluck: boolean): IterableIterator<unknown> {
  for (const row of rows) {
    const r = buffers(row as unknown[]);
    yield pluck ? r[0] : r;
  }
}

export class Statement {
  private mode: Mode = "object";
  // libsql's get() after an iterate() or all() on the same statement continues the old cursor
  // instead of starting over with the new values: rows and single steps get their own statement.
  private stepper: NativeStatement | undefined;
  private rows: NativeStatement | undefined;
  /** Prepared at once, so that bad SQL throws here, and handed to whichever use comes first. */
  private spare: NativeStatement | undefined;

  constructor(
    private readonly native: Native,
    readonly source: string,
  ) {
    this.spare = native.prepare(source);
  }

  pluck(on = true): this {
    return this.setMode(on ? "pluck" : this.mode === "pluck" ? "object" : this.mode);
  }

  raw(on = true): this {
    return this.setMode(on ? "raw" : this.mode === "raw" ? "object" : this.mode);
  }

  run(...params: BindParams): RunResult {
    const r = this.step().run(bindable(params)) as RunResult;
    return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
  }

  get(...params: BindParams): unknown {
    const row = this.step().get(bindable(params)) as Record<string, unknown> | unknown[] | undefined;
    if (row === undefined) return undefined;
    if (this.mode === "pluck") return (row as unknown[])[0];
    if (this.mode === "object") delete (row as Record<string, unknown>)["_metadata"];
    return row;
  }

  all(...params: BindParams): unknown[] {
    return [...this.iterate(...params)];
  }

  iterate(...params: BindParams): IterableIterator<unknown> {
    this.rows ??= this.prepared();
    return rowsOf(this.rows.iterate(bindable(params)), this.mode === "pluck");
  }

  private step(): NativeStatement {
    this.stepper ??= this.prepared();
    return this.stepper;
  }

  private prepared(): NativeStatement {
    const st = this.spare ?? this.native.prepare(this.source);
    this.spare = undefined;
    // libsql refuses raw(), even raw(false), on a statement that returns no rows.
    return this.mode === "object" ? st : st.raw(true);
  }

  private setMode(mode: Mode): this {
    this.mode = mode;
    for (const st of [this.stepper, this.rows]) st?.raw(mode !== "object");
    return this;
  }
}

export class Database {
  private readonly native: Native;
  private savepoints = 0;
  private readonly readOnly: boolean;

  /** `readonly`: a reader beside the writing process (libsql 0.5 has no read-only open). */
  constructor(
    readonly name: string,
    opts: { readonly?: boolean } = {},
  ) {
    this.native = new Libsql(name);
    this.readOnly = opts.readonly === true;
    if (this.readOnly) this.native.exec("PRAGMA query_only = 1");
  }

  get open(): boolean {
    return this.native.open;
  }

  get inTransaction(): boolean {
    return this.native.inTransaction;
  }

  prepare(source: string): Statement {
    return new Statement(this.native, source);
  }

  exec(source: string): this {
    this.native.exec(source);
    return this;
  }

  /** `PRAGMA source`: its rows, or with `simple` the first column of the first row. */
  pragma(source: string, options: { simple?: boolean } = {}): unknown {
    const st = this.prepare(`PRAGMA ${source}`);
    return options.simple ? st.pluck().get() : st.all();
  }

  /**
   * `fn` wrapped in BEGIN/COMMIT, rolled back if it throws; called inside another transaction
   * it is a savepoint, so an inner failure that is caught undoes only the inner work.
   */
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    return (...args: A): R => {
      const outer = !this.native.inTransaction;
      const savepoint = `tx${this.savepoints++}`;
      this.native.exec(outer ? "BEGIN" : `SAVEPOINT ${savepoint}`);
      try {
        const result = fn(...args);
        if (result instanceof Promise) throw new TypeError("a transaction function cannot be async: it would commit before its awaits");
        this.native.exec(outer ? "COMMIT" : `RELEASE ${savepoint}`);
        return result;
      } catch (err) {
        // SQLite may have rolled back on its own already (SQLITE_FULL, SQLITE_IOERR...).
        if (this.native.inTransaction) this.native.exec(outer ? "ROLLBACK" : `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`);
        throw err;
      } finally {
        this.savepoints--;
      }
    };
  }

  /**
   * libsql keeps the file open until every prepared statement is garbage: the WAL is
   * checkpointed into the main file first, so that what a closed store wrote is all there.
   */
  close(): void {
    if (!this.native.open) return;
    if (!this.readOnly && !this.native.inTransaction) {
      try {
        this.native.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      } catch {
        // A reader elsewhere holds the WAL: SQLite checkpoints it later, nothing is lost.
      }
    }
    this.native.close();
  }
}
