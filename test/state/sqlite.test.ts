import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Database } from "../../src/state/sqlite.js";

// The store's code was written against better-sqlite3's semantics; these are the places where
// libsql 0.5 on its own answers differently (or aborts the process).
describe("the SQLite connection", () => {
  let db: Database;
  beforeEach(() => {
    db = new Database(":memory:");
    db.exec("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, b BLOB)");
    const ins = db.prepare("INSERT INTO t VALUES (?, ?, ?)");
    for (let i = 0; i < 150; i++) ins.run(`k${String(i).padStart(3, "0")}`, i, Buffer.from([i]));
  });
  afterEach(() => db.close());

  it("plucks the first column in get(), all() and iterate()", () => {
    const st = db.prepare("SELECT n, k FROM t WHERE n < ? ORDER BY n").pluck();
    expect(st.get(3)).toBe(0);
    expect(st.all(3)).toEqual([0, 1, 2]);
    expect([...st.iterate(2)]).toEqual([0, 1]);
    expect(db.prepare("SELECT n FROM t WHERE n < 0").pluck().get()).toBeUndefined();
    expect(db.prepare("SELECT n, k FROM t WHERE n = 4").raw().get()).toEqual([4, "k004"]);
  });

  it("gives rows with their columns only, and run() its changes and last rowid", () => {
    expect(db.prepare("SELECT k, n FROM t WHERE n = ?").get(7)).toEqual({ k: "k007", n: 7 });
    expect(Object.keys(db.prepare("SELECT k FROM t WHERE n = 7").get() as object)).toEqual(["k"]);
    expect(db.prepare("INSERT INTO t (k, n) VALUES ('new', -1)").run()).toEqual({ changes: 1, lastInsertRowid: 151 });
  });

  it("starts a statement over with new values after all() or a broken-off iterate()", () => {
    const st = db.prepare("SELECT n FROM t WHERE n >= ? ORDER BY n").pluck();
    expect(st.all(140)).toHaveLength(10);
    expect(st.get(7)).toBe(7);
    for (const n of st.iterate(0)) if (n === 3) break;
    expect(st.get(120)).toBe(120);
    expect(st.all(148)).toEqual([148, 149]);
  });

  it("binds undefined as NULL, a lone null or Buffer, and refuses a boolean with a TypeError", () => {
    db.prepare("INSERT INTO t VALUES (?, ?, ?)").run("u", undefined, null);
    expect(db.prepare("SELECT n, b FROM t WHERE k = 'u'").get()).toEqual({ n: null, b: null });
    expect(db.prepare("SELECT ? AS v").pluck().get(null)).toBeNull();
    expect(db.prepare("SELECT k FROM t WHERE b = ?").pluck().get(Buffer.from([9]))).toBe("k009");
    const bad = [true] as unknown as [number];
    expect(() => db.prepare("SELECT ?").get(...bad)).toThrow(TypeError);
  });

  it("binds named values from one object, a Buffer among them", () => {
    db.prepare("INSERT INTO t VALUES (@k, @n, @b)").run({ k: "named", n: 5, b: Buffer.from("ab") });
    expect(db.prepare("SELECT n, b FROM t WHERE k = :k").get({ k: "named" })).toEqual({ n: 5, b: Buffer.from("ab") });
  });

  it("returns a BLOB as a Buffer from get(), all(), iterate() and pluck()", () => {
    const one = Buffer.from([5]);
    expect((db.prepare("SELECT b FROM t WHERE n = 5").get() as { b: unknown }).b).toEqual(one);
    expect((db.prepare("SELECT b FROM t WHERE n = 5").all()[0] as { b: unknown }).b).toEqual(one);
    expect([...db.prepare("SELECT b FROM t WHERE n = 5").pluck().iterate()]).toEqual([one]);
    expect(db.prepare("SELECT b FROM t WHERE n = 5").pluck().all()[0]).toBeInstanceOf(Buffer);
    expect(db.prepare("SELECT b FROM t WHERE n = 5").pluck().get()).toBeInstanceOf(Buffer);
  });

  it("nests a transaction as a savepoint: a caught inner failure undoes only the inner work", () => {
    const count = db.prepare("SELECT COUNT(*) FROM t").pluck();
    const add = db.prepare("INSERT INTO t (k) VALUES (?)");
    db.transaction(() => {
      add.run("outer");
      expect(() =>
        db.transaction(() => {
          add.run("inner");
          throw new Error("inner fails");
        })(),
      ).toThrow("inner fails");
      expect(db.inTransaction).toBe(true);
    })();
    expect(db.prepare("SELECT k FROM t WHERE k IN ('outer', 'inner')").pluck().all()).toEqual(["outer"]);
    expect(() =>
      db.transaction(() => {
        add.run("lost");
        db.transaction(() => add.run("lost too"))();
        throw new Error("outer fails");
      })(),
    ).toThrow("outer fails");
    expect(count.get()).toBe(151);
    expect(db.inTransaction).toBe(false);
  });

  it("refuses an async transaction function and rolls back what it did before its first await", () => {
    const tx = db.transaction(async () => {
      db.prepare("INSERT INTO t (k) VALUES ('async')").run();
      await Promise.resolve();
    });
    expect(() => tx()).toThrow(TypeError);
    expect(db.prepare("SELECT 1 FROM t WHERE k = 'async'").get()).toBeUndefined();
  });

  it("answers a pragma with its rows, or with `simple` its value", () => {
    expect(db.pragma("user_version", { simple: true })).toBe(0);
    expect(db.pragma("user_version")).toEqual([{ user_version: 0 }]);
  });
});

describe("closing a file store", () => {
  const dir = mkdtempSync(join(tmpdir(), "dmabuf-sqlite-"));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("leaves everything written in the main file, while a prepared statement is still alive", () => {
    const path = join(dir, "a.db");
    const db = new Database(path);
    db.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (n)");
    const ins = db.prepare("INSERT INTO t VALUES (?)");
    db.transaction(() => {
      for (let i = 0; i < 100; i++) ins.run(i);
    })();
    db.close();
    expect(db.open).toBe(false);
    // The main file alone, without its -wal beside it, must hold the rows.
    copyFileSync(path, join(dir, "copy.db"));
    const copy = new Database(join(dir, "copy.db"));
    expect(copy.prepare("SELECT COUNT(*) FROM t").pluck().get()).toBe(100);
    copy.close();
    expect(ins.source).toBe("INSERT INTO t VALUES (?)");
  });
});
