import { existsSync, mkdtempSync, openSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "../../src/state/sqlite.js";
import { beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.js";
import { storeMarker } from "../../src/state/store-check.js";
import { Store } from "../../src/state/store.js";
import { assertBuilt, runCli, stderrLines } from "../helpers/cli.js";

beforeAll(() => assertBuilt());

const tmp = () => join(mkdtempSync(join(tmpdir(), "dmabuf-review-store-")), "state.db");

/** A store that has done some work: posts in the ledger, enough messages to span many pages. */
function storeWithData(path: string): void {
  const store = Store.open(path);
  const insert = store.db.prepare("INSERT INTO messages (message_id, source, origin, kind, subject, status, raw, seen_at) VALUES (?, 'inbox', 'git', 'patch', ?, 'seen', ?, 'now')");
  store.transaction(() => {
    for (let i = 0; i < 1500; i++) insert.run(`<m${i}@example.org>`, `[PATCH] drm/foo: change ${i}`, Buffer.alloc(900, i % 251));
  });
  for (let i = 0; i < 8; i++) store.ledger.intend({ channel: "mail", thread: `<m${i}@example.org>`, what: "summary" }, "outbox");
  store.close();
}

function refusal(path: string): InputError {
  try {
    Store.open(path).close();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error(`${path} was opened, not refused`);
}

/** `watch --once` on a data directory, as an operator starts the bot. */
function watchConfig(dataDir: string): string {
  const config = join(dataDir, "config.yaml");
  writeFileSync(config, `data-dir: ${dataDir}\nmail:\n  demo: false\n`);
  return config;
}

describe("store integrity at open", () => {
  it("creates a store on a brand-new path, and marks it as holding data", () => {
    const path = tmp();
    Store.open(path).close();
    expect(existsSync(path)).toBe(true);
    expect(existsSync(storeMarker(path))).toBe(true);
    // Reopening a healthy store works and leaves its data alone.
    storeWithData(path);
    const store = Store.open(path);
    expect(store.ledger.forThread("mail", "<m0@example.org>")).toHaveLength(1);
    store.close();
  });

  it("refuses a store truncated to 0 bytes instead of starting afresh (the ledger would be lost)", () => {
    const path = tmp();
    storeWithData(path);
    truncateSync(path, 0);
    const err = refusal(path);
    expect(err.reason).toBe("bad-store");
    expect(err.source).toBe(path);
    expect(err.message).toMatch(/is empty \(0 bytes\), but it held data \(state\.db\.created is beside it\)/);
    // Nothing was written over it.
    expect(statSync(path).size).toBe(0);
  });

  it("refuses a store that is gone while its marker says it held data", () => {
    const path = tmp();
    storeWithData(path);
    unlinkSync(path);
    expect(refusal(path).message).toMatch(/state\.db: bad-store: is missing, but it held data/);
    expect(existsSync(path)).toBe(false);
  });

  it("takes a 0-byte file without a marker as new: a crash before the first commit", () => {
    const path = tmp();
    writeFileSync(path, "");
    const store = Store.open(path);
    expect(store.db.prepare("SELECT COUNT(*) AS n FROM schema_version").get()).toMatchObject({ n: expect.any(Number) });
    store.close();
  });

  it("refuses a store with a page in the middle overwritten by garbage", () => {
    const path = tmp();
    storeWithData(path);
    const pageSize = 4096;
    const pages = statSync(path).size / pageSize;
    expect(pages).toBeGreaterThan(100);
    const fd = openSync(path, "r+");
    // Deterministic garbage: not a valid b-tree page header nor cell.
    const garbage = Buffer.alloc(pageSize, 0);
    for (let i = 0; i < pageSize; i++) garbage[i] = (i * 131 + 7) & 0xff;
    writeSync(fd, garbage, 0, pageSize, Math.floor(pages / 2) * pageSize);
    closeSync(fd);
    const err = refusal(path);
    expect(err.reason).toBe("bad-store");
    expect(err.source).toBe(path);
    // SQLite either lists the damage in quick_check's rows or stops the check with SQLITE_CORRUPT.
    expect(err.message).toMatch(/: bad-store: (fails its integrity check \(quick_check: Tree \d+ page \d+: .+\)|is damaged \(database disk image is malformed\)): restore it from a backup$/);
    expect(err.message).not.toContain("\n");
  });

  it("refuses a file that is not a SQLite database", () => {
    const path = tmp();
    writeFileSync(path, "not a database, just text that someone saved here\n".repeat(200));
    expect(refusal(path).message).toMatch(/bad-store: is not a SQLite database/);
  });

  it("refuses a store whose schema version is newer than the code", () => {
    const path = tmp();
    storeWithData(path);
    const raw = new Database(path);
    raw.prepare("INSERT INTO schema_version (version) VALUES (999)").run();
    raw.close();
    const err = refusal(path);
    expect(err.message).toMatch(/has schema version 999, which this dmabuf-review does not know \(it knows up to \d+\)/);
    // Refused before any migration could touch it.
    const check = new Database(path);
    expect(check.prepare("SELECT MAX(version) AS v FROM schema_version").get()).toEqual({ v: 999 });
    check.close();
  });

  it("watch says so in one line naming the file and exits 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-store-cli-"));
    const config = watchConfig(dir);
    const path = join(dir, "state.db");
    storeWithData(path);
    truncateSync(path, 0);
    const run = await runCli(["watch", "--once", "--config", config]);
    expect(run.code).toBe(2);
    const lines = stderrLines(run);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^dmabuf-review: ${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: bad-store: is empty \\(0 bytes\\)`));
  });
});
