import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { Language, Parser, type Node, type Tree } from "web-tree-sitter";
import type { FileDiff } from "./diff.js";

/**
 * C structure of diff fragments through tree-sitter (C grammar, WebAssembly). A hunk is a
 * fragment: it starts and ends anywhere, often deep inside a function. We rebuild each side of
 * a hunk (post-image: context + added; pre-image: context + removed), give tree-sitter the hunk
 * heading as context in the form that parses best, and ask the tree where each line sits.
 */
const C_GRAMMAR = "tree-sitter-c/tree-sitter-c.wasm";

export class CParser {
  private constructor(
    private readonly parser: Parser,
    readonly lang: "c" | "cpp",
    private readonly cpp: CParser | undefined,
  ) {}

  private static init: Promise<void> | undefined;
  private static grammars = new Map<string, Promise<Parser>>();
  private static loaded = new Map<boolean, Promise<CParser>>();

  private static grammar(wasm: string): Promise<Parser> {
    let p = CParser.grammars.get(wasm);
    if (!p) {
      p = (async () => {
        await (CParser.init ??= Parser.init());
        const parser = new Parser();
        parser.setLanguage(await Language.load(createRequire(import.meta.url).resolve(wasm)));
        return parser;
      })();
      CParser.grammars.set(wasm, p);
    }
    return p;
  }

  /**
   * Load once per process: C for the kernel and C userspace, with a C++ sibling for userspace
   * stacks such as libcamera and parts of mesa. Each grammar is a few hundred KB of WebAssembly;
   * `cpp: false` leaves the C++ one out (a review whose files need none: loadFor).
   */
  static load(opts: { readonly cpp?: boolean } = {}): Promise<CParser> {
    const cpp = opts.cpp ?? true;
    const full = CParser.loaded.get(true);
    if (!cpp && full) return full;
    let p = CParser.loaded.get(cpp);
    if (!p) {
      const c = CParser.grammar(C_GRAMMAR);
      p = cpp
        ? Promise.all([c, CParser.grammar("tree-sitter-cpp/tree-sitter-cpp.wasm")]).then(([c, cpp]) => new CParser(c, "c", new CParser(cpp, "cpp", undefined)))
        : c.then((c) => new CParser(c, "c", undefined));
      CParser.loaded.set(cpp, p);
    }
    return p;
  }

  /** The C grammar, with the C++ one only when one of these files is C++ by its old or new name. */
  static loadFor(files: readonly FileDiff[]): Promise<CParser> {
    const cpp = files.some((f) => [f.path, f.oldPath, f.newPath].some((p) => p !== undefined && isCppPath(p)));
    return CParser.load({ cpp });
  }

  /** Starts loading the C grammar, which every review needs, while the input is read; load() reports a failure. */
  static preload(): void {
    CParser.grammar(C_GRAMMAR).catch(() => undefined);
  }

  /** The parser for a file: C++ sources get the C++ grammar, everything else C. */
  forPath(path: string): CParser {
    if (!isCppPath(path) || this.lang === "cpp") return this;
    if (!this.cpp) throw new Error(`${path}: the C++ grammar was not loaded (CParser.load({ cpp: false }))`);
    return this.cpp;
  }

  /** Fragments kept by heading and rows, least recently used first, and how many users each has now. */
  private readonly kept = new Map<string, Fragment>();
  private readonly users = new Map<Fragment, number>();
  private keptRows = 0;
  /** Which variant of parseFragment won, by the digest of heading and rows: what outlives a kept tree. */
  private readonly chosen = new Map<string, number>();

  /**
   * parseFragment, kept for the next caller: a hunk that a revision carries over beside one it
   * changes is parsed and walked once. The tree stays the parser's: give it back with release().
   */
  acquire(rows: readonly string[], heading: string): Fragment {
    // Rows are lines: none holds a newline, so the key reads back as one heading and one row list.
    const key = `${heading}\n${rows.join("\n")}`;
    let f = this.kept.get(key);
    if (f) this.kept.delete(key);
    else {
      // A fragment parsed before and since let go: only the variant that won then is parsed again.
      const digest = createHash("sha1").update(key).digest("base64");
      const won = this.chosen.get(digest);
      const parsed = this.parseVariants(rows, heading, won);
      f = parsed.fragment;
      if (won === undefined) {
        if (this.chosen.size >= CHOSEN_VARIANTS) this.chosen.delete(this.chosen.keys().next().value!);
        this.chosen.set(digest, parsed.variant);
      }
      this.keptRows += rows.length;
    }
    this.kept.set(key, f);
    this.users.set(f, (this.users.get(f) ?? 0) + 1);
    return f;
  }

  /** Gives back acquired fragments; the least recently used beyond the bound are deleted. */
  release(fragments: readonly Fragment[]): void {
    for (const f of fragments) {
      const n = this.users.get(f) ?? 0;
      if (n <= 1) this.users.delete(f);
      else this.users.set(f, n - 1);
    }
    for (const [key, f] of this.kept) {
      if (this.kept.size <= KEPT_FRAGMENTS && this.keptRows <= KEPT_ROWS) break;
      if (this.users.has(f)) continue;
      this.kept.delete(key);
      this.keptRows -= f.rows.length;
      f.tree.delete();
    }
  }

  /**
   * Parse one side of a hunk. `rows` are the source lines; `heading` is git's `@@` section
   * heading. Tries the heading as an open function body, as plain text, and not at all, and
   * keeps the variant with the fewest syntax errors.
   */
  parseFragment(rows: readonly string[], heading: string): Fragment {
    return this.parseVariants(rows, heading, undefined).fragment;
  }

  /**
   * parseFragment, and which variant won. Given that index from an earlier parse of the same
   * heading and rows, parses that variant alone: tree-sitter gives the same text the same tree.
   */
  private parseVariants(rows: readonly string[], heading: string, only: number | undefined): { fragment: Fragment; variant: number } {
    const lex = scanFragment(rows);
    const lead = lex.startsInComment ? ["/*"] : [];
    // A comment still open at the end of the hunk is closed so it does not swallow the suffix.
    const close = lex.endsInComment ? ["*/"] : [];
    const variants: { prefix: string[]; suffix: string[]; via: Fragment["headingUse"] }[] = [];
    const opener = functionOpener(heading);
    if (opener) {
      // The body brace plus one per block the fragment closes before opening it; whether the
      // last of those closers ends the function itself cannot be told lexically, so try both.
      const nested = lex.startsInInitializer ? "struct __fragment __fragment = {" : "{";
      for (const open of new Set([Math.max(1, lex.unmatchedClosers), lex.unmatchedClosers + 1])) {
        variants.push({
          prefix: [opener, "{", ...Array<string>(open - 1).fill(nested), ...lead],
          suffix: [...close, ...Array<string>(Math.max(0, open + lex.endDepth)).fill("}")],
          via: "function",
        });
      }
    }
    if (heading.trim() !== "") {
      const opens = /\{\s*$/.test(heading.trim()) ? 1 : 0;
      const isType = /^(typedef\s+)?(struct|union|enum)\b[^=]*\{\s*$/.test(heading.trim());
      const extra = Math.max(0, lex.unmatchedClosers - opens);
      const depth = opens + extra + lex.endDepth;
      variants.push({
        prefix: [heading, ...Array<string>(extra).fill(isType ? "struct {" : "{"), ...lead],
        suffix: [...close, ...Array<string>(Math.max(0, depth)).fill(isType || /=\s*\{\s*$/.test(heading) ? "};" : "}")],
        via: "plain",
      });
    }
    variants.push({ prefix: [...lead], suffix: close, via: "none" });
    let best: Fragment | undefined;
    let variant = -1;
    for (let i = only ?? 0; i < (only === undefined ? variants.length : only + 1); i++) {
      const v = variants[i]!;
      const text = [...v.prefix, ...rows, ...v.suffix].join("\n") + "\n";
      const tree = this.parser.parse(text);
      if (!tree) continue;
      const errors = countErrors(tree.rootNode) + strayStatements(tree.rootNode);
      if (!best || errors < best.errors) {
        best?.tree.delete();
        best = { tree, offset: v.prefix.length, errors, headingUse: v.via, rows };
        variant = i;
      } else tree.delete();
      if (errors === 0) break;
    }
    if (!best) throw new Error("tree-sitter returned no tree");
    return { fragment: best, variant };
  }
}

/** Trees kept across classifications: revisions a few series apart share hunks; a large diff is not kept whole. */
const KEPT_FRAGMENTS = 256;
const KEPT_ROWS = 5_000;
/** Winning variants remembered: a 28-character digest and a number each, about 1 MB in all. */
const CHOSEN_VARIANTS = 16_384;

/**
 * What a fragment needs around it to parse: whether it starts inside a block comment, how many
 * blocks it closes that it never opened, and how deep it ends. A small C lexer (comments,
 * strings, character literals) so that braces in them do not count.
 */
export function scanFragment(rows: readonly string[]): {
  startsInComment: boolean;
  startsInInitializer: boolean;
  unmatchedClosers: number;
  endDepth: number;
  endsInComment: boolean;
} {
  const text = rows.join("\n");
  // A `*/` before any `/*` means the hunk began inside a comment; so does a first line in the
  // kernel's comment-continuation style (" * @field: ...") when the comment does not end here.
  const close = text.indexOf("*/");
  const open = text.indexOf("/*");
  const firstCode = rows.find((r) => r.trim() !== "") ?? "";
  const startsInComment = (close >= 0 && (open < 0 || close < open)) || (COMMENT_CONTINUATION.test(firstCode) && (open < 0 || open > text.indexOf(firstCode)));
  const startsInInitializer = DESIGNATED.test(firstCode);
  let i = startsInComment ? (close < 0 ? text.length : close + 2) : 0;
  let depth = 0;
  let min = 0;
  let endsInComment = startsInComment && close < 0;
  while (i < text.length) {
    const c = text[i]!;
    const n = text[i + 1];
    if (c === "/" && n === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) endsInComment = true;
      i = end < 0 ? text.length : end + 2;
    } else if (c === "/" && n === "/") {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end;
    } else if (c === '"' || c === "'") {
      i++;
      while (i < text.length && text[i] !== c && text[i] !== "\n") i += text[i] === "\\" ? 2 : 1;
      i++;
    } else {
      if (c === "{") depth++;
      else if (c === "}") {
        depth--;
        min = Math.min(min, depth);
      }
      i++;
    }
  }
  return { startsInComment, startsInInitializer, unmatchedClosers: -min, endDepth: depth, endsInComment };
}

/** " * text" or " *" alone: the continuation line of a kernel block comment. */
const COMMENT_CONTINUATION = /^\s*\*(\s|$)(?!.*[;{]\s*$)/;
/** ".field = value," or "[INDEX] = value,": a line inside a designated initializer. */
const DESIGNATED = /^\s*(\.\w+|\[\w+\])\s*=/;

const STATEMENTS = new Set([
  "if_statement",
  "return_statement",
  "expression_statement",
  "compound_statement",
  "for_statement",
  "while_statement",
  "do_statement",
  "switch_statement",
  "goto_statement",
  "labeled_statement",
]);

/** Statements at file scope parse in tree-sitter-c but mean the context is missing. */
function strayStatements(root: Node): number {
  let n = 0;
  for (const c of root.namedChildren) if (c && STATEMENTS.has(c.type)) n++;
  return n;
}

export interface Fragment {
  readonly tree: Tree;
  /** Rows of synthetic prefix before the first hunk row. */
  readonly offset: number;
  readonly errors: number;
  readonly headingUse: "function" | "plain" | "none";
  readonly rows: readonly string[];
}

/**
 * git's heading is the first line of the enclosing definition, often cut mid-parameter list
 * ("dma_buf_dynamic_attach(struct dma_buf *dmabuf, struct device *dev,"). Turn it into a
 * function header that opens a body, or undefined when it is not a function.
 */
export function functionOpener(heading: string): string | undefined {
  let h = heading.trim();
  if (!h.includes("(") || /[;{=]\s*$/.test(h) || /^(#|struct\s+\w+\s*\{|enum\b|union\b)/.test(h)) return undefined;
  if (/^(if|for|while|switch|return)\b/.test(h)) return undefined;
  h = h.replace(/,\s*$/, "");
  const open = (h.match(/\(/g) ?? []).length - (h.match(/\)/g) ?? []).length;
  if (open > 0) h += ")".repeat(open);
  // Kernel style puts the return type on the line above: give tree-sitter one.
  if (/^[A-Za-z_]\w*\s*\(/.test(h)) h = `int ${h}`;
  return h;
}

function countErrors(root: Node): number {
  let n = 0;
  const cursor = root.walk();
  let done = false;
  while (!done) {
    const node = cursor.currentNode;
    if (node.isError || node.isMissing) n++;
    if (node.hasError && cursor.gotoFirstChild()) continue;
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) {
        done = true;
        break;
      }
    }
  }
  cursor.delete();
  return n;
}

export interface Placement {
  readonly function: string | undefined;
  /** The struct type and variable of an initializer the row sits in: dma_buf_ops foo_ops. */
  readonly initializer: { readonly type: string; readonly variable: string } | undefined;
  /** The designated field of that initializer on this row: `.begin_cpu_access = ...`. */
  readonly field: string | undefined;
  readonly fieldValue: string | undefined;
  /** Condition text of an `if` that starts on this row. */
  readonly ifCondition: string | undefined;
  /** Text of the statement that follows that `if` (what happens when it holds). */
  readonly ifConsequence: string | undefined;
  /** The struct a field declaration on this row belongs to, with the field's name. */
  readonly structField: { readonly struct: string; readonly field: string; readonly text: string } | undefined;
  /** Assignments on this row: `left = right`. */
  readonly assignments: readonly { readonly left: string; readonly right: string }[];
  readonly placed: boolean;
  readonly how: "parser" | "heading" | "file-scope" | "unplaced";
  readonly reason?: string;
}

export interface CallSite {
  readonly name: string;
  readonly args: readonly string[];
  readonly text: string;
}

function nodeRow(f: Fragment, row: number): number {
  return row + f.offset;
}

function declaratorName(node: Node | null): string | undefined {
  let n: Node | null = node;
  while (n) {
    if (n.type === "identifier" || n.type === "field_identifier") return n.text;
    n = n.childForFieldName("declarator") ?? n.namedChildren.find((c) => c?.type === "identifier") ?? null;
  }
  return undefined;
}

function structTypeName(decl: Node): string | undefined {
  const type = decl.childForFieldName("type");
  if (type?.type === "struct_specifier") return type.childForFieldName("name")?.text;
  return type?.text;
}

/**
 * Leaves of a fragment by the row they start on: one walk of the tree per fragment. Asked row
 * by row from the root, a hunk of a few hundred lines cost a walk of its top level per line.
 */
const leavesByRow = new WeakMap<Fragment, Map<number, Leaf[]>>();

/** A token of the parsed fragment: read off the cursor, without a Node object for each. */
export interface Leaf {
  readonly type: string;
  /** The text of an identifier-like token (identifier, field, type or macro name); the rest go without (each text is another round of calls into the parser). */
  readonly name: string | undefined;
}

const IDENTIFIER_LIKE = /identifier$/;

/** Leaves (tokens) that start on a row, in order. */
export function rowLeaves(f: Fragment, row: number): Leaf[] {
  let byRow = leavesByRow.get(f);
  if (!byRow) {
    byRow = new Map();
    const cursor = f.tree.rootNode.walk();
    for (;;) {
      if (cursor.gotoFirstChild()) continue;
      const type = cursor.nodeType;
      const leaf: Leaf = { type, name: IDENTIFIER_LIKE.test(type) ? cursor.nodeText : undefined };
      const r = cursor.startPosition.row - f.offset;
      const list = byRow.get(r);
      if (list) list.push(leaf);
      else byRow.set(r, [leaf]);
      let up = false;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) {
          up = true;
          break;
        }
      }
      if (up) break;
    }
    cursor.delete();
    leavesByRow.set(f, byRow);
  }
  return byRow.get(row) ?? [];
}

/** True when a row holds nothing but comments and whitespace (documentation-only change). */
export function isCommentRow(f: Fragment, row: number): boolean {
  const text = f.rows[row] ?? "";
  if (text.trim() === "") return true;
  // A row that opens, closes or starts no comment is either wholly inside one that began
  // earlier or holds no comment at all: what sits at its first character tells which, without
  // walking the tokens of the fragment.
  const { rows, tokens } = rowTable(f);
  const count = hasCommentMarker(text) ? tokens[row]! : undefined;
  if (count === undefined || count.all === 0) {
    // Inside a multi-line comment that started on an earlier row, or code. A comment is a
    // token: the innermost named node at the row's first character is the innermost of all.
    return rows[row]?.type === "comment";
  }
  return count.code === 0;
}

function hasCommentMarker(text: string): boolean {
  return text.includes("/*") || text.includes("*/") || text.includes("//");
}

/** The function a row sits in (placeRow's `function`), without the rest of its placement. */
export function rowFunction(f: Fragment, row: number): string | undefined {
  return rowTable(f).rows[row]?.fn?.name;
}

/** Placements already worked out: a review asks for a row's up to three times. */
const placements = new WeakMap<Fragment, Map<number, Placement>>();

/** Where a row sits: function, initializer and field, `if`, struct field, assignments. */
export function placeRow(f: Fragment, row: number): Placement {
  let byRow = placements.get(f);
  if (!byRow) {
    byRow = new Map();
    placements.set(f, byRow);
  }
  let pl = byRow.get(row);
  if (!pl) {
    pl = findPlace(f, row);
    byRow.set(row, pl);
  }
  return pl;
}

/**
 * What a named node inherits from the nodes above it, worked out in one walk of the fragment.
 * tree-sitter finds a node's parent by descending from the root, so climbing from every row to
 * the root costs depth squared per row: a 2,000-line `else if` chain took minutes.
 */
interface NodeFacts {
  readonly parent: NodeFacts | undefined;
  readonly type: string;
  readonly startRow: number;
  /** Kept for the kinds a row reads on itself: initializer_pair, if_statement, field_declaration. */
  readonly node: Node | undefined;
  /** The innermost named function around (or at) the node, and the tree row it starts on. */
  readonly fn: { readonly name: string; readonly startRow: number } | undefined;
  /** The innermost declaration with an initializer around (or at) the node. */
  readonly initializer: Placement["initializer"];
  readonly inError: boolean;
  readonly topLevel: boolean;
}

const ROW_KINDS = new Set(["initializer_pair", "if_statement", "field_declaration"]);

/** Tokens starting on a row: how many, and how many are not comments. */
interface TokenCount {
  all: number;
  code: number;
}

interface RowTable {
  /** For each row: the innermost named node at the row's first character. */
  readonly rows: NodeFacts[];
  /** For each row with a comment marker (isCommentRow asks only those): its tokens. */
  readonly tokens: (TokenCount | undefined)[];
}

const tablesByFragment = new WeakMap<Fragment, RowTable>();

const before = (a: { row: number; column: number }, b: { row: number; column: number }) => a.row < b.row || (a.row === b.row && a.column < b.column);

/**
 * One walk of the tree gives every node its facts and every row its innermost named node, as
 * namedDescendantForPosition would: the deepest node that starts at or before the row's first
 * character and ends after it. Asked row by row, that descent from the root is as long as the
 * tree is deep, and an `else if` chain is as deep as it is long. The walk enters only nodes
 * that hold a row's first character or a token of a row with a comment marker: the rest (a
 * call's arguments, the right side of an assignment) can be no row's innermost node.
 */
function rowTable(f: Fragment): RowTable {
  let table = tablesByFragment.get(f);
  if (table) return table;
  const n = f.rows.length;
  const byRow = new Array<NodeFacts>(n);
  const tokens = f.rows.map((text): TokenCount | undefined => (hasCommentMarker(text) ? { all: 0, code: 0 } : undefined));
  // Rows (tree rows) up to each index that have a comment marker: whether a node spans one is two lookups.
  const marked = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) marked[i + 1] = marked[i]! + (tokens[i] ? 1 : 0);
  const at = f.rows.map((text, i) => ({ row: i + f.offset, column: Math.max(0, text.search(/\S/)) }));
  const wanted = (start: { row: number; column: number }, end: { row: number; column: number }): boolean => {
    const i = start.row - f.offset;
    // The first row start at or after the node's start: on its first row, else the next row.
    if (i >= 0 && i < n && !before(at[i]!, start)) {
      if (before(at[i]!, end)) return true;
    } else {
      const j = Math.max(0, i + 1);
      if (j < n && before(at[j]!, end)) return true;
    }
    const from = Math.min(n, Math.max(0, i));
    const to = Math.min(n, Math.max(0, end.row - f.offset + 1));
    return to > from && marked[to]! > marked[from]!;
  };
  let next = 0;
  // A row is settled by the first node that ends after it, once every node starting at or before it has been entered.
  const settle = (facts: NodeFacts | undefined, until: { row: number; column: number } | undefined) => {
    while (next < n && (until === undefined || before(at[next]!, until))) byRow[next++] = facts!;
  };
  const cursor = f.tree.rootNode.walk();
  const stack: { facts: NodeFacts; end: { row: number; column: number } }[] = [];
  let root: NodeFacts | undefined;
  for (;;) {
    const parent = stack.at(-1)?.facts;
    const start = cursor.startPosition;
    const end = cursor.endPosition;
    // Rows in the gap before this node belong to the node around it.
    if (parent) settle(parent, start);
    if (!parent || wanted(start, end)) {
      const type = cursor.nodeType;
      let facts: NodeFacts | undefined;
      if (cursor.nodeIsNamed || type === "ERROR") {
        const kept = type === "function_definition" || type === "declaration" || ROW_KINDS.has(type);
        const node = kept ? cursor.currentNode : undefined;
        let fn = parent?.fn;
        if (type === "function_definition") {
          const name = declaratorName(node!.childForFieldName("declarator"));
          if (name) fn = { name, startRow: start.row };
        }
        let initializer = parent?.initializer;
        if (type === "declaration" && node!.text.includes("{")) {
          const t = structTypeName(node!);
          const variable = declaratorName(node!.childForFieldName("declarator"));
          if (t && variable) initializer = { type: t, variable };
        }
        facts = {
          parent,
          type,
          startRow: start.row,
          node: ROW_KINDS.has(type) ? node : undefined,
          fn,
          initializer,
          inError: type === "ERROR" || (parent?.inError ?? false),
          topLevel: type === "translation_unit" || (parent?.topLevel ?? false),
        };
      }
      const own = facts ?? parent!;
      root ??= own;
      if (cursor.gotoFirstChild()) {
        stack.push({ facts: own, end });
        continue;
      }
      const count = tokens[start.row - f.offset];
      if (count) {
        count.all++;
        if (type !== "comment") count.code++;
      }
      settle(own, end);
    }
    let done = false;
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) {
        done = true;
        break;
      }
      const left = stack.pop()!;
      settle(left.facts, left.end);
    }
    if (done) break;
  }
  cursor.delete();
  // Rows before the first token or after the last one: tree-sitter answers with the root.
  settle(root, undefined);
  table = { rows: byRow, tokens };
  tablesByFragment.set(f, table);
  return table;
}

function findPlace(f: Fragment, row: number): Placement {
  const r = nodeRow(f, row);
  const at: NodeFacts | undefined = rowTable(f).rows[row];
  let field: string | undefined;
  let fieldValue: string | undefined;
  let ifCondition: string | undefined;
  let ifConsequence: string | undefined;
  let structField: Placement["structField"];
  // What a row says about itself comes from the nodes that start on it, innermost first; the
  // nodes above those start on earlier rows.
  for (let n = at; n && n.startRow === r; n = n.parent) {
    const node = n.node;
    if (!node) continue;
    if (n.type === "initializer_pair" && !field) {
      const designator = node.childForFieldName("designator") ?? node.namedChildren[0];
      field = designator?.text.replace(/^\./, "");
      fieldValue = node.childForFieldName("value")?.text;
    } else if (n.type === "if_statement" && !ifCondition) {
      ifCondition = node.childForFieldName("condition")?.text.replace(/^\(|\)$/g, "").replace(/\s+/g, " ");
      ifConsequence = node.childForFieldName("consequence")?.text.replace(/\s+/g, " ");
    } else if (n.type === "field_declaration" && !structField) {
      const list = node.parent;
      const spec = list?.parent;
      const struct = spec?.type === "struct_specifier" ? spec.childForFieldName("name")?.text : undefined;
      const name = declaratorName(node.childForFieldName("declarator"));
      if (struct && name) structField = { struct, field: name, text: node.text.replace(/\s+/g, " ").replace(/;$/, "") };
    }
  }
  const initializer = at?.initializer;
  const assignments = rowAssignments(f, r);
  const base = { initializer, field, fieldValue, ifCondition, ifConsequence, structField, assignments };
  if (at?.fn) {
    const how = at.fn.startRow < f.offset ? "heading" : "parser";
    return { function: at.fn.name, ...base, placed: true, how };
  }
  if (at?.topLevel && !at.inError) return { function: undefined, ...base, placed: true, how: "file-scope" };
  if (initializer || structField) return { function: undefined, ...base, placed: true, how: "file-scope" };
  return {
    function: undefined,
    ...base,
    placed: false,
    how: "unplaced",
    reason: "the fragment does not parse as C around this line and the hunk heading names no function",
  };
}

/** The call and assignment nodes of a fragment, in tree order: both tables come from one search of the tree. */
const callsAndAssignmentsOf = new WeakMap<Fragment, { calls: Node[]; assignments: Node[] }>();

function callsAndAssignments(f: Fragment): { calls: Node[]; assignments: Node[] } {
  let found = callsAndAssignmentsOf.get(f);
  if (!found) {
    found = { calls: [], assignments: [] };
    for (const node of f.tree.rootNode.descendantsOfType(["call_expression", "assignment_expression"])) {
      if (node?.type === "call_expression") found.calls.push(node);
      else if (node?.type === "assignment_expression") found.assignments.push(node);
    }
    callsAndAssignmentsOf.set(f, found);
  }
  return found;
}

/** Assignments of a fragment by the tree row they start on: one tree query per fragment. */
const assignmentsByRow = new WeakMap<Fragment, Map<number, { left: string; right: string }[]>>();

function rowAssignments(f: Fragment, r: number): { left: string; right: string }[] {
  let byRow = assignmentsByRow.get(f);
  if (!byRow) {
    byRow = new Map();
    for (const node of callsAndAssignments(f).assignments) {
      const left = node.childForFieldName("left")?.text;
      const right = node.childForFieldName("right")?.text;
      if (!left || !right) continue;
      const list = byRow.get(node.startPosition.row) ?? [];
      list.push({ left: left.replace(/\s+/g, ""), right: right.replace(/\s+/g, " ") });
      byRow.set(node.startPosition.row, list);
    }
    assignmentsByRow.set(f, byRow);
  }
  return byRow.get(r) ?? [];
}

/** Calls of a fragment by the row their callee starts on: one tree query per fragment, not per row. */
const callsByRow = new WeakMap<Fragment, Map<number, CallSite[]>>();

/** Calls whose callee name starts on the row. */
export function rowCalls(f: Fragment, row: number): CallSite[] {
  let byRow = callsByRow.get(f);
  if (!byRow) {
    byRow = new Map();
    for (const node of callsAndAssignments(f).calls) {
      const callee = node.childForFieldName("function");
      if (!callee) continue;
      const name = callee.type === "identifier" ? callee.text : callee.text.replace(/\s+/g, "");
      const argList = node.childForFieldName("arguments");
      const args = argList ? argList.namedChildren.filter((a): a is Node => a !== null && a.type !== "comment").map((a) => a.text.replace(/\s+/g, " ")) : [];
      const r = callee.startPosition.row - f.offset;
      const list = byRow.get(r) ?? [];
      list.push({ name, args, text: node.text.replace(/\s+/g, " ") });
      byRow.set(r, list);
    }
    callsByRow.set(f, byRow);
  }
  return byRow.get(row) ?? [];
}

/** Identifier-like tokens on a row (identifiers, field names, type names, macro names). */
export function rowIdentifiers(f: Fragment, row: number): string[] {
  return rowLeaves(f, row).flatMap((l) => (l.name === undefined ? [] : [l.name]));
}

/** A C condition reduced to what gates are made of. */
export type CondAst =
  | { readonly kind: "and" | "or"; readonly left: CondAst; readonly right: CondAst }
  | { readonly kind: "not"; readonly arg: CondAst }
  | { readonly kind: "compare"; readonly op: "==" | "!="; readonly left: CondAst; readonly right: CondAst }
  | { readonly kind: "ternary"; readonly test: CondAst; readonly then: CondAst; readonly else: CondAst }
  | { readonly kind: "call"; readonly name: string; readonly args: readonly string[]; readonly text: string }
  | { readonly kind: "field"; readonly field: string; readonly text: string }
  | { readonly kind: "ident"; readonly name: string }
  | { readonly kind: "literal"; readonly value: string }
  | { readonly kind: "other"; readonly text: string };

function toCond(n: Node): CondAst {
  switch (n.type) {
    case "parenthesized_expression": {
      const inner = n.namedChildren.find((c): c is Node => c !== null && c.type !== "comment");
      return inner ? toCond(inner) : { kind: "other", text: n.text };
    }
    case "binary_expression": {
      const op = n.childForFieldName("operator")?.text;
      const left = n.childForFieldName("left");
      const right = n.childForFieldName("right");
      if ((op === "&&" || op === "||") && left && right) return { kind: op === "&&" ? "and" : "or", left: toCond(left), right: toCond(right) };
      if ((op === "==" || op === "!=") && left && right) return { kind: "compare", op, left: toCond(left), right: toCond(right) };
      return { kind: "other", text: n.text };
    }
    case "unary_expression": {
      const op = n.childForFieldName("operator")?.text;
      const arg = n.childForFieldName("argument");
      if (op === "!" && arg) return { kind: "not", arg: toCond(arg) };
      return { kind: "other", text: n.text };
    }
    case "conditional_expression": {
      const test = n.childForFieldName("condition");
      const then = n.childForFieldName("consequence");
      const other = n.childForFieldName("alternative");
      return test && then && other ? { kind: "ternary", test: toCond(test), then: toCond(then), else: toCond(other) } : { kind: "other", text: n.text };
    }
    case "call_expression": {
      const fn = n.childForFieldName("function");
      const args = n.childForFieldName("arguments")?.namedChildren.filter((a): a is Node => a !== null).map((a) => a.text) ?? [];
      return fn?.type === "identifier" ? { kind: "call", name: fn.text, args, text: n.text } : { kind: "other", text: n.text };
    }
    case "field_expression":
      return { kind: "field", field: n.childForFieldName("field")?.text ?? "", text: n.text };
    case "identifier":
      return { kind: "ident", name: n.text };
    case "true":
    case "false":
    case "number_literal":
      return { kind: "literal", value: n.text };
    default:
      return { kind: "other", text: n.text };
  }
}

/**
 * Conditions read before, by parser and text, least recently used first: the same gate comes
 * back in every revision of a series and again in its model effects. The ASTs are read-only.
 */
const conditionsRead = new WeakMap<CParser, { readonly asts: Map<string, CondAst | undefined>; chars: number }>();
/** Characters of condition text kept per parser; an AST holds a few times its condition's length. */
const KEPT_CONDITION_CHARS = 256 * 1024;

/** Parse the condition of an `if` into a CondAst, or undefined when it does not parse as C. */
export function parseCondition(parser: CParser, condition: string): CondAst | undefined {
  let kept = conditionsRead.get(parser);
  if (!kept) conditionsRead.set(parser, (kept = { asts: new Map(), chars: 0 }));
  if (kept.asts.has(condition)) {
    const ast = kept.asts.get(condition);
    kept.asts.delete(condition);
    kept.asts.set(condition, ast);
    return ast;
  }
  const ast = readCondition(parser, condition);
  kept.asts.set(condition, ast);
  kept.chars += condition.length;
  for (const old of kept.asts.keys()) {
    if (kept.chars <= KEPT_CONDITION_CHARS || old === condition) break;
    kept.asts.delete(old);
    kept.chars -= old.length;
  }
  return ast;
}

function readCondition(parser: CParser, condition: string): CondAst | undefined {
  const f = parser.parseFragment([`int __cond = (${condition});`], "");
  try {
    if (f.errors > 0) return undefined;
    const init = f.tree.rootNode.descendantsOfType("init_declarator")[0];
    const value = init?.childForFieldName("value");
    return value ? toCond(value) : undefined;
  } finally {
    f.tree.delete();
  }
}

const CPP_PATH = /\.(cc|cpp|cxx|hh|hpp|hxx)$/;

function isCppPath(path: string): boolean {
  return CPP_PATH.test(path);
}
