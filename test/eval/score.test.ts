import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readLabelledSeries, type Expect, type LabelledSeries, type MustNot } from "../../eval/devset.js";
import { judge, mustNotRisks, score, type PlacedFinding } from "../../eval/score.js";

const E1: Expect = {
  id: "e1",
  version: 1,
  patch: 1,
  file: "drivers/dma-buf/dma-buf.c",
  function: "dma_buf_dynamic_attach",
  risk: "false-positive-check",
  say: "the gate refuses attachments that work today",
  raisedBy: "A Reviewer",
};
const E2: Expect = { ...E1, id: "e2", patch: 0, file: "drivers/gpu/drm/drm_prime.c", function: undefined, risk: "other", raisedBy: "label" };
const NOT: MustNot = { version: 1, patch: 2, file: "drivers/dma-buf/heaps/demo_heap.c", function: undefined, say: "no cache-maintenance finding" };

function series(over: Partial<LabelledSeries> = {}): LabelledSeries {
  return { id: "demo", kind: "positive", file: "demo.yaml", independentOverlap: undefined, messages: [], expect: [E1, E2], mustNot: [NOT], ...over };
}

function finding(over: Partial<PlacedFinding> = {}): PlacedFinding {
  return {
    series: series(),
    messageId: "p1@example.org",
    version: 1,
    patch: 1,
    rule: "attach/device-coherency-gate",
    severity: "warning",
    risk: "false-positive",
    file: "drivers/dma-buf/dma-buf.c",
    line: 838,
    function: "dma_buf_dynamic_attach",
    message: "m",
    ...over,
  };
}

describe("matching a warning to the labels", () => {
  it("matches on revision, patch, file, function and a compatible risk", () => {
    expect(judge(finding())).toMatchObject({ kind: "match", expects: [E1] });
    expect(judge(finding({ version: 2 })).kind).toBe("unlabelled");
    expect(judge(finding({ patch: 2 })).kind).toBe("unlabelled");
    expect(judge(finding({ function: "dma_buf_attach" })).kind).toBe("unlabelled");
    expect(judge(finding({ risk: "locking" })).kind).toBe("unlabelled");
    // A finding without a function (a model finding) is placed by file alone.
    expect(judge(finding({ function: undefined })).kind).toBe("match");
  });

  it("takes patch 0 as the series as a whole and risk `other` as any risk", () => {
    for (const patch of [1, 3]) {
      expect(judge(finding({ patch, file: "drivers/gpu/drm/drm_prime.c", risk: "locking", function: "x" }))).toMatchObject({
        kind: "match",
        expects: [E2],
      });
    }
  });

  it("contradicts a must_not only for the kinds of claim its words name", () => {
    const at = { patch: 2, file: "drivers/dma-buf/heaps/demo_heap.c", function: "demo_map" };
    expect(judge(finding({ ...at, risk: "missing-sync" }))).toMatchObject({ kind: "contradicts" });
    expect(judge(finding({ ...at, risk: "locking" })).kind).toBe("unlabelled");
    expect(mustNotRisks("no request to take dmabuf->resv in begin/end_cpu_access")).toEqual(["locking"]);
    expect(mustNotRisks("no claim that the check rejects attachments on x86 PCI systems")).toBeUndefined();
  });

  it("counts any warning on a negative series as a contradiction, and info apart", () => {
    const neg = series({ id: "neg", kind: "negative", expect: [], mustNot: [] });
    const s = score([neg], [finding({ series: neg }), finding({ series: neg, severity: "info" })]);
    expect(s.overall).toMatchObject({ warnings: 1, info: 1, matched: 0, contradicted: 1 });
    expect(s.warningsOnNegatives).toBe(1);
  });
});

describe("score", () => {
  it("counts per rule, recall with and without label-only concerns, and sorts the disagreements", () => {
    const s = score(
      [series()],
      [
        finding({ rule: "z/other", file: "b.c", line: 9, function: undefined }),
        finding(),
        finding({ rule: "z/other", file: "a.c", line: 1, function: undefined }),
        finding({ rule: "z/other", severity: "error", file: "drivers/gpu/drm/drm_prime.c", patch: 2, function: undefined }),
      ],
    );
    expect(s.rules.map((r) => [r.rule, r.warnings, r.matched, r.unlabelled, r.caught.size])).toEqual([
      ["attach/device-coherency-gate", 1, 1, 0, 1],
      ["z/other", 3, 1, 2, 1],
    ]);
    expect(s.overall).toMatchObject({ warnings: 4, matched: 2, contradicted: 0, unlabelled: 2 });
    expect(s.unlabelled.map((f) => f.file)).toEqual(["a.c", "b.c"]);
    expect(s.recall.slice(0, 2).map((r) => [r.caught, r.total])).toEqual([
      [2, 2],
      [1, 1],
    ]);
    expect(s.missed).toEqual([]);
  });
});

describe("concerns that stand in the next revision", () => {
  const labels = `
id: carry
kind: positive
independent_overlap: null
revisions:
  - {version: 1, patches: [{index: 1, total: 1, message_id: "<a@x>", commit: c1}]}
  - {version: 2, patches: [{index: 1, total: 1, message_id: "<b@x>", commit: c2}]}
  - {version: 3, patches: [{index: 1, total: 1, message_id: "<c@x>", commit: c3}]}
expect:
  - {id: e1, version: 1, patch: 1, file: drivers/tee/tee_shm.c, function: tee_shm_register_fd, risk: lock-contract,
     say: map without the reservation lock, raised_by: A Reviewer}
  - {id: e2, version: 1, patch: 1, file: drivers/tee/tee_shm.c, function: tee_shm_register_fd, risk: other,
     say: single-entry tables only, raised_by: A Reviewer}
feedback:
  - {id: f1, version: 1, patch: 1, reviewer: A Reviewer, asked: lock, expect: e1,
     outcome: {to_version: 2, verdict: not addressed, evidence: {message_id: "<b@x>", commit: c2}, pointer: unchanged}}
  - {id: f2, version: 1, patch: 1, reviewer: A Reviewer, asked: tables, expect: e2,
     outcome: {to_version: 2, verdict: addressed, evidence: {message_id: "<b@x>", commit: c2}, pointer: changed}}
`;

  it("match a warning on the revision that kept the code, and count the concern once", () => {
    const dir = mkdtempSync(join(tmpdir(), "carry-"));
    writeFileSync(join(dir, "carry.yaml"), labels);
    const s = readLabelledSeries(join(dir, "carry.yaml"));
    rmSync(dir, { recursive: true });
    expect(s.carried?.map((e) => [e.id, e.version])).toEqual([["e1", 2]]);
    const at = { series: s, patch: 1, file: "drivers/tee/tee_shm.c", function: "tee_shm_register_fd", risk: "locking" as const };
    expect(judge(finding({ ...at, version: 2 })).kind).toBe("match");
    // Addressed in v2, and nothing says v3 kept it: no match there.
    expect(judge(finding({ ...at, version: 3 })).kind).toBe("unlabelled");
    // e2 (any risk) was addressed in v2: a warning of another kind there matches nothing.
    expect(judge(finding({ ...at, version: 2, risk: "missing-sync" })).kind).toBe("unlabelled");
    // Caught on v2 alone, the v1 concern counts as caught, once.
    const scored = score([s], [finding({ ...at, version: 2 }), finding({ ...at, version: 2, line: 900 })]);
    expect(scored.overall).toMatchObject({ warnings: 2, matched: 2 });
    expect(scored.recall[0]).toMatchObject({ caught: 1, total: 2 });
  });
});
