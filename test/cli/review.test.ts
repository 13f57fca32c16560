import { MAX_SERIES_PATCHES } from "../../src/errors.js";
import { beforeAll, describe, expect, it } from "vitest";
import { reviewCommand } from "../../src/cli/review.js";
import { loadRules } from "../../src/analysis/rules/load.js";
import { CParser } from "../../src/patch/c-source.js";
import type { Series } from "../../src/patch/series.js";
import { reviewSeries } from "../../src/review/review-series.js";
import { assertBuilt, runCli, stderrLines } from "../helpers/cli.js";
import { captureIo } from "../helpers/io.js";

const BROKEN = "fixtures/broken";
const GOOD = `${BROKEN}/middle-truncated.reviewable.mbox`;

describe("review: one bad message of an mbox is skipped, the rest reviewed", () => {
  beforeAll(() => {
    assertBuilt();
  });

  it("goes on past an attachment with an empty Content-Type and exits as the good messages alone do", async () => {
    const mbox = `${BROKEN}/middle-empty-content-type.mbox`;
    const [alone, run] = await Promise.all([runCli(["review", GOOD]), runCli(["review", mbox, "--format", "json"])]);
    expect(run.stderr).not.toContain("internal error");
    expect(run.stderr).not.toContain("    at ");
    expect(run.code).toBe(alone.code);
    const doc = JSON.parse(run.stdout) as { series: { patches: { messageId: string }[] }[]; skipped: { source: string }[] };
    const ids = doc.series.flatMap((s) => s.patches.map((p) => p.messageId));
    expect(ids).toEqual(expect.arrayContaining(["20261113-a@example.org", "20261113-c@example.org"]));
    expect(ids.length + doc.skipped.length).toBe(3);
  });

  it("refuses [PATCH 1/4294967295] as too large, in a heap of 64 MB, and reviews the other two", async () => {
    const mbox = `${BROKEN}/middle-huge-series-total.mbox`;
    const [alone, run] = await Promise.all([runCli(["review", GOOD]), runCli(["review", mbox], undefined, ["--max-old-space-size=64"])]);
    expect(stderrLines(run)).toEqual([
      `dmabuf-review: skipped ${mbox}#2 <20261113-n@example.org>: too-large: numbered 1/4294967295: more than ${MAX_SERIES_PATCHES} patches`,
    ]);
    expect(run.code).toBe(alone.code);
    expect(run.stdout).toContain("[PATCH] dma-buf: refuse non-coherent importers of coherent buffers");
    expect(run.stdout).toContain("[PATCH] net: acme: sync the rx buffer before copying it");
  });
});

describe("review: series by series", () => {
  let real: (s: Series) => ReturnType<typeof reviewSeries>;
  beforeAll(async () => {
    const [rules, parser] = await Promise.all([loadRules(), CParser.load()]);
    real = (s) => reviewSeries(s, rules, parser);
  });

  it("writes each series before the next one is reviewed", async () => {
    const io = captureIo();
    const seenBefore: string[] = [];
    const code = await reviewCommand(GOOD, { format: "text", failOn: "warning" }, io, (s) => {
      seenBefore.push(io.out());
      return real(s);
    });
    expect(code === 0 || code === 1).toBe(true);
    expect(seenBefore).toHaveLength(2);
    expect(seenBefore[0]).toBe("");
    expect(seenBefore[1]).toContain("[PATCH] dma-buf: refuse non-coherent importers of coherent buffers");
  });

  it("reports a series whose review throws, prints the others, and exits by their findings", async () => {
    const io = captureIo();
    const code = await reviewCommand(GOOD, { format: "json", failOn: "info" }, io, (s) => {
      if (s.title.startsWith("net: acme")) throw new Error("the reviewer tripped");
      return real(s);
    });
    expect(code).toBe(1); // the dma-buf patch has findings at info or above
    expect(io.err()).toBe(
      `dmabuf-review: skipped ${GOOD} <20261113-c@example.org>: review-failed: series "net: acme: sync the rx buffer before copying it" (v1): the reviewer tripped\n`,
    );
    const doc = JSON.parse(io.out()) as { series: { id: string }[]; skipped: { messageId: string; reason: string }[] };
    expect(doc.series.map((s) => s.id)).toEqual(["20261113-a@example.org"]);
    expect(doc.skipped).toMatchObject([{ messageId: "20261113-c@example.org", reason: "review-failed" }]);
  });

  it("exits 2 when no series could be reviewed", async () => {
    const io = captureIo();
    const code = await reviewCommand(GOOD, { format: "text", failOn: "warning" }, io, () => {
      throw new Error("nothing works");
    });
    expect(code).toBe(2);
    expect(io.err().trimEnd().split("\n").at(-1)).toBe(`dmabuf-review: ${GOOD}: none of the 2 series could be reviewed`);
  });
});
