import { describe, expect, it } from "vitest";
import { EARLIER_BY_AUTHOR } from "../../src/state/feedback.js";
import { Store } from "../../src/state/store.js";

// Every archived message is inserted into `messages`: each index there is paid per message of a
// backfill, so the table keeps only the indexes its queries use (migration 005).
describe("indexes on messages", () => {
  it("are the primary key, the thread and the author's patches, nothing else", () => {
    const store = Store.open(":memory:");
    const names = (store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' ORDER BY name").pluck().all() as string[]).filter(
      (n) => !n.startsWith("sqlite_autoindex"),
    );
    expect(names).toEqual(["messages_author_patches", "messages_thread"]);
    store.close();
  });

  it("the look-back for earlier revisions by author uses the partial index", () => {
    const store = Store.open(":memory:");
    const plan = (store.db.prepare(`EXPLAIN QUERY PLAN ${EARLIER_BY_AUTHOR}`).all("a@example.org", 2, 20) as { detail: string }[]).map((r) => r.detail);
    expect(plan[0]).toBe("SEARCH messages USING INDEX messages_author_patches (author=?)");
    store.close();
  });
});
