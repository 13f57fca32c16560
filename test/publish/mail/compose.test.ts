import { describe, expect, it } from "vitest";
import { draftReplies, postMessageId, SIGNATURE, type ReplyOptions } from "../../../src/publish/mail/compose.js";
import { SendingPolicy } from "../../../src/publish/mail/policy.js";
import type { PostKey } from "../../../src/state/ledger.js";
import { atOrAbove, renderCoverReply } from "../../../src/review/render/email.js";
import type { SeriesReview } from "../../../src/review/review-series.js";
import { reviewEdited, reviewFixture } from "./helpers.js";

const BOT = { name: "dmabuf-review", email: "bot@dmabuf-review.example" };
const OPTS: ReplyOptions = { policy: "all", threshold: "warning", list: "dri-devel@lists.freedesktop.org", from: BOT };
const never = () => false;
/** The policy over a ledger that holds what `isPosted` says (the policy's own test uses a real one). */
const ledger = (isPosted: (k: PostKey) => boolean): SendingPolicy =>
  new SendingPolicy({ get: (k) => (isPosted(k) ? { state: "posted" } : undefined), lastIntended: () => null, sentToListSince: () => 0 });
const fresh = ledger(never);

async function series(rel: string): Promise<SeriesReview> {
  return (await reviewFixture(rel)).series[0]!;
}

describe("drafting replies to a series", () => {
  it("answers each patch with findings at or above the threshold inline, and the cover letter with the model's summary", async () => {
    const s = await series("series/dma-coherent-v1.mbox");
    const { drafts, refused } = draftReplies(s, OPTS, fresh, never);
    expect(refused).toEqual([]);
    const withFindings = s.patches.filter((p) => atOrAbove(p.findings, "warning").length > 0);
    // The model's findings in the patch replies carry every configuration its summary counts:
    // the cover letter gets no mail that only repeats them.
    expect(drafts.map((d) => d.subject)).toEqual(withFindings.map((p) => `Re: ${p.message.subject}`));
    const first = drafts[0]!;
    const p1 = s.patches[0]!.message;
    expect(first.inReplyTo).toBe(p1.messageId);
    expect(first.references).toEqual([...p1.references, p1.messageId]);
    expect(first.to).toEqual([p1.from]);
    // The list, then who replied to the patch, then its own To and Cc; never the author twice, never the bot.
    expect(first.cc.map((p) => p.email)).toEqual(["dri-devel@lists.freedesktop.org", "l.stach@pengutronix.de", "linaro-mm-sig@lists.linaro.org", "linux-media@vger.kernel.org", "sumit.semwal@linaro.org"]);
    expect(first.fingerprints).toEqual([...new Set(atOrAbove(s.patches[0]!.findings, "warning").map((f) => f.fingerprint))].sort());
    expect(first.key).toEqual({ channel: "mail", thread: p1.messageId, what: "reply" });
    expect(first.messageId).toBe(postMessageId(first.key, BOT));
    expect(drafts.some((d) => d.key.what === "summary")).toBe(false);
  });

  it("writes like a kernel reviewer: attribution, quoted diff lines, the comment under them, 72 columns, signature", async () => {
    const s = await series("series/dma-coherent-v1.mbox");
    const text = draftReplies(s, OPTS, fresh, never).drafts[0]!.text;
    const lines = text.split("\n");
    expect(lines[0]).toBe("On Thu, 20 Oct 2022 12:13:14 +0000, Christian König wrote:");
    // No top-posting: what follows the attribution is the quote.
    expect(lines[1]).toBe("> diff --git a/drivers/dma-buf/dma-buf.c b/drivers/dma-buf/dma-buf.c");
    const at = lines.indexOf("> +\tif (dmabuf->dma_coherent && !dev_is_dma_coherent(dev))");
    expect(at).toBeGreaterThan(1);
    expect(lines[at + 1]).toBe("> +\t\treturn ERR_PTR(-EINVAL);");
    expect(lines[at + 2]).toBe("");
    expect(lines[at + 3]).toMatch(/^dma_buf_dynamic_attach\(\) gains a new failure/);
    // Prose is wrapped at 72 columns; quoted code is left as sent.
    const long = lines.filter((l) => !l.startsWith("> ") && l.length > 72);
    expect(long).toEqual([]);
    expect(text).toContain("[error] attach/attach-error-reaches-userspace (userspace-regression)");
    expect(text.endsWith(`\n${SIGNATURE.join("\n")}\n`)).toBe(true);
    expect(SIGNATURE[0]).toBe("-- ");
    expect(SIGNATURE.join(" ")).toMatch(/automated/);
    expect(SIGNATURE.join(" ")).toContain('"dmabuf-review: opt-out"');
    expect(text).not.toMatch(/<html|<br|<p>/i);
  });

  it("the cover letter reply quotes the opening, gives the model's verdict and a line per patch", async () => {
    const s = await series("series/dma-coherent-v1.mbox");
    const text = renderCoverReply(s, "warning", SIGNATURE);
    expect(text.split("\n").slice(0, 3)).toEqual(["On Thu, 20 Oct 2022 12:13:13 +0000, Christian König wrote:", "> Hi guys,", ">"]);
    expect(text).toMatch(/\nModel \(catalog-[0-9a-f]+, \d+ configurations before and after the\nseries\)/);
    expect(text).toMatch(/\n {2}1\/3 dma-buf: add dma_coherent flag: \d+ errors?, \d+ warnings?\n/);
    expect(text.split("\n").filter((l) => !l.startsWith(">") && l.length > 72)).toEqual([]);
  });

  it("a higher threshold says less; a patch under it gets no mail", async () => {
    const s = await series("series/dma-coherent-v1.mbox");
    const errors = draftReplies(s, { ...OPTS, threshold: "error" }, fresh, never).drafts;
    const withErrors = s.patches.filter((p) => p.findings.some((f) => f.severity === "error"));
    expect(errors.filter((d) => d.key.what !== "summary")).toHaveLength(withErrors.length);
    expect(withErrors.length).toBeLessThan(s.patches.length);
  });

  it("the list's policy decides who gets it: the author alone, or nobody", async () => {
    const s = await series("series/dma-coherent-v1.mbox");
    for (const d of draftReplies(s, { ...OPTS, policy: "author" }, fresh, never).drafts) expect(d.cc).toEqual([]);
    const none = draftReplies(s, { ...OPTS, policy: "none" }, fresh, never);
    expect(none.drafts).toEqual([]);
    expect(none.refused).toEqual([{ target: "mail", ok: false, what: s.series.id, reason: "the list's policy is to send nothing" }]);
  });

  it("what was posted before is not drafted again; an opted-out author gets nothing", async () => {
    const s = await series("series/dma-coherent-v1.mbox");
    const all = draftReplies(s, OPTS, fresh, never).drafts;
    const posted = new Set([...all[0]!.fingerprints.map((f) => `${all[0]!.inReplyTo}|${f}`), `${s.series.cover!.messageId}|summary`]);
    const again = draftReplies(s, OPTS, ledger((k) => posted.has(`${k.thread}|${k.what}`)), never).drafts;
    expect(again.map((d) => d.subject)).toEqual(all.slice(1).map((d) => d.subject));
    const out = draftReplies(s, OPTS, fresh, (email) => email === "christian.koenig@amd.com");
    expect(out.drafts).toEqual([]);
    expect(out.refused.map((r) => r.reason)).toContain("christian.koenig@amd.com opted out");
  });

  it("a patch without a cover letter carries the series summary at its end, when it adds to the findings", async () => {
    const s = await series("model/udmabuf-skip-cpu-sync.patch");
    // The model's finding on the line carries the configurations the summary counts: no summary.
    const quiet = draftReplies(s, OPTS, fresh, never).drafts;
    expect(quiet).toHaveLength(1);
    expect(quiet[0]!.text).not.toContain("For the series as a whole");
    // With the model's findings left out, the summary is what the reply would miss.
    const bare = { ...s, patches: s.patches.map((p) => ({ ...p, findings: p.findings.filter((f) => !f.model) })) };
    const d = draftReplies(bare, OPTS, fresh, never).drafts;
    expect(d).toHaveLength(1);
    expect(d[0]!.text).toMatch(/\nFor the series as a whole:\n {2}Model \(catalog-/);
    expect(d[0]!.text.indexOf("For the series as a whole")).toBeLessThan(d[0]!.text.indexOf("\n-- \n"));
  });

  it("Message-IDs follow from the ledger key alone", () => {
    const key = { channel: "mail", thread: "p@x", what: "reply:0123456789abcdef" };
    expect(postMessageId(key, BOT)).toBe(postMessageId({ ...key }, BOT));
    expect(postMessageId(key, BOT)).toMatch(/^dmabuf-review\.[0-9a-f]{24}@dmabuf-review\.example$/);
    expect(postMessageId({ ...key, what: "summary" }, BOT)).not.toBe(postMessageId(key, BOT));
  });

  it("never answers the bot itself: its own patch gets no reply, and it is never To or Cc", async () => {
    const patch = "model/udmabuf-skip-cpu-sync.patch";
    const own = (await reviewEdited(patch, "dmabuf-review <Bot@DMABUF-Review.example>", ["Message-ID: <own@example.org>"])).series[0]!;
    expect(atOrAbove(own.patches[0]!.findings, "warning").length).toBeGreaterThan(0);
    const mine = draftReplies(own, OPTS, fresh, never);
    expect(mine.drafts).toEqual([]);
    expect(mine.refused).toEqual([{ target: "mail", ok: false, what: "own@example.org", reason: "sent from the bot's own address" }]);
    const headers = ["Message-ID: <other@example.org>", "To: BOT@dmabuf-review.example", "Cc: a@example.org, bot@dmabuf-review.example"];
    const other = (await reviewEdited(patch, undefined, headers)).series[0]!;
    const d = draftReplies(other, OPTS, fresh, never).drafts;
    expect(d.map((x) => [...x.to, ...x.cc].map((p) => p.email))).toEqual([["dev@example.org", OPTS.list, "a@example.org"]]);
  });
});
