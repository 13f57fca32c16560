import type { CondAst } from "../patch/c-source.js";
import { callsIn, statements, type CFunction } from "./code/functions.js";
import { substitute } from "./code/lex.js";
import { factsOf, type Fact, type Predicate } from "./predicate.js";

/** What a gate needs to read helpers: a C expression parser and the functions the series defines. */
export interface GateContext {
  readonly parse: (expression: string) => CondAst | undefined;
  readonly helpers: ReadonlyMap<string, CFunction>;
}

export type GatePredicate = Predicate | { readonly unknown: string };

const fact = (f: Fact): Predicate => ({ op: "fact", fact: f });

/** Kernel queries the model can answer, by the device they ask about. */
const DEVICE_QUERIES: Readonly<Record<string, { importer: Predicate; exporter?: Predicate }>> = {
  dev_is_dma_coherent: { importer: { op: "importer-dev-coherent" }, exporter: fact("exporter-dev-coherent") },
  dev_dma_coherent: { importer: { op: "importer-dev-coherent" }, exporter: fact("exporter-dev-coherent") },
  device_iommu_mapped: { importer: fact("importer-iommu") },
  iommu_get_domain_for_dev: { importer: fact("importer-iommu") },
};

const OBJECT_QUERIES: Readonly<Record<string, Predicate>> = {
  dma_buf_attachment_is_dynamic: fact("importer-dynamic"),
  dma_buf_is_dynamic: fact("exporter-dynamic"),
};

const FIELDS: readonly (readonly [RegExp, Predicate])[] = [
  [/(^|_)coheren(t|cy)$/, { op: "buffer-flag" }],
  [/^peer2peer$/, fact("importer-p2p")],
  [/^importer_ops$/, fact("importer-dynamic")],
  [/^(dir|direction|dma_dir)$/, fact("map-direction")],
  [/(^|_)uncached$/, { op: "not", arg: fact("memory-cached") }],
  [/(^|_)cached$/, fact("memory-cached")],
];

/** DMA_NONE is a direction no attachment is mapped with: a test against it is a constant. */
const DIRECTIONS = new Set(["DMA_TO_DEVICE", "DMA_FROM_DEVICE", "DMA_BIDIRECTIONAL", "DMA_NONE"]);

/**
 * The device a query asks about: the attachment's (importer) or the exporter's own. Inside an
 * attach or map callback a bare `dev` is the importing device the core passes in.
 */
function importerDevice(arg: string | undefined): boolean {
  if (arg === undefined) return false;
  const a = arg.replace(/[()\s]/g, "");
  return /(^|\W)(attach|attachment|att|a|importer)\W*->/.test(a) || /^(dev|importer_dev|attach_dev)$/.test(a);
}

const MAX_HELPER_DEPTH = 4;

/** Calls that hand back their argument's truth: the condition inside is what the gate reads. */
const TRANSPARENT = new Set(["WARN_ON", "WARN_ON_ONCE", "unlikely", "likely"]);

/** A local declared with its value: `bool snoop = ...`, `struct foo_buffer *buf = ...`. */
const LOCAL = /^(?:const\s+)?(?:(?:struct|union|enum)\s+\w+|[A-Za-z_]\w*)(?:\s+const)?\s*\*?\s*(\w+)\s*=\s*([\s\S]+)$/;

/**
 * A helper's result as one C expression: `if (c) return a; ... return b;` (or `else return b`)
 * reads as `c ? a : ... b`, and a local initialised once stands for its value.
 */
function returnExpression(fn: CFunction): string | undefined {
  const locals = new Map<string, string>();
  const branches: [string, string][] = [];
  const subst = (e: string) => substitute(e, locals);
  for (const s of statements(fn.body)) {
    const ret = /^(?:else\s+)?(?:\{\s*)?return\s+([\s\S]+?)\s*;?\s*\}?$/.exec(s);
    if (ret) {
      return branches.reduceRight((acc, [c, v]) => `(${c}) ? (${v}) : (${acc})`, subst(ret[1]!));
    }
    const cond = /^if\s*\(([\s\S]+)\)\s*\{?\s*return\s+([\s\S]+?)\s*;?\s*\}?$/.exec(s);
    if (cond) {
      branches.push([subst(cond[1]!), subst(cond[2]!)]);
      continue;
    }
    const local = LOCAL.exec(s);
    if (local && !/^(return|else|if)$/.test(local[1]!)) {
      locals.set(local[1]!, subst(local[2]!));
      continue;
    }
    return undefined;
  }
  return undefined;
}

/** What a condition reads: its predicate when every part is known, the known facts, what is not. */
interface Reading {
  readonly p: Predicate | undefined;
  readonly facts: readonly Fact[];
  readonly unknown: readonly string[];
}

const known = (p: Predicate): Reading => ({ p, facts: factsOf(p), unknown: [] });
const notKnown = (what: string, facts: readonly Fact[] = []): Reading => ({ p: undefined, facts, unknown: [what] });

function combine(parts: readonly Reading[], build: (ps: Predicate[]) => Predicate): Reading {
  const facts = [...new Set(parts.flatMap((r) => r.facts))];
  const unknown = parts.flatMap((r) => r.unknown);
  const ps = parts.map((r) => r.p);
  return ps.every((p): p is Predicate => p !== undefined) ? { p: build(ps), facts, unknown } : { p: undefined, facts, unknown };
}

function deviceQuery(name: string, device: string | undefined): Predicate | undefined {
  const q = DEVICE_QUERIES[name];
  if (!q) return undefined;
  return importerDevice(device) ? q.importer : q.exporter;
}

/**
 * A test of one bit of a buffer's flags word, `buffer->flags & FOO_FLAG_UNCACHED`: the bit's
 * name says which memory fact it stands for; any other bit is not known.
 */
function flagBit(text: string): Predicate | undefined {
  const m = /^\(?\s*[\w.>-]*flags\s*&\s*([A-Z][A-Z0-9_]*)\s*\)?$/.exec(text.trim());
  const bit = m?.[1];
  if (!bit) return undefined;
  if (/(^|_)(UNCACHED|NONCACHED|WRITECOMBINE|WC)(_|$)/.test(bit)) return { op: "not", arg: fact("memory-cached") };
  if (/(^|_)CACHED(_|$)/.test(bit)) return fact("memory-cached");
  if (/(^|_)COHERENT(_|$)/.test(bit)) return { op: "buffer-flag" };
  return undefined;
}

function bind(fn: CFunction, args: readonly string[]): Map<string, string> {
  const bindings = new Map<string, string>();
  fn.params.forEach((p, i) => {
    if (p && args[i] !== undefined) bindings.set(p, args[i]!);
  });
  return bindings;
}

/**
 * The facts an unreadable helper body still reads (kernel queries, known fields, its own
 * helpers), its parameters bound to the call's arguments: the gate is about them even though
 * the model cannot say how.
 */
function factsInBody(fn: CFunction, args: readonly string[], ctx: GateContext, depth: number): Fact[] {
  const out = new Set<Fact>();
  const body = substitute(fn.body, bind(fn, args));
  for (const c of callsIn(body)) {
    const p = deviceQuery(c.name, c.args[0]) ?? DEVICE_QUERIES[c.name]?.importer ?? OBJECT_QUERIES[c.name];
    if (p) factsOf(p).forEach((f) => out.add(f));
    const helper = ctx.helpers.get(c.name);
    if (helper && helper !== fn && depth < MAX_HELPER_DEPTH) factsInBody(helper, c.args, ctx, depth + 1).forEach((f) => out.add(f));
  }
  for (const m of body.matchAll(/(?:->|\.)\s*([A-Za-z_]\w*)/g)) {
    const hit = FIELDS.find(([re]) => re.test(m[1]!));
    if (hit) factsOf(hit[1]).forEach((f) => out.add(f));
  }
  return [...out];
}

function followHelper(fn: CFunction, args: readonly string[], ctx: GateContext, depth: number): Reading {
  const expr = returnExpression(fn);
  if (expr === undefined) return notKnown(`${fn.name}() (its body is not a condition the model can read)`, factsInBody(fn, args, ctx, depth));
  const ast = ctx.parse(substitute(expr, bind(fn, args)));
  if (!ast) return notKnown(`${fn.name}() (its result "${expr.trim()}" does not parse)`, factsInBody(fn, args, ctx, depth));
  return read(ast, ctx, depth + 1);
}

function read(ast: CondAst, ctx: GateContext, depth: number): Reading {
  switch (ast.kind) {
    case "and":
    case "or":
      return combine([read(ast.left, ctx, depth), read(ast.right, ctx, depth)], (ps) => ({ op: ast.kind, args: ps }));
    case "not":
      return combine([read(ast.arg, ctx, depth)], ([a]) => ({ op: "not", arg: a! }));
    case "compare":
      return combine([read(ast.left, ctx, depth), read(ast.right, ctx, depth)], ([a, b]) => ({ op: ast.op === "==" ? "eq" : "ne", left: a!, right: b! }));
    case "ternary":
      return combine([read(ast.test, ctx, depth), read(ast.then, ctx, depth), read(ast.else, ctx, depth)], ([t, a, b]) => ({ op: "cond", test: t!, then: a!, else: b! }));
    case "call": {
      if (TRANSPARENT.has(ast.name) && ast.args.length === 1) {
        const inner = ctx.parse(ast.args[0]!);
        return inner ? read(inner, ctx, depth) : notKnown(ast.text);
      }
      if (DEVICE_QUERIES[ast.name]) {
        const p = deviceQuery(ast.name, ast.args[0]);
        // A query about a device that is neither the attachment's nor the exporter's own.
        return p ? known(p) : notKnown(ast.text, factsOf(DEVICE_QUERIES[ast.name]!.importer));
      }
      const o = OBJECT_QUERIES[ast.name];
      if (o) return known(o);
      const helper = ctx.helpers.get(ast.name);
      if (helper && depth < MAX_HELPER_DEPTH) return followHelper(helper, ast.args, ctx, depth);
      return notKnown(ast.text);
    }
    case "field": {
      // struct device's own dma_coherent is what dev_is_dma_coherent() returns, not a buffer flag.
      const object = ast.text.replace(/\s*(->|\.)\s*\w+$/, "");
      if (ast.field === "dma_coherent" && /(^|->|\.)\s*(dev|importer_dev|attach_dev)$|^dev$/.test(object.replace(/[()\s]/g, ""))) {
        return known(deviceQuery("dev_is_dma_coherent", object) ?? fact("exporter-dev-coherent"));
      }
      for (const [re, p] of FIELDS) if (re.test(ast.field)) return known(p);
      return notKnown(ast.text);
    }
    case "ident":
      if (DIRECTIONS.has(ast.name)) return known({ op: "const", value: ast.name });
      if (ast.name === "NULL") return known({ op: "const", value: 0 });
      if (/^(dir|direction)$/.test(ast.name)) return known(fact("map-direction"));
      return notKnown(ast.name);
    case "literal":
      if (ast.value === "true" || ast.value === "false") return known({ op: "const", value: ast.value === "true" });
      return Number.isFinite(Number(ast.value)) ? known({ op: "const", value: Number(ast.value) }) : notKnown(ast.value);
    case "other": {
      const bit = flagBit(ast.text);
      return bit ? known(bit) : notKnown(ast.text);
    }
  }
}

const NO_CONTEXT: GateContext = { parse: () => undefined, helpers: new Map() };

/**
 * A gate condition as a predicate over facts the model knows about a configuration, following
 * helpers the series defines; or the first fact it does not know, named as the code spells it.
 */
export function conditionToPredicate(ast: CondAst, ctx: GateContext = NO_CONTEXT): GatePredicate {
  const r = read(ast, ctx, 0);
  return r.p ?? { unknown: r.unknown[0] ?? ast.kind };
}

/**
 * The facts of the model a condition reads, helpers followed, and the parts it does not know.
 * A condition that reads no fact at all (`!sgt`, `IS_ERR(table)`) is no gate the model has a
 * say on, whatever it returns.
 */
export function factsRead(ast: CondAst, ctx: GateContext = NO_CONTEXT): { readonly facts: readonly Fact[]; readonly unknown: readonly string[] } {
  const r = read(ast, ctx, 0);
  return { facts: r.facts, unknown: r.unknown };
}
