import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseDiff } from "../../../src/patch/diff.js";
import { changeLine, claim, planPublish, type OnForge } from "../../../src/publish/forge/plan.js";
import { positionOf } from "../../../src/publish/forge/position.js";
import type { Finding } from "../../../src/review/finding.js";
import { Store } from "../../../src/state/store.js";

const finding = (fingerprint: string, over: Partial<Finding> = {}): Finding => ({
  rule: "attach/device-coherency-gate",
  title: "t",
  severity: "warning",
  risk: "false-positive",
  file: "drivers/dma-buf/dma-buf.c",
  line: 12,
  function: undefined,
  message: "m",
  evidence: [],
  quote: ["+x"],
  references: [],
  fingerprint,
  patch: 1,
  ...over,
});

describe("positionOf", () => {
  const files = parseDiff(
    [
      "--- a/drivers/dma-buf/dma-buf.c",
      "+++ b/drivers/dma-buf/dma-buf.c",
      "@@ -10,4 +10,4 @@ int f(void)",
      " \tint a;",
      "-\tb = old();",
      "+\tb = new();",
      " \treturn a;",
      " }",
      "",
    ].join("\n"),
  );

  it("places an added line on the new side, a context line on both, a removed one on the old side", () => {
    expect(positionOf(finding("a", { line: 11, quote: ["+\tb = new();"] }), files)).toMatchObject({ kind: "added", newLine: 11, oldLine: undefined });
    expect(positionOf(finding("a", { line: 12, quote: [" \treturn a;"] }), files)).toMatchObject({ kind: "context", newLine: 12, oldLine: 12 });
    expect(positionOf(finding("a", { line: 11, quote: ["-\tb = old();"] }), files)).toMatchObject({ kind: "removed", oldLine: 11, newLine: undefined, oldPath: "drivers/dma-buf/dma-buf.c" });
  });

  it("has no position for a line the diff does not show, or a file it does not hold", () => {
    expect(positionOf(finding("a", { line: 40 }), files)).toBeUndefined();
    expect(positionOf(finding("a", { file: "include/linux/dma-buf.h" }), files)).toBeUndefined();
  });
});

describe("planPublish", () => {
  let store: Store;
  const key = (what: string) => ({ channel: "gitlab", thread: "mesa/kernel!7", what });
  const on = (fingerprint: string, resolved = false): OnForge => ({ fingerprint, id: `d-${fingerprint}`, resolved, body: `body ${fingerprint}` });

  beforeEach(() => {
    store = Store.open(join(mkdtempSync(join(tmpdir(), "dmabuf-review-plan-")), "state.db"));
  });
  afterEach(() => store.close());

  it("posts the new, keeps the known, reopens what came back, resolves what is gone", () => {
    const plan = planPublish([finding("new"), finding("known"), finding("back"), finding("known")], [on("known"), on("back", true), on("gone"), on("old", true)], store.ledger, key, "gitlab-discussions");
    expect(plan.post.map((f) => f.fingerprint)).toEqual(["new"]);
    expect(plan.keep.map((f) => f.fingerprint)).toEqual(["known"]);
    expect(plan.reopen.map((r) => r.on.id)).toEqual(["d-back"]);
    expect(plan.resolve.map((o) => o.id)).toEqual(["d-gone"]);
    expect(changeLine(plan, 1)).toBe("1 new, 1 no longer found (resolved), 1 found again (reopened), 1 unchanged");
    // What the forge shows is learnt by the ledger (a lost store is rebuilt from it).
    expect(store.ledger.get(key("known"))).toMatchObject({ state: "posted", location: "d-known" });
  });

  it("does not post again what a person deleted, and posts again what failed or never got a receipt", () => {
    for (const fp of ["deleted", "failed", "pending"]) store.ledger.intend(key(fp), "gitlab-discussions");
    store.ledger.posted(key("deleted"), "d-1");
    store.ledger.failed(key("failed"), "503");
    const plan = planPublish([finding("deleted"), finding("failed"), finding("pending")], [], store.ledger, key, "gitlab-discussions");
    expect(plan.keep.map((f) => f.fingerprint)).toEqual(["deleted"]);
    expect(plan.post.map((f) => f.fingerprint)).toEqual(["failed", "pending"]);
    claim(store.ledger, key("failed"), "gitlab-discussions");
    expect(store.ledger.get(key("failed"))?.state).toBe("pending");
    claim(store.ledger, key("fresh"), "gitlab-discussions");
    expect(store.ledger.get(key("fresh"))?.state).toBe("pending");
  });
});
