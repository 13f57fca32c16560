import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, cliBatch } from "../helpers/cli.js";

const DIR = "fixtures/out-of-scope";

interface JsonReview {
  series: {
    patches: { subject: string; outOfScope: boolean; docOnly: boolean; files: string[]; touches: unknown[]; findings: unknown[] }[];
  }[];
  orphanReplies: { subject: string; messageId: string }[];
  skipped: unknown[];
}

// Short runs of the built CLI, all in one process: a start of the bin for each would cost more.
const batch = cliBatch();

function reviewJson(file: string): () => Promise<{ code: number | null; doc: JsonReview; stderr: string }> {
  const run = batch.add(["review", `${DIR}/${file}`, "--format", "json", "--fail-on", "info"]);
  return async () => {
    const r = await run();
    return { code: r.code, doc: JSON.parse(r.stdout) as JsonReview, stderr: r.stderr };
  };
}
const netJson = reviewJson("net-dma-sync.patch");
const netText = batch.add(["review", `${DIR}/net-dma-sync.patch`]);
const docJson = reviewJson("doc-dma-buf-rst.patch");
const commentJson = reviewJson("comment-only-dma-buf.patch");
const replyJson = reviewJson("reply-quoting-diff.eml");

describe("patches the bot has nothing to say about", () => {
  beforeAll(() => {
    assertBuilt();
    batch.start();
  });

  it("calls a networking driver's dma_sync_single_for_cpu out of scope, with no findings", async () => {
    const { code, doc, stderr } = await netJson();
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(doc.series).toHaveLength(1);
    const [patch] = doc.series[0]!.patches;
    expect(patch).toMatchObject({ outOfScope: true, files: ["drivers/net/ethernet/acme/acme_rx.c"], touches: [], findings: [] });
  });

  it("says so in one line of text output", async () => {
    const run = await netText();
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines.filter((l) => /does not touch dma-buf/.test(l))).toHaveLength(1);
    const at = lines.indexOf("[PATCH] net: acme: sync the rx buffer before copying it");
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1]).toMatch(/^\s+out of scope: does not touch dma-buf\.$/);
    // Nothing else about the patch: its block ends there, no touch summary, no findings.
    expect(lines[at + 2] ?? "").toBe("");
  });

  it("has no findings for a Documentation-only change to dma-buf.rst", async () => {
    const { code, doc } = await docJson();
    expect(code).toBe(0);
    const [patch] = doc.series[0]!.patches;
    expect(patch!.files).toEqual(["Documentation/driver-api/dma-buf.rst"]);
    expect(patch!.findings).toEqual([]);
    // dma-buf's own documentation is in scope, and documentation alone never earns a warning.
    expect(patch!.outOfScope).toBe(false);
    expect(patch!.docOnly).toBe(true);
  });

  it("has no findings for a comment-only change in drivers/dma-buf/dma-buf.c, and says it is comments only", async () => {
    const { code, doc } = await commentJson();
    expect(code).toBe(0);
    const [patch] = doc.series[0]!.patches;
    expect(patch).toMatchObject({ outOfScope: false, docOnly: true, files: ["drivers/dma-buf/dma-buf.c"], findings: [] });
  });

  it("makes no patch of a reply quoting a dma-buf diff: it is a reply", async () => {
    const { code, doc } = await replyJson();
    expect(code).toBe(0);
    expect(doc.series).toEqual([]);
    expect(doc.orphanReplies).toEqual([
      { subject: "Re: [PATCH] dma-buf: return an error from end_cpu_access on a NULL buffer", messageId: "87ack0001.fsf@reviewer.example.com" },
    ]);
    expect(doc.skipped).toEqual([]);
  });
});
