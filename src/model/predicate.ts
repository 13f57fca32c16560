/**
 * A gate's condition over facts the model knows about one configuration. The attach (or map)
 * fails when it holds. Values follow C: a comparison of a flag with dev_is_dma_coherent() is a
 * comparison of 0 and 1, an enum constant compares by name.
 */
export type Fact =
  /** The buffer's coherency flag (dma_buf.dma_coherent and the like). */
  | "buffer-flag"
  /** dev_is_dma_coherent() of the importing device. */
  | "importer-dev-coherent"
  /** dev_is_dma_coherent() of the exporter's own device. */
  | "exporter-dev-coherent"
  /** The importer's accesses to this buffer really snoop the CPU cache (per buffer). */
  | "importer-snoops"
  /** The importing device sits behind an IOMMU (device_iommu_mapped()). */
  | "importer-iommu"
  /** attach->peer2peer: the importer accepts peer-to-peer (BAR) addresses. */
  | "importer-p2p"
  /** The importer is dynamic (it provides move_notify). */
  | "importer-dynamic"
  /** The exporter is dynamic (it provides pin/unpin). */
  | "exporter-dynamic"
  /** The backing memory can sit in the CPU cache. */
  | "memory-cached"
  /** The CPU can map the buffer at all (protected memory: no). */
  | "cpu-mappable"
  /** The direction the attachment is mapped with: DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL. */
  | "map-direction";

export type Value = boolean | number | string;

export type Predicate =
  | { readonly op: "and" | "or"; readonly args: readonly Predicate[] }
  | { readonly op: "not"; readonly arg: Predicate }
  | { readonly op: "eq" | "ne"; readonly left: Predicate; readonly right: Predicate }
  | { readonly op: "cond"; readonly test: Predicate; readonly then: Predicate; readonly else: Predicate }
  | { readonly op: "buffer-flag" }
  | { readonly op: "importer-dev-coherent" }
  | { readonly op: "fact"; readonly fact: Fact }
  | { readonly op: "const"; readonly value: Value };

export type PredicateInputs = Readonly<Record<Fact, Value>>;

function num(v: Value): number | string {
  return typeof v === "boolean" ? +v : v;
}

function truthy(v: Value): boolean {
  return typeof v === "string" ? true : Boolean(v);
}

function value(p: Predicate, x: PredicateInputs): Value {
  switch (p.op) {
    case "and":
      return p.args.every((a) => truthy(value(a, x)));
    case "or":
      return p.args.some((a) => truthy(value(a, x)));
    case "not":
      return !truthy(value(p.arg, x));
    case "eq":
    case "ne":
      return (num(value(p.left, x)) === num(value(p.right, x))) === (p.op === "eq");
    case "cond":
      return truthy(value(p.test, x)) ? value(p.then, x) : value(p.else, x);
    case "buffer-flag":
      return x["buffer-flag"];
    case "importer-dev-coherent":
      return x["importer-dev-coherent"];
    case "fact":
      return x[p.fact];
    case "const":
      return p.value;
  }
}

export function evaluate(p: Predicate, x: PredicateInputs): boolean {
  return truthy(value(p, x));
}

/** The facts a predicate reads, in the order it reads them. */
export function factsOf(p: Predicate): Fact[] {
  const out: Fact[] = [];
  const walk = (q: Predicate): void => {
    switch (q.op) {
      case "and":
      case "or":
        q.args.forEach(walk);
        break;
      case "not":
        walk(q.arg);
        break;
      case "eq":
      case "ne":
        walk(q.left);
        walk(q.right);
        break;
      case "cond":
        walk(q.test);
        walk(q.then);
        walk(q.else);
        break;
      case "buffer-flag":
      case "importer-dev-coherent":
        if (!out.includes(q.op)) out.push(q.op);
        break;
      case "fact":
        if (!out.includes(q.fact)) out.push(q.fact);
        break;
      case "const":
        break;
    }
  };
  walk(p);
  return out;
}

const FACT_TEXT: Readonly<Record<Fact, string>> = {
  "buffer-flag": "buffer.dma_coherent",
  "importer-dev-coherent": "dev_is_dma_coherent(importer)",
  "exporter-dev-coherent": "dev_is_dma_coherent(exporter)",
  "importer-snoops": "importer snoops the buffer",
  "importer-iommu": "device_iommu_mapped(importer)",
  "importer-p2p": "attach->peer2peer",
  "importer-dynamic": "dma_buf_attachment_is_dynamic(attach)",
  "exporter-dynamic": "dma_buf_is_dynamic(dmabuf)",
  "memory-cached": "memory is CPU-cached",
  "cpu-mappable": "memory is CPU-mappable",
  "map-direction": "attach->dir",
};

function compound(p: Predicate): boolean {
  return p.op === "and" || p.op === "or" || p.op === "eq" || p.op === "ne" || p.op === "cond";
}

export function show(p: Predicate): string {
  const sub = (a: Predicate) => (compound(a) ? `(${show(a)})` : show(a));
  switch (p.op) {
    case "and":
    case "or":
      return p.args.map(sub).join(p.op === "and" ? " && " : " || ");
    case "not":
      return `!${sub(p.arg)}`;
    case "eq":
    case "ne":
      return `${sub(p.left)} ${p.op === "eq" ? "==" : "!="} ${sub(p.right)}`;
    case "cond":
      return `${sub(p.test)} ? ${sub(p.then)} : ${sub(p.else)}`;
    case "buffer-flag":
    case "importer-dev-coherent":
      return FACT_TEXT[p.op];
    case "fact":
      return FACT_TEXT[p.fact];
    case "const":
      return String(p.value);
  }
}
