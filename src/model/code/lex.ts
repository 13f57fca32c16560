/**
 * A small C lexer for reading code as text: comments and literals are told apart from code in
 * one pass, so a `//` inside a string or a `/*` comment spread over lines is never mistaken for
 * code (or the other way round).
 */
export type Token =
  | { readonly kind: "ident"; readonly text: string }
  | { readonly kind: "comment" | "string" | "char" | "space" | "punct" | "number"; readonly text: string };

const PUNCT3 = new Set(["<<=", ">>=", "..."]);
const PUNCT2 = new Set(["->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "##"]);

function quoted(text: string, i: number, q: string): number {
  let j = i + 1;
  while (j < text.length && text[j] !== q && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
  return Math.min(text.length, j + 1);
}

/**
 * The tokens of `text`. `inComment`: the text starts inside a block comment (a hunk that begins
 * in the middle of one); everything up to where that comment ends belongs to it.
 */
export function tokens(text: string, inComment = false): Token[] {
  const out: Token[] = [];
  let i = 0;
  if (inComment) {
    const end = text.indexOf("*/");
    i = end < 0 ? text.length : end + 2;
    out.push({ kind: "comment", text: text.slice(0, i) });
  }
  while (i < text.length) {
    const c = text[i]!;
    const n = text[i + 1];
    let j: number;
    let kind: Token["kind"];
    if (c === "/" && n === "*") {
      const end = text.indexOf("*/", i + 2);
      j = end < 0 ? text.length : end + 2;
      kind = "comment";
    } else if (c === "/" && n === "/") {
      const end = text.indexOf("\n", i);
      j = end < 0 ? text.length : end;
      kind = "comment";
    } else if (c === '"' || c === "'") {
      j = quoted(text, i, c);
      kind = c === '"' ? "string" : "char";
    } else if (/\s/.test(c)) {
      j = i + 1;
      while (j < text.length && /\s/.test(text[j]!)) j++;
      kind = "space";
    } else if (/[A-Za-z_]/.test(c)) {
      j = i + 1;
      while (j < text.length && /\w/.test(text[j]!)) j++;
      kind = "ident";
    } else if (/\d/.test(c) || (c === "." && n !== undefined && /\d/.test(n))) {
      j = i + 1;
      while (j < text.length && /[\w.]/.test(text[j]!)) j++;
      kind = "number";
    } else {
      j = PUNCT3.has(text.slice(i, i + 3)) ? i + 3 : PUNCT2.has(text.slice(i, i + 2)) ? i + 2 : i + 1;
      kind = "punct";
    }
    out.push({ kind, text: text.slice(i, j) } as Token);
    i = j;
  }
  return out;
}

/** A literal as blankNonCode leaves it: its opening quote, spaces, and its closing one if it has one. */
function blankLiteral(t: string): string {
  const q = t[0]!;
  const closed = t.length > 1 && t.endsWith(q);
  return q + " ".repeat(t.length - (closed ? 2 : 1)) + (closed ? q : "");
}

const blankComment = (t: string): string => (t.includes("\n") ? t.replace(/[^\n]/g, " ") : " ".repeat(t.length));

/**
 * Comments become spaces and literals keep only their quotes; line breaks stay where they were.
 * The tokens between comments and literals are copied as they are, so this reads the text in one
 * pass and copies runs of code whole: no code token starts or hides a comment or a quote.
 */
export function blankNonCode(text: string, inComment = false): string {
  let out = "";
  let i = 0;
  if (inComment) {
    const end = text.indexOf("*/");
    i = end < 0 ? text.length : end + 2;
    out = blankComment(text.slice(0, i));
  }
  let from = i;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    // '/' then '*' or '/'; '"' and '\''
    if (c === 47) {
      const n = text.charCodeAt(i + 1);
      if (n !== 42 && n !== 47) {
        i++;
        continue;
      }
      const end = n === 42 ? text.indexOf("*/", i + 2) : text.indexOf("\n", i);
      const j = end < 0 ? text.length : n === 42 ? end + 2 : end;
      out += text.slice(from, i) + blankComment(text.slice(i, j));
      i = from = j;
    } else if (c === 34 || c === 39) {
      const j = quoted(text, i, text[i]!);
      out += text.slice(from, i) + blankLiteral(text.slice(i, j));
      i = from = j;
    } else i++;
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * `expr` with each identifier named in `bindings` replaced, all at once, by its value in
 * parentheses: a member name after `->` or `.` is not a variable and stays, and a value put in
 * is never substituted again.
 */
export function substitute(expr: string, bindings: ReadonlyMap<string, string>): string {
  let previous: Token | undefined;
  let out = "";
  for (const t of tokens(expr)) {
    const member = previous?.kind === "punct" && (previous.text === "->" || previous.text === ".");
    const value = t.kind === "ident" && !member ? bindings.get(t.text) : undefined;
    out += value === undefined ? t.text : `(${value})`;
    if (t.kind !== "space" && t.kind !== "comment") previous = t;
  }
  return out;
}
