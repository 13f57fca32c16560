import type { CondAst } from "../patch/c-source.js";
import { statements, type CFunction } from "./code/functions.js";
import type { Fact, Predicate } from "./predicate.js";

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

const DIRECTIONS = new Set(["DMA_TO_DEVICE", "DMA_FROM_DEVICE", "DMA_BIDIRECTIONAL"]);

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

/**
 * A helper's result as one C expression: `if (c) return a; ... return b;` reads as
 * `c ? a : ... b`, and a local initialised once stands for its value.
 */
function returnExpression(fn: CFunction): string | undefined {
  const locals = new Map<string, string>();
  const branches: [string, string][] = [];
  const subst = (e: string) => [...locals].reduce((t, [n, v]) => t.replace(new RegExp(`\\b${n}\\b`, "g"), `(${v})`), e);
  for (const s of statements(fn.body)) {
    const ret = /^return\s+([\s\S]+)$/.exec(s);
    if (ret) {
      return branches.reduceRight((acc, [c, v]) => `(${c}) ? (${v}) : (${acc})`, subst(ret[1]!));
    }
    const cond = /^if\s*\(([\s\S]+)\)\s*\{?\s*return\s+([\s\S]+?)\s*;?\s*\}?$/.exec(s);
    if (cond) {
      branches.push([subst(cond[1]!), subst(cond[2]!)]);
      continue;
    }
    const local = /^(?:const\s+)?(?:bool|int|unsigned|u32|struct\s+\w+\s*\*)\s*\*?\s*(\w+)\s*=\s*([\s\S]+)$/.exec(s);
    if (local) {
      locals.set(local[1]!, subst(local[2]!));
      continue;
    }
    return undefined;
  }
  return undefined;
}

function followHelper(fn: CFunction, args: readonly string[], ctx: GateContext, depth: number): GatePredicate {
  const expr = returnExpression(fn);
  if (expr === undefined) return { unknown: `${fn.name}() (its body is not a condition the model can read)` };
  const bound = fn.params.reduce((t, p, i) => (p && args[i] !== undefined ? t.replace(new RegExp(`\\b${p}\\b`, "g"), `(${args[i]})`) : t), expr);
  const ast = ctx.parse(bound);
  if (!ast) return { unknown: `${fn.name}() (its result "${expr.trim()}" does not parse)` };
  return toPredicate(ast, ctx, depth + 1);
}

function toPredicate(ast: CondAst, ctx: GateContext, depth: number): GatePredicate {
  const both = (l: GatePredicate, r: GatePredicate, f: (a: Predicate, b: Predicate) => Predicate): GatePredicate =>
    "unknown" in l ? l : "unknown" in r ? r : f(l, r);
  switch (ast.kind) {
    case "and":
    case "or":
      return both(toPredicate(ast.left, ctx, depth), toPredicate(ast.right, ctx, depth), (a, b) => ({ op: ast.kind, args: [a, b] }));
    case "not": {
      const a = toPredicate(ast.arg, ctx, depth);
      return "unknown" in a ? a : { op: "not", arg: a };
    }
    case "compare":
      return both(toPredicate(ast.left, ctx, depth), toPredicate(ast.right, ctx, depth), (a, b) => ({ op: ast.op === "==" ? "eq" : "ne", left: a, right: b }));
    case "ternary": {
      const t = toPredicate(ast.test, ctx, depth);
      if ("unknown" in t) return t;
      return both(toPredicate(ast.then, ctx, depth), toPredicate(ast.else, ctx, depth), (a, b) => ({ op: "cond", test: t, then: a, else: b }));
    }
    case "call": {
      const q = DEVICE_QUERIES[ast.name];
      if (q) {
        if (importerDevice(ast.args[0])) return q.importer;
        return q.exporter ?? { unknown: ast.text };
      }
      const o = OBJECT_QUERIES[ast.name];
      if (o) return o;
      const helper = ctx.helpers.get(ast.name);
      if (helper && depth < MAX_HELPER_DEPTH) return followHelper(helper, ast.args, ctx, depth);
      return { unknown: ast.text };
    }
    case "field": {
      for (const [re, p] of FIELDS) if (re.test(ast.field)) return p;
      return { unknown: ast.text };
    }
    case "ident":
      if (DIRECTIONS.has(ast.name)) return { op: "const", value: ast.name };
      if (ast.name === "NULL") return { op: "const", value: 0 };
      if (/^(dir|direction)$/.test(ast.name)) return fact("map-direction");
      return { unknown: ast.name };
    case "literal":
      if (ast.value === "true" || ast.value === "false") return { op: "const", value: ast.value === "true" };
      return Number.isFinite(Number(ast.value)) ? { op: "const", value: Number(ast.value) } : { unknown: ast.value };
    case "other":
      return { unknown: ast.text };
  }
}

/**
 * A gate condition as a predicate over facts the model knows about a configuration, following
 * helpers the series defines; or the first fact it does not know, named as the code spells it.
 */
export function conditionToPredicate(ast: CondAst, ctx: GateContext = { parse: () => undefined, helpers: new Map() }): GatePredicate {
  return toPredicate(ast, ctx, 0);
}
