import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { stdoutTarget, stdoutWriter } from "../../src/publish/stdout.js";
import type { Review } from "../../src/review/review.js";
import { fixture } from "../helpers/mail.js";
import { reviewPath } from "../helpers/review.js";

/** A stream that records each write apart: what a reader sees arrive, and when. */
function recorder() {
  const writes: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk.toString());
      cb();
    },
  });
  return { out, writes };
}

describe("stdout writer", () => {
  const two = async (): Promise<Review> => {
    const a = await reviewPath(fixture("series/dma-coherent-v1.mbox"));
    const b = await reviewPath(fixture("broken/middle-truncated.mbox"));
    return { series: [...a.series, ...b.series], skipped: b.skipped, orphanReplies: a.orphanReplies };
  };

  it("writes JSON one series per write, and the pieces are the two-space document JSON.stringify gives", async () => {
    const review = await two();
    const { out, writes } = recorder();
    await stdoutTarget("json", out).publish(review, { channel: "stdout", id: "x" });
    expect(writes).toHaveLength(review.series.length + 1);
    const text = writes.join("");
    const doc = JSON.parse(text) as { series: { id: string }[]; skipped: unknown[] };
    expect(doc.series.map((s) => s.id)).toEqual(review.series.map((s) => s.series.id));
    expect(doc.skipped).toEqual(review.skipped);
    expect(text).toBe(`${JSON.stringify(doc, null, 2)}\n`);
  });

  it("writes the same document shape with no series at all", async () => {
    for (const format of ["json", "text"] as const) {
      const { out, writes } = recorder();
      const w = stdoutWriter(format, out);
      await w.end({ skipped: [{ source: "x.mbox#1", messageId: "a@b", reason: "too-large", detail: "d" }], orphanReplies: [] });
      const text = writes.join("");
      if (format === "json") expect(text).toBe(`${JSON.stringify({ series: [], skipped: [{ source: "x.mbox#1", messageId: "a@b", reason: "too-large", detail: "d" }], orphanReplies: [] }, null, 2)}\n`);
      else expect(text).toBe("No patches in the input.\n\nskipped x.mbox#1 <a@b>: too-large: d\n");
    }
  });

  it("writes text one series per write, separated by two blank lines", async () => {
    const review = await two();
    const { out, writes } = recorder();
    await stdoutTarget("text", out).publish(review, { channel: "stdout", id: "x" });
    expect(writes).toHaveLength(review.series.length + 1);
    expect(writes[1]!.startsWith("\n\n\nSeries: ")).toBe(true);
    expect(writes.at(-1)).toMatch(/^\n\nskipped .*middle-truncated\.mbox#2 <20261113-b@example\.org>: truncated-diff: .*\n$/);
  });
});
