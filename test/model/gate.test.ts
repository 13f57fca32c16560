import { beforeAll, describe, expect, it } from "vitest";
import { conditionToPredicate, factsRead, type GateContext } from "../../src/model/gate.js";
import type { CFunction } from "../../src/model/code/functions.js";
import { evaluate, show, type PredicateInputs } from "../../src/model/predicate.js";
import { CParser, parseCondition } from "../../src/patch/c-source.js";

let parser: CParser;
beforeAll(async () => {
  parser = await CParser.load();
});

function helper(name: string, params: string[], body: string): CFunction {
  return { file: "drivers/foo/foo.c", patch: 1, name, params, body, line: 1 };
}

function gate(condition: string, helpers: CFunction[] = []) {
  const ctx: GateContext = { parse: (t) => parseCondition(parser, t), helpers: new Map(helpers.map((h) => [h.name, h])) };
  const ast = parseCondition(parser, condition);
  expect(ast).toBeDefined();
  return conditionToPredicate(ast!, ctx);
}

const BASE: PredicateInputs = {
  "buffer-flag": false,
  "importer-dev-coherent": false,
  "exporter-dev-coherent": false,
  "importer-snoops": false,
  "importer-iommu": false,
  "importer-p2p": false,
  "importer-dynamic": false,
  "exporter-dynamic": false,
  "memory-cached": true,
  "cpu-mappable": true,
  "map-direction": "DMA_BIDIRECTIONAL",
};

function holds(condition: string, facts: Partial<PredicateInputs>, helpers: CFunction[] = []): boolean {
  const p = gate(condition, helpers);
  if ("unknown" in p) throw new Error(`unknown: ${p.unknown}`);
  return evaluate(p, { ...BASE, ...facts });
}

describe("gates as predicates over the model's facts", () => {
  it("a comparison of the flag with the importer's coherency is C: 0 and 1", () => {
    const c = "dmabuf->dma_coherent != dev_is_dma_coherent(attach->dev)";
    expect(holds(c, { "buffer-flag": true, "importer-dev-coherent": false })).toBe(true);
    expect(holds(c, { "buffer-flag": false, "importer-dev-coherent": true })).toBe(true);
    expect(holds(c, { "buffer-flag": true, "importer-dev-coherent": true })).toBe(false);
    expect(holds("dev_is_dma_coherent(dev) == false", { "importer-dev-coherent": false })).toBe(true);
  });

  it("the device a query asks about: the attachment's or the exporter's own", () => {
    const p = gate("!dev_is_dma_coherent(buf->dev) && !dev_is_dma_coherent(attach->dev)");
    expect("unknown" in p ? p.unknown : show(p)).toBe("!dev_is_dma_coherent(exporter) && !dev_is_dma_coherent(importer)");
  });

  it("ternaries, direction, peer2peer and dynamic importers", () => {
    const c = "attach->peer2peer ? false : (dir == DMA_FROM_DEVICE && !dma_buf_attachment_is_dynamic(attach))";
    expect(holds(c, { "importer-p2p": true, "map-direction": "DMA_FROM_DEVICE" })).toBe(false);
    expect(holds(c, { "map-direction": "DMA_FROM_DEVICE" })).toBe(true);
    expect(holds(c, { "map-direction": "DMA_TO_DEVICE" })).toBe(false);
    expect(holds(c, { "map-direction": "DMA_FROM_DEVICE", "importer-dynamic": true })).toBe(false);
  });

  it("follows a helper the series defines, binding its parameters to the call's arguments", () => {
    const h = helper("foo_sees_cpu_writes", ["dev", "p2p"], "bool snoop = dev_is_dma_coherent(dev);\n if (p2p)\n return true;\n return snoop;");
    const c = "!foo_sees_cpu_writes(attach->dev, attach->peer2peer)";
    expect(holds(c, {}, [h])).toBe(true);
    expect(holds(c, { "importer-p2p": true }, [h])).toBe(false);
    expect(holds(c, { "importer-dev-coherent": true }, [h])).toBe(false);
  });

  it("names the one fact it does not know", () => {
    expect(gate("dmabuf->dma_coherent && !foo_is_secure(dmabuf)")).toEqual({ unknown: "foo_is_secure(dmabuf)" });
    expect(gate("dmabuf->dma_coherent && attach->dev->bus_width > 32")).toEqual({ unknown: "attach->dev->bus_width > 32" });
    const opaque = helper("foo_ok", ["d"], "foo_log(d);\n return true;");
    expect(gate("!foo_ok(attach->dev)", [opaque])).toEqual({ unknown: "foo_ok() (its body is not a condition the model can read)" });
  });

  it("binds a helper's parameters token by token: a member named like a parameter stays a member", () => {
    // `dev` is a parameter and also the member in attach->dev: only the parameter is replaced.
    const h = helper("foo_refuses", ["attach", "dev"], "if (attach->peer2peer)\n return false;\n return !dev_is_dma_coherent(attach->dev);");
    expect(holds("foo_refuses(a, a->dev)", {}, [h])).toBe(true);
    expect(holds("foo_refuses(a, a->dev)", { "importer-p2p": true }, [h])).toBe(false);
    expect(holds("foo_refuses(a, a->dev)", { "importer-dev-coherent": true }, [h])).toBe(false);
  });

  it("reads else-branches, locals of any type and WARN_ON()/unlikely() around a condition", () => {
    const h = helper("foo_needs_sync", ["d"], "struct foo_priv *p = dev_get_drvdata(d);\n if (dev_is_dma_coherent(d))\n return false;\n else\n return true;");
    expect(holds("WARN_ON(foo_needs_sync(attach->dev))", {}, [h])).toBe(true);
    expect(holds("unlikely(foo_needs_sync(attach->dev))", { "importer-dev-coherent": true }, [h])).toBe(false);
    expect(holds("WARN_ON(dir == DMA_NONE)", {})).toBe(false);
  });
});

describe("device fields and flag bits", () => {
  const shown = (condition: string) => {
    const p = gate(condition);
    if ("unknown" in p) throw new Error(`unknown: ${p.unknown}`);
    return show(p);
  };

  it("a device's own dma_coherent is the device's coherency, not the buffer's flag", () => {
    expect(shown("!attach->dev->dma_coherent")).toBe("!dev_is_dma_coherent(importer)");
    expect(shown("buffer->dev->dma_coherent")).toBe("dev_is_dma_coherent(exporter)");
    expect(shown("dmabuf->dma_coherent")).toBe("buffer.dma_coherent");
  });

  it("a bit of a buffer's flags word stands for the memory fact it names", () => {
    expect(holds("!(buffer->flags & FOO_HEAP_FLAG_UNCACHED) && !dev_is_dma_coherent(attach->dev)", { "memory-cached": true })).toBe(true);
    expect(holds("!(buffer->flags & FOO_HEAP_FLAG_UNCACHED) && !dev_is_dma_coherent(attach->dev)", { "memory-cached": false })).toBe(false);
    expect(holds("buffer->flags & ION_FLAG_CACHED", { "memory-cached": true })).toBe(true);
    expect(gate("buffer->flags & FOO_FLAG_SECURE")).toEqual({ unknown: "buffer->flags & FOO_FLAG_SECURE" });
  });
});

describe("what a condition reads", () => {
  const read = (condition: string, helpers: CFunction[] = []) => {
    const ctx: GateContext = { parse: (t) => parseCondition(parser, t), helpers: new Map(helpers.map((h) => [h.name, h])) };
    return factsRead(parseCondition(parser, condition)!, ctx);
  };

  it("ordinary error checks read no fact of the model", () => {
    expect(read("!sgt").facts).toEqual([]);
    expect(read("IS_ERR(table)").facts).toEqual([]);
    expect(read("ret < 0").facts).toEqual([]);
    expect(read("WARN_ON(!attach || !attach->dmabuf)").facts).toEqual([]);
  });

  it("a helper of any name is followed to the facts it reads", () => {
    const h = helper("foo_needs_sync", ["d"], "return !dev_is_dma_coherent(d);");
    expect(read("foo_needs_sync(attach->dev)", [h])).toEqual({ facts: ["importer-dev-coherent"], unknown: [] });
    expect(read("!attach->peer2peer").facts).toEqual(["importer-p2p"]);
    expect(read("attach->dir != DMA_BIDIRECTIONAL").facts).toEqual(["map-direction"]);
  });

  it("a helper whose body the model cannot read still says what it reads, and what is unknown", () => {
    const h = helper("foo_check", ["d"], "int i;\n for (i = 0; i < 4; i++)\n foo_poke(d, i);\n return dev_is_dma_coherent(d);");
    expect(read("!foo_check(attach->dev)", [h])).toEqual({
      facts: ["importer-dev-coherent"],
      unknown: ["foo_check() (its body is not a condition the model can read)"],
    });
  });
});
