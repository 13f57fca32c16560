import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findArchiveBundle, openArchive, projectRoot, type Archive } from "../../eval/archive.js";
import { loadPipeline, type Pipeline } from "../../eval/eval.js";
import { commitsOf, groupCommits, readFeedbackSet, scoreFeedback, subset } from "../../eval/feedback.js";

const DEVSET = join(projectRoot(), "eval", "devset");
// The real linaro-mm-sig archive, read from ../shared at test time and never copied here.
const BUNDLE = findArchiveBundle();
const why = BUNDLE ? "" : " (skipped: ../shared/archives/linaro-mm-sig-2019-2022.bundle is not there)";

describe("the feedback labels", () => {
  it("hold at least 60 points over at least 12 series, each step naming revisions the file lists", () => {
    const set = readFeedbackSet(DEVSET);
    expect(set.labels.length).toBeGreaterThanOrEqual(60);
    expect(new Set(set.labels.map((l) => l.series)).size).toBeGreaterThanOrEqual(12);
    for (const l of set.labels) expect(l.toVersion > l.version || l.toSeries !== l.series).toBe(true);
  });

  it("refuse a verdict outside the four, naming the file and the field", () => {
    const dir = mkdtempSync(join(tmpdir(), "feedback-labels-"));
    try {
      mkdirSync(join(dir, "positive"));
      mkdirSync(join(dir, "negative"));
      const good = readFileSync(join(DEVSET, "positive", "udmabuf-vmap-2022.yaml"), "utf8");
      writeFileSync(join(dir, "positive", "x.yaml"), good.replace(/verdict: not addressed/, "verdict: done"));
      expect(() => readFeedbackSet(dir)).toThrow(/x\.yaml: feedback\[\d+\]\.outcome\.verdict: expected addressed \| not addressed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!BUNDLE)(`feedback tracking on the real archive${why}`, () => {
  let archive: Archive;
  let pipeline: Pipeline;
  beforeAll(async () => {
    archive = openArchive(BUNDLE!);
    pipeline = await loadPipeline();
  });
  afterAll(() => archive?.close());

  async function scored(ids: readonly string[]) {
    const set = subset(readFeedbackSet(DEVSET), ids);
    return scoreFeedback(set, await groupCommits(archive, commitsOf(set)), pipeline);
  }

  it("links a renamed single patch (v3) and untagged reposts whose changelog names the revision", async () => {
    const s = await scored(["udmabuf-vmap-2022", "ast-prime-import-2022"]);
    const wrong = s.steps.filter((x) => x.linkError !== undefined).map((x) => x.linkError);
    expect(wrong).toEqual([]);
    expect(s.steps.length).toBeGreaterThanOrEqual(8);
  });

  it("rates points the next revision's changelog names as addressed, not answered", async () => {
    const s = await scored(["udmabuf-vmap-2022"]);
    const got = s.labels.map((l) => `${l.label.id} ${l.label.verdict} -> ${l.item?.verdict ?? "no item"}`);
    expect(got).toContain("f3 addressed -> addressed");
    expect(got).toContain("f5 addressed -> addressed");
  });

  it("reads a question signed on its last line as a point", async () => {
    const s = await scored(["dmabuf-debug-mangle-2021"]);
    const f1 = s.labels.find((l) => l.label.id === "f1")!;
    expect(f1.item?.kind).toBe("question");
  });
});
