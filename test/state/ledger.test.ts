import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Store } from "../../src/state/store.js";

const tmp = () => join(mkdtempSync(join(tmpdir(), "dmabuf-review-state-")), "state.db");

describe("ledger", () => {
  it("records a post once; a second intent for the same key is refused, also after a restart", () => {
    const path = tmp();
    const key = { channel: "mail", thread: "<a@b>", what: "f00d" };
    let store = Store.open(path);
    expect(store.ledger.intend(key, "outbox")).toBe(true);
    expect(store.ledger.intend(key, "outbox")).toBe(false);
    store.ledger.posted(key, "outbox/1.eml");
    store.close();
    store = Store.open(path);
    expect(store.ledger.intend(key, "outbox")).toBe(false);
    expect(store.ledger.get(key)).toMatchObject({ state: "posted", location: "outbox/1.eml" });
    store.close();
  });

  it("keeps a pending post across a restart, and lets a failed one be retried", () => {
    const path = tmp();
    const a = { channel: "mail", thread: "<t>", what: "a" };
    const b = { channel: "mail", thread: "<t>", what: "b" };
    let store = Store.open(path);
    store.ledger.intend(a, "smtp");
    store.ledger.intend(b, "smtp");
    store.ledger.failed(b, "421 try later");
    store.close();
    store = Store.open(path);
    expect(store.ledger.pending("mail").map((p) => p.what)).toEqual(["a"]);
    store.ledger.retry(b);
    expect(store.ledger.intend(b, "smtp")).toBe(true);
    store.close();
  });

  it("counts a webhook delivery once", () => {
    const store = Store.open(tmp());
    expect(store.ledger.firstDelivery("github", "d-1")).toBe(true);
    expect(store.ledger.firstDelivery("github", "d-1")).toBe(false);
    expect(store.ledger.firstDelivery("gitlab", "d-1")).toBe(true);
    store.close();
  });
});

describe("cursors", () => {
  it("remember each epoch's last commit, in a transaction with other records", () => {
    const path = tmp();
    let store = Store.open(path);
    store.transaction(() => {
      store.cursors.set("lkml", "0", "aaa");
      store.cursors.set("lkml", "1", "bbb");
    });
    expect(() =>
      store.transaction(() => {
        store.cursors.set("lkml", "1", "ccc");
        throw new Error("crash in the middle of a batch");
      }),
    ).toThrow();
    store.close();
    store = Store.open(path);
    expect(store.cursors.all("lkml")).toEqual([
      { epoch: "0", lastCommit: "aaa" },
      { epoch: "1", lastCommit: "bbb" },
    ]);
    store.close();
  });
});

describe("migrations", () => {
  it("applies a migration that is missing even when a higher-numbered one is recorded", async () => {
    const { Database } = await import("../../src/state/sqlite.js");
    const path = tmp();
    Store.open(path).close();
    // Pretend 003 never ran while later migrations did: parallel branches land out of order.
    const raw = new Database(path);
    for (const t of ["revision_links", "feedback_items", "trackers"]) raw.exec(`DROP TABLE ${t}`);
    raw.prepare("DELETE FROM schema_version WHERE version = 3").run();
    raw.close();
    const store = Store.open(path);
    const versions = (store.db.prepare("SELECT version FROM schema_version ORDER BY version").all() as { version: number }[]).map((r) => r.version);
    expect(versions).toContain(3);
    for (const t of ["revision_links", "feedback_items", "trackers"]) {
      expect(store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?").get(t)).toBeDefined();
    }
    store.close();
  });
});
