import { describe, expect, it } from "vitest";
import { extractItems } from "../../../src/feedback/items.js";
import { forgeHistory, isOwnComment, pushesToRead, quoteAt, saidOnEarlier, type ForgeChange, type ForgeComment, type ForgePush } from "../../../src/ingest/forge/feedback.js";
import type { ForgeFile } from "../../../src/ingest/forge/revision.js";
import { parseDiff } from "../../../src/patch/diff.js";

const HUNKS = [
  "@@ -10,4 +10,6 @@ int dma_buf_attach(struct dma_buf *dmabuf, struct device *dev)",
  " \tint ret;",
  "-\tret = old_check(dev);",
  "+\tif (dmabuf->dma_coherent && !dev_is_dma_coherent(dev))",
  "+\t\treturn -EINVAL;",
  "+\tret = new_check(dev);",
  " \treturn ret;",
  " }",
].join("\n");

const file = (hunks: string, path = "drivers/dma-buf/dma-buf.c"): ForgeFile => ({ oldPath: path, newPath: path, status: "modified", hunks, binary: false, tooLarge: false });
const files = parseDiff(`--- a/drivers/dma-buf/dma-buf.c\n+++ b/drivers/dma-buf/dma-buf.c\n${HUNKS}\n`);

const CHANGE: ForgeChange = {
  forge: "gitlab",
  thread: "mesa/kernel!7",
  title: "dma-buf: refuse non-coherent importers",
  description: "Changes in v2:\n- return -EINVAL only for the flag (Priya)\n",
  author: { name: "Alex Moreau", email: "alex@gitlab" },
  url: "https://gitlab.example.org/mesa/kernel/-/merge_requests/7",
};

const PRIYA = { name: "Priya Raman", email: "priya@gitlab" };
const push = (sha: string, revision: number, since: string, hunks = HUNKS): ForgePush => ({ sha, revision, since: new Date(since), files: [file(hunks)] });
const comment = (over: Partial<ForgeComment> & Pick<ForgeComment, "id" | "body">): ForgeComment => ({
  author: PRIYA,
  date: new Date("2026-11-03T10:00:00Z"),
  head: undefined,
  position: undefined,
  hunk: undefined,
  replyTo: undefined,
  ...over,
});

describe("quoteAt", () => {
  it("spells the lines of a position as the patch does, a removed line between them included", () => {
    expect(quoteAt(files, { path: "drivers/dma-buf/dma-buf.c", side: "new", first: 11, last: 12 })).toEqual(["+\tif (dmabuf->dma_coherent && !dev_is_dma_coherent(dev))", "+\t\treturn -EINVAL;"]);
    expect(quoteAt(files, { path: "drivers/dma-buf/dma-buf.c", side: "new", first: 10, last: 11 })).toEqual([" \tint ret;", "-\tret = old_check(dev);", "+\tif (dmabuf->dma_coherent && !dev_is_dma_coherent(dev))"]);
    expect(quoteAt(files, { path: "drivers/dma-buf/dma-buf.c", side: "old", first: 11, last: 11 })).toEqual(["-\tret = old_check(dev);"]);
  });

  it("finds nothing for a line the diff does not show, or another file", () => {
    expect(quoteAt(files, { path: "drivers/dma-buf/dma-buf.c", side: "new", first: 40, last: 40 })).toBeUndefined();
    expect(quoteAt(files, { path: "include/linux/dma-buf.h", side: "new", first: 11, last: 11 })).toBeUndefined();
  });
});

describe("isOwnComment", () => {
  it("knows the bot's bodies by their hidden marker, whatever kind", () => {
    expect(isOwnComment("**warning** ...\n\n<!-- dmabuf-review finding=0123456789abcdef -->")).toBe(true);
    expect(isOwnComment("<!-- dmabuf-review:tracker series=gitlab:x!1@abc -->\n### Review feedback")).toBe(true);
    expect(isOwnComment("**dmabuf-review** at abc: ...\n\n<!-- dmabuf-review review -->")).toBe(true);
    expect(isOwnComment("I ran dmabuf-review locally and it agrees with you.")).toBe(false);
    expect(isOwnComment(null)).toBe(false);
  });
});

describe("forgeHistory", () => {
  const v1 = push("a".repeat(40), 1, "2026-11-02T10:00:00Z");
  const v2 = push("b".repeat(40), 2, "2026-11-05T10:00:00Z", HUNKS.replace("return -EINVAL", "return -EOPNOTSUPP"));

  it("hangs a line comment on the push it names, quoting its lines, so the core anchors it as it anchors a mail", () => {
    const h = forgeHistory(CHANGE, [v1, v2], [
      comment({ id: "note:1", head: v1.sha, position: { path: "drivers/dma-buf/dma-buf.c", side: "new", first: 12, last: 12 }, body: "Please return -EOPNOTSUPP here, it is not an invalid argument." }),
    ])!;
    expect(h.known.map((s) => [s.id, s.revision, s.changeId])).toEqual([
      [`gitlab:mesa/kernel!7@${v1.sha}`, 1, "mesa/kernel!7"],
      [`gitlab:mesa/kernel!7@${v2.sha}`, 2, "mesa/kernel!7"],
    ]);
    expect(h.current.id).toBe(`gitlab:mesa/kernel!7@${v2.sha}`);
    const [older] = h.known;
    const reply = [...older!.replies.values()].flat()[0]!;
    expect(reply).toMatchObject({ kind: "reply", messageId: "note:1", inReplyTo: older!.slots[0]!.messageId, subject: "Re: [PATCH] dma-buf: refuse non-coherent importers" });
    expect(reply.body).toBe("> +\t\treturn -EINVAL;\n\nPlease return -EOPNOTSUPP here, it is not an invalid argument.\n");
    const [item] = extractItems(older!, [CHANGE.author]);
    expect(item).toMatchObject({ source: "note:1", kind: "change requested", anchor: { kind: "code", file: "drivers/dma-buf/dma-buf.c", line: 12, quoted: ["+\t\treturn -EINVAL;"] } });
    expect(h).toMatchObject({ comments: 1, quoted: 1 });
  });

  it("places a comment without a head on the push current when it was written, and a reply with its thread", () => {
    const h = forgeHistory(CHANGE, [v1, v2], [
      comment({ id: "c:1", date: new Date("2026-11-03T10:00:00Z"), body: "Why -EINVAL?" }),
      comment({ id: "c:2", date: new Date("2026-11-06T10:00:00Z"), body: "Why is this still here?" }),
      comment({ id: "c:3", date: new Date("2026-11-06T11:00:00Z"), author: CHANGE.author, replyTo: "c:1", body: "Because the import must fail loudly." }),
    ])!;
    const ids = (i: number) => [...h.known[i]!.replies.values()].flat().map((m) => m.messageId);
    expect(ids(0)).toEqual(["c:1", "c:3"]);
    expect(ids(1)).toEqual(["c:2"]);
    const answer = [...h.known[0]!.replies.values()].flat()[1]!;
    // A reply answers the words above it, quoted as a mail reply quotes them, in the thread.
    expect(answer.body).toBe("> Why -EINVAL?\n\nBecause the import must fail loudly.\n");
    expect(answer.inReplyTo).toBe("c:1");
    expect(answer.references).toEqual([h.known[0]!.slots[0]!.messageId, "c:1"]);
  });

  it("reads the description as the latest push's changelog only", () => {
    const h = forgeHistory(CHANGE, [v1, v2], [])!;
    expect(h.known.map((s) => s.slots[0]!.notes)).toEqual(["", CHANGE.description]);
  });

  it("leaves out a push with nothing to review, and has no history without its latest", () => {
    const binary: ForgePush = { sha: "c".repeat(40), revision: 3, since: new Date("2026-11-07T10:00:00Z"), files: [{ ...file(""), hunks: undefined, binary: true }] };
    expect(forgeHistory(CHANGE, [v1, binary], [])).toBeUndefined();
    expect(forgeHistory(CHANGE, [{ ...binary, revision: 0, since: new Date("2026-11-01T00:00:00Z") }, v1, v2], [])!.known.map((s) => s.revision)).toEqual([1, 2]);
  });
});

describe("pushesToRead and saidOnEarlier", () => {
  const heads = [1, 2, 3, 4].map((n) => ({ sha: String(n).repeat(40), since: new Date(`2026-11-0${n}T10:00:00Z`) }));

  it("reads the latest push, the one before it, and each one something was said on", () => {
    const said = [comment({ id: "x", head: heads[0]!.sha, body: "?" }), comment({ id: "y", replyTo: "x", body: "!" })];
    expect(pushesToRead(heads, said).map((h) => h.sha[0])).toEqual(["1", "3", "4"]);
    expect(pushesToRead(heads, []).map((h) => h.sha[0])).toEqual(["3", "4"]);
  });

  it("tells whether anything was said before the latest push", () => {
    expect(saidOnEarlier(heads, [comment({ id: "x", date: new Date("2026-11-05T00:00:00Z"), body: "?" })])).toBe(false);
    expect(saidOnEarlier(heads, [comment({ id: "x", date: new Date("2026-11-02T12:00:00Z"), body: "?" })])).toBe(true);
    expect(saidOnEarlier(heads, [comment({ id: "x", head: heads[3]!.sha, date: new Date("2026-11-01T00:00:00Z"), body: "?" })])).toBe(false);
  });
});
