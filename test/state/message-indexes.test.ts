import { describe, expect, it } from "vitest";
import { EARLIER_BY_AUTHOR, FeedbackStore, SERIES_IN_THREAD } from "../../src/state/feedback.js";
import { ANSWERS_TO, MailState } from "../../src/state/mail.js";
import { Store } from "../../src/state/store.js";

// Every archived message is inserted into `messages`: each index there is paid per message of a
// backfill, so the table keeps only the indexes its queries use (migration 005).
describe("indexes on messages", () => {
  it("are the primary key, the thread, the author's patches, the reviewed messages' threads and the series patches' parents, nothing else", () => {
    const store = Store.open(":memory:");
    const names = (store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' ORDER BY name").pluck().all() as string[]).filter(
      (n) => !n.startsWith("sqlite_autoindex"),
    );
    expect(names).toEqual(["messages_author_patches", "messages_reviewed_thread", "messages_series_patch_parent", "messages_thread"]);
    store.close();
  });

  it("the look-back for earlier revisions by author uses the partial index, in its order (no sort)", () => {
    const store = Store.open(":memory:");
    const plan = (store.db.prepare(`EXPLAIN QUERY PLAN ${EARLIER_BY_AUTHOR}`).all("a@example.org", 2) as { detail: string }[]).map((r) => r.detail);
    expect(plan).toEqual(["SEARCH messages USING INDEX messages_author_patches (author=?)"]);
    store.close();
  });

  it("the patches answering a possible untagged cover letter are found through the partial index, not a scan", () => {
    const store = Store.open(":memory:");
    const plan = (store.db.prepare(`EXPLAIN QUERY PLAN ${ANSWERS_TO}`).all("m") as { detail: string }[]).map((r) => r.detail);
    expect(plan).toEqual(["SEARCH messages USING INDEX messages_series_patch_parent (in_reply_to=?)"]);
    store.close();
  });

  it("which reviewed series a thread holds is answered from the reviewed messages alone", () => {
    const store = Store.open(":memory:");
    const plan = (store.db.prepare(`EXPLAIN QUERY PLAN ${SERIES_IN_THREAD}`).all("t") as { detail: string }[]).map((r) => r.detail);
    expect(plan).toEqual(["SEARCH messages USING COVERING INDEX messages_reviewed_thread (thread=? AND series_id>?)"]);
    store.close();
  });
});

describe("candidate threads for earlier revisions", () => {
  it("keeps the author's newest threads with a related subject, up to the limit, and what the change-id names", () => {
    const store = Store.open(":memory:");
    const mail = new MailState(store.db);
    let at = 1000;
    const add = (id: string, thread: string, subject: string, author = "jane@example.org", revision = 1) =>
      mail.insert({
        messageId: id,
        source: "s",
        origin: `git:0:${id}`,
        kind: "patch",
        subject,
        author,
        date: null,
        inReplyTo: null,
        status: "seen",
        reason: null,
        thread,
        revision,
        patchIndex: 1,
        patchTotal: 1,
        arrivedAt: at++,
      });
    add("a1", "ta", "[PATCH] dma-buf: add dma_coherent flag");
    add("b1", "tb", "[PATCH] drm/foo: unrelated cleanup");
    add("c1", "tc", "[Linaro-mm-sig] [PATCH 2/3] drm/prime: set the dma_coherent flag");
    add("d1", "td", "[PATCH] dma-buf: add dma_coherent flag", "someone@example.org");
    add("e1", "te", "[PATCH v3] dma-buf: add dma_coherent flag", "jane@example.org", 3);
    store.db.prepare("INSERT INTO series (id, title, revision, total, change_id, author, first_seen, state) VALUES ('b1', 't', 1, 1, 'cid', 'jane', 'x', 'reviewed')").run();
    const fb = new FeedbackStore(store.db);
    const related = (s: string) => /dma_coherent/.test(s);
    expect(fb.candidateThreads(undefined, "Jane@example.org", 2, related)).toEqual(["tc", "ta"]);
    expect(fb.candidateThreads(undefined, "jane@example.org", 2, related, 1)).toEqual(["tc"]);
    expect(fb.candidateThreads("cid", "jane@example.org", 2, related)).toEqual(["tb", "tc", "ta"]);
    store.close();
  });
});
