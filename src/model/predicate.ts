/**
 * An attach-time gate's condition over the symbols the model knows: the buffer's coherency
 * flag and dev_is_dma_coherent() of the importing device. The attach fails when it holds.
 */
export type Predicate =
  | { readonly op: "and" | "or"; readonly args: readonly Predicate[] }
  | { readonly op: "not"; readonly arg: Predicate }
  | { readonly op: "buffer-flag" }
  | { readonly op: "importer-dev-coherent" }
  | { readonly op: "const"; readonly value: boolean };

export interface PredicateInputs {
  readonly bufferFlag: boolean;
  readonly importerDevCoherent: boolean;
}

export function evaluate(p: Predicate, x: PredicateInputs): boolean {
  switch (p.op) {
    case "and":
      return p.args.every((a) => evaluate(a, x));
    case "or":
      return p.args.some((a) => evaluate(a, x));
    case "not":
      return !evaluate(p.arg, x);
    case "buffer-flag":
      return x.bufferFlag;
    case "importer-dev-coherent":
      return x.importerDevCoherent;
    case "const":
      return p.value;
  }
}

export function show(p: Predicate): string {
  switch (p.op) {
    case "and":
    case "or":
      return p.args.map((a) => (a.op === "and" || a.op === "or" ? `(${show(a)})` : show(a))).join(p.op === "and" ? " && " : " || ");
    case "not":
      return `!${show(p.arg)}`;
    case "buffer-flag":
      return "buffer.dma_coherent";
    case "importer-dev-coherent":
      return "dev_is_dma_coherent(importer)";
    case "const":
      return String(p.value);
  }
}
