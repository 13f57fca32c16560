import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { dmaApiContradictions, lockContradictions } from "../../../src/analysis/catalog/dma-api.js";
import { loadFacts } from "../../../src/analysis/catalog/facts.js";
import { loadCatalog } from "../../../src/analysis/catalog/load.js";
import { defaultRulesDir } from "../../../src/analysis/rules/load.js";
import { callKind } from "../../../src/analysis/vocabulary.js";
import { InputError } from "../../../src/errors.js";

const rulesDir = defaultRulesDir();

describe("the bundled facts", () => {
  it("load and state the v6.2 contract of the vmap and map pairs", async () => {
    const { locks } = await loadFacts(rulesDir);
    expect(locks.functions.get("dma_buf_vmap")).toMatchObject({ contract: "caller-holds", unlockedVariant: "dma_buf_vmap_unlocked" });
    expect(locks.functions.get("dma_buf_vmap_unlocked")).toMatchObject({ contract: "takes", lockedVariant: "dma_buf_vmap" });
    expect(locks.functions.get("dma_buf_map_attachment")?.contract).toBe("caller-holds");
    expect(locks.functions.get("dma_buf_begin_cpu_access")?.contract).toBe("takes");
    expect(locks.callbacks.get("map_dma_buf")).toBe("locked");
    expect(locks.callbacks.get("begin_cpu_access")).toBe("unlocked");
  });

  it("catch advice to hold the reservation lock around a call that takes it, and only that", async () => {
    const { locks } = await loadFacts(rulesDir);
    const ids = (message: string) => lockContradictions({ message }, locks).map((c) => c.rule.id);
    expect(ids("Hold the reservation lock while calling dma_buf_begin_cpu_access().")).toEqual(["lock-contract dma_buf_begin_cpu_access"]);
    expect(ids("Take the resv lock around dma_buf_attach().")).toEqual(["lock-contract dma_buf_attach"]);
    expect(ids("Take the reservation lock around dma_buf_map_attachment().")).toEqual([]);
    expect(ids("Drop the reservation lock before dma_buf_attach().")).toEqual([]);
    expect(ids("Do not hold the resv lock when calling dma_buf_vmap_unlocked().")).toEqual([]);
  });

  it("give the model the CPU mapping attribute of each mapping call, from memory.yaml", async () => {
    const catalog = await loadCatalog(rulesDir);
    expect(catalog.mappingAttrs.get("pgprot_writecombine")).toBe("wc");
    expect(catalog.mappingAttrs.get("pgprot_dmacoherent")).toBe("wc");
    expect(catalog.mappingAttrs.get("pgprot_noncached")).toBe("uncached");
    expect(catalog.mappingAttrs.has("gen_pool_alloc")).toBe(false);
  });

  it("name only dma-buf calls the hunk classifier reports, so a rule can see each one", async () => {
    const { locks } = await loadFacts(rulesDir);
    const unseen = [...locks.functions.keys()].filter((n) => callKind(n) !== "framework-call");
    expect(unseen).toEqual([]);
  });

  it("pass every bundled rule text through the DMA API check, and catch advice against it", async () => {
    const { dmaApi } = await loadFacts(rulesDir);
    const bad = "End CPU access with the caller's direction.";
    expect(dmaApiContradictions({ message: bad }, dmaApi).map((c) => c.rule.id)).toEqual(["sync-direction-is-mapping-direction"]);
    const conditioned = "Map the table DMA_BIDIRECTIONAL, then sync with the caller's direction.";
    expect(dmaApiContradictions({ message: conditioned }, dmaApi)).toEqual([]);
  });
});

describe("a malformed catalog entry is refused with the file and the field", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** A copy of rules/ whose catalog file `name` has `edit` applied to its text. */
  async function broken(name: string, edit: (text: string) => string): Promise<{ dir: string; file: string }> {
    dir = await mkdtemp(join(tmpdir(), "dmabuf-facts-"));
    await cp(join(rulesDir, "schema"), join(dir, "schema"), { recursive: true });
    await cp(join(rulesDir, "catalog"), join(dir, "catalog"), { recursive: true });
    const file = join(dir, "catalog", `${name}.yaml`);
    const text = await readFile(file, "utf8");
    const changed = edit(text);
    expect(changed).not.toBe(text);
    await writeFile(file, changed);
    return { dir, file };
  }

  async function refusal(name: string, edit: (text: string) => string): Promise<InputError> {
    const b = await broken(name, edit);
    const err = await loadFacts(b.dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).reason).toBe("bad-rule");
    expect((err as InputError).source).toBe(b.file);
    return err as InputError;
  }

  const cases: readonly [string, string, (t: string) => string, string][] = [
    ["locks", "an unknown contract", (t) => t.replace("contract: caller-holds", "contract: sometimes"), "field functions.0.contract must be equal to one of the allowed values"],
    ["locks", "a missing field", (t) => t.replace(/\n    since: v6\.2\n    unlocked-variant: dma_buf_map_attachment_unlocked/, "\n    unlocked-variant: dma_buf_map_attachment_unlocked"), "field functions.0.since is required"],
    ["locks", "an unknown field", (t) => t.replace("  - name: dma_buf_pin\n", "  - name: dma_buf_pin\n    holds: yes\n"), "field functions.2.holds is not allowed"],
    ["locks", "a variant without its own entry", (t) => t.replace("unlocked-variant: dma_buf_vmap_unlocked", "unlocked-variant: dma_buf_vmap_nolock"), "field functions.4.unlocked-variant names dma_buf_vmap_nolock, which has no entry"],
    ["locks", "a variant with the same contract", (t) => t.replace("unlocked-variant: dma_buf_vmap_unlocked", "unlocked-variant: dma_buf_vunmap"), "whose contract is caller-holds, not takes"],
    ["locks", "a callback member that is no dma_buf_ops field", (t) => t.replace("{member: pin,", "{member: pin_pages,"), "field callbacks.0.member must be equal to one of the allowed values"],
    ["locks", "a regular expression that does not compile", (t) => t.replace('held: "_locked$"', 'held: "_locked($"'), "field evidence.naming.held is not a valid regular expression"],
    ["locks", "a repeated function", (t) => t.replace("  - name: dma_buf_unpin\n", "  - name: dma_buf_pin\n"), "field functions.3.name repeats dma_buf_pin"],
    ["memory", "a model memory value the model does not know", (t) => t.replace("model-memory: wc", "model-memory: streaming"), "field kinds.0.model-memory must be equal to one of the allowed values"],
    ["memory", "a kind with nothing to recognise it by", (t) => t.replace(/recognise:\n      calls: \[pgprot_writecombine[^\]]*\]\n      identifiers: \[[^\]]*\]/, "recognise: {}"), "field kinds.0.recognise must NOT have fewer than 1 properties"],
    ["dma-api", "a contradiction pattern that does not compile", (t) => t.replace("contradicted-by:\n      - \"", "contradicted-by:\n      - \"(["), "field rules.0.contradicted-by.0 is not a valid regular expression"],
    ["locks", "YAML that does not parse", (t) => `${t}\n  - [unclosed`, "YAML does not parse"],
  ];
  for (const [name, what, edit, wanted] of cases) {
    it(`${name}.yaml: ${what}`, async () => {
      expect((await refusal(name, edit)).message).toContain(wanted);
    });
  }
});
