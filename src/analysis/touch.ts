import { MAX_FILE_DIFF_LINES } from "../errors.js";
import type { FileDiff, Hunk, HunkLine } from "../patch/diff.js";
import { changedRows, checkFunction, compareFunctions, syncHelpersOf, userspaceFunctions } from "./userspace.js";
import { seriesCode, type CFunction } from "../model/code/functions.js";
import { blankNonCode } from "../model/code/lex.js";
import { factsRead } from "../model/gate.js";
import type { Fact } from "../model/predicate.js";
import {
  isCommentRow,
  parseCondition,
  placeRow,
  rowCalls,
  rowFunction,
  rowIdentifiers,
  type CParser,
  type Fragment,
  type Placement,
} from "../patch/c-source.js";
import {
  ATTR_IDENTIFIERS,
  COHERENCY_FIELD,
  DMA_BUF_MARKER,
  FRAMEWORK_STRUCTS,
  OPS_HELPERS_BY_FILE,
  OPS_IMPL_SUFFIXES,
  OPS_MEMBERS,
  UAPI_IDENTIFIER,
  USERSPACE_DMA_BUF_MARKER,
  areaOfPath,
  callKind,
  isCSource,
  type Area,
  type CallKind,
  type OpsMember,
} from "./vocabulary.js";

export type TouchKind =
  | CallKind
  /** A problem the userspace checks found (name: the problem, e.g. unbracketed-write). */
  | "userspace"
  /** What userspace code does with dma-buf fds: sources, mmap, SYNC, imports. */
  | "userspace-io"
  | "ops-member"
  | "dma-attr"
  | "gate"
  | "flag-set"
  | "struct-field"
  | "uapi";

export type Change = "added" | "removed" | "modified";

/** One thing a hunk touches on the dma-buf surface. */
export interface Touch {
  readonly file: string;
  readonly area: Area;
  readonly kind: TouchKind;
  /** The kernel name: a call, an ops member, an attribute, a field. */
  readonly name: string;
  readonly change: Change;
  /** Line in the new version of the file (for a removal: where the removed code was). */
  readonly line: number;
  readonly oldLine: number | undefined;
  readonly function: string | undefined;
  /** The dma_buf_ops member the line belongs to: by initializer or by the implementing function. */
  readonly member: OpsMember | undefined;
  readonly code: string;
  readonly detail: string;
  readonly args: readonly string[];
  /** For gates: the condition; for flag-set: the value assigned. */
  readonly condition?: string;
  readonly value?: string;
  readonly placement: Placement["how"];
  /**
   * The same statement on the other side of the diff when the hunk renames, rewraps or moves
   * it: the old code for an added or modified touch, the new code for a removed one. Rules are
   * asked about both sides, so what the patch merely carries over is not reported as new.
   */
  readonly counterpart?: Counterpart;
}

/** A touch as it reads on the other side of the diff. */
export type Counterpart = Omit<Touch, "change" | "counterpart">;

export interface UnplacedHunk {
  readonly file: string;
  readonly heading: string;
  readonly line: number;
  readonly reason: string;
}

export interface FileTouches {
  readonly file: FileDiff;
  /** Why the file was not classified at all (over MAX_FILE_DIFF_LINES); its touches are then empty. */
  readonly notReviewed?: string;
  readonly area: Area;
  /** Whether the file is part of the dma-buf surface (by path, or by content for drivers). */
  readonly inScope: boolean;
  readonly touches: readonly Touch[];
  readonly unplaced: readonly UnplacedHunk[];
  /** Only comments, documentation or whitespace changed. */
  readonly docOnly: boolean;
  /** Every call visible in the new version of each function (context and added lines). */
  readonly functionCalls: ReadonlyMap<string, ReadonlySet<string>>;
  /** The same for the old version (context and removed lines): what a rule saw before the patch. */
  readonly functionCallsBefore: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * Unchanged lines with calls in functions whose calls the patch changes: never reported as
   * they are, only asked whether the patch fixed something about them.
   */
  readonly context?: readonly Touch[];
}

interface Side {
  readonly rows: string[];
  readonly lineOf: HunkLine[];
}

function side(hunk: Hunk, keep: "+" | "-"): Side {
  const lines = hunk.lines.filter((l) => l.type === " " || l.type === keep);
  return { rows: lines.map((l) => l.text), lineOf: lines };
}

/** Anchors of a hunk's removed lines, worked out in two passes over it and kept. */
const anchors = new WeakMap<Hunk, Map<HunkLine, number>>();

/** New-file line where a removed line was: the next surviving line, else the previous one. */
function anchorForRemoved(hunk: Hunk, removed: HunkLine): number {
  let byLine = anchors.get(hunk);
  if (!byLine) {
    byLine = new Map();
    let next: number | undefined;
    for (let i = hunk.lines.length - 1; i >= 0; i--) {
      const l = hunk.lines[i]!;
      if (l.newLine !== undefined) next = l.newLine;
      else if (next !== undefined) byLine.set(l, next);
    }
    let previous: number | undefined;
    for (const l of hunk.lines) {
      if (l.newLine !== undefined) previous = l.newLine;
      else if (!byLine.has(l)) byLine.set(l, previous ?? Math.max(1, hunk.newStart));
    }
    anchors.set(hunk, byLine);
  }
  return byLine.get(removed) ?? Math.max(1, hunk.newStart);
}

function memberOfFunction(fn: string | undefined, known: ReadonlyMap<string, OpsMember>, path: string): OpsMember | undefined {
  if (!fn) return undefined;
  const k = known.get(fn) ?? OPS_HELPERS_BY_FILE[path]?.[fn];
  if (k) return k;
  for (const [re, member] of OPS_IMPL_SUFFIXES) if (re.test(fn)) return member;
  return undefined;
}

function asMember(field: string | undefined): OpsMember | undefined {
  return field && (OPS_MEMBERS as readonly string[]).includes(field) ? (field as OpsMember) : undefined;
}

/** Statements a failure path may run before it returns: logging, error codes, unlocking, freeing. */
const ON_THE_WAY_OUT = /^(\w+\s*=[^=]|(pr_|dev_|drm_)\w*\s*\(|WARN\w*\s*\(|k[vz]?free\s*\(|\w*unlock\w*\s*\(|\w*_put\s*\()/;

/**
 * The consequence is the failure itself: it returns or jumps out after nothing but logging and
 * cleanup. A block that does work first (maps, pins) and fails only if that work fails is a
 * branch with an error path inside, not a check that refuses.
 */
function failsOutright(consequence: string | undefined): boolean {
  if (consequence === undefined) return false;
  const body = blankNonCode(consequence).trim().replace(/^\{([\s\S]*)\}$/, "$1");
  const stmts = body.split(";").map((x) => x.trim()).filter((x) => x.length > 0);
  const last = stmts.at(-1);
  if (last === undefined || !/^(return\b|goto\s+\w+$)/.test(last)) return false;
  return stmts.slice(0, -1).every((x) => ON_THE_WAY_OUT.test(x));
}

function returnsError(consequence: string | undefined): boolean {
  return consequence !== undefined && /\breturn\b[^;]*-E[A-Z]+|\bERR_PTR\s*\(\s*-E|\bgoto\s+\w*(err|fail|out)/.test(consequence);
}

interface RawTouch extends Omit<Touch, "change"> {
  readonly side: "+" | "-";
}

/** Words that make a condition a coherency check whatever the model can read of it. */
const COHERENCY_WORDS = /\b(dev_is_dma_coherent|dev_dma_coherent|of_dma_is_coherent)\b|\w*coheren(t|cy)\b/;
/** The facts that make a gate a coherency gate (its touch is named `coherency`). */
const COHERENCY_FACTS: readonly Fact[] = ["buffer-flag", "importer-dev-coherent", "exporter-dev-coherent", "importer-snoops", "memory-cached"];

/** The model facts an `if` condition reads, helpers followed; none for a condition that does not parse. */
type GateFacts = (condition: string) => readonly Fact[];

/**
 * Classify every changed line of a file against the dma-buf surface. Each hunk side is parsed
 * with tree-sitter; where a line sits (function, ops initializer, `if`) comes from the tree. A
 * file outside the surface that names nothing a touch there is made of is parsed only when its
 * calls are asked for.
 */
export function classifyFile(file: FileDiff, parser: CParser | undefined, helpers?: ReadonlyMap<string, CFunction>): FileTouches {
  const area = areaOfPath(file.path);
  // dma-buf's own documentation is in scope (and never earns a warning); other docs are not.
  const dmaBufDoc = area === "documentation" && /dma-buf|dma_buf|dmabuf|dma-heap/.test(file.path);
  const inScopeByPath = (area !== "other" && area !== "documentation" && area !== "userspace") || dmaBufDoc;
  if (file.status === "binary" || !isCSource(file.path) || !parser) {
    return {
      file,
      area,
      inScope: inScopeByPath,
      touches: [],
      unplaced: [],
      docOnly: area === "documentation" || /\.(rst|txt|md)$/.test(file.path),
      functionCalls: new Map(),
      functionCallsBefore: new Map(),
    };
  }
  const markerInFile = mentions(file, DMA_BUF_MARKER);
  const lines = file.hunks.reduce((n, h) => n + h.lines.length, 0);
  if (lines > MAX_FILE_DIFF_LINES) {
    const count = lines.toLocaleString("en-US");
    const what = file.hunks.length === 1 ? `${count}-line hunk` : `diff of ${count} lines in ${file.hunks.length} hunks`;
    return {
      file,
      area,
      inScope: inScopeByPath || markerInFile,
      touches: [],
      unplaced: [],
      docOnly: false,
      functionCalls: new Map(),
      functionCallsBefore: new Map(),
      notReviewed: `not reviewed: ${what}, over the limit of ${MAX_FILE_DIFF_LINES.toLocaleString("en-US")} lines`,
    };
  }
  if (area === "userspace") return classifyUserspaceFile(file, parser.forPath(file.path));
  const fileArea: Area = area === "other" && markerInFile ? "exporter-driver" : area;
  const cparser = parser.forPath(file.path);
  if (fileArea === "other" && !mentions(file, OUTSIDE_THE_SURFACE)) {
    return untouched(file, () => classifyTree(file, cparser, fileArea, false, undefined));
  }
  // Through readsHelpers, so that a cache keying files by it cannot miss a helper read here.
  return classifyTree(file, cparser, fileArea, inScopeByPath, readsHelpers(file) ? helpers : undefined);
}

/**
 * Whether classifyFile can read the series' helpers for this file: only where it looks for
 * gates, in a C file on the surface or naming it. A cache may key the other files without them.
 */
export function readsHelpers(file: FileDiff): boolean {
  if (file.status === "binary" || !isCSource(file.path)) return false;
  const area = areaOfPath(file.path);
  if (area === "userspace") return false;
  if (area !== "other") return true;
  return mentions(file, DMA_BUF_MARKER) || mentions(file, OUTSIDE_THE_SURFACE);
}

/**
 * Whether a hunk heading or line of the file matches `re`, a pattern that never spans a line
 * (words and literals): line by line, as in the hunk text joined, without joining it.
 */
function mentions(file: FileDiff, re: RegExp): boolean {
  return file.hunks.some((h) => re.test(h.heading) || h.lines.some((l) => re.test(l.text)));
}

/**
 * Outside the dma-buf surface (no path of its, no dma_buf name) a line is a touch only as a
 * call of the PRIME helpers or as a coherency flag or gate: without these words a file has
 * none, and tree-sitter has nothing to find in it that the review reports.
 */
const OUTSIDE_THE_SURFACE = /drm_gem_prime_|drm_gem_dmabuf_|coheren/;

/**
 * A file that touches nothing: out of scope, no touches, no context. What its functions call
 * (the lock wrappers of a series ask) and whether it changes code are read from its tree on
 * first use, as the full classification would give them.
 */
function untouched(file: FileDiff, classify: () => FileTouches): FileTouches {
  let full: FileTouches | undefined;
  const tree = () => (full ??= classify());
  return {
    file,
    area: "other",
    inScope: false,
    touches: [],
    unplaced: [],
    get docOnly() {
      return tree().docOnly;
    },
    get functionCalls() {
      return tree().functionCalls;
    },
    get functionCallsBefore() {
      return tree().functionCallsBefore;
    },
    context: [],
  };
}

function classifyTree(file: FileDiff, cparser: CParser, fileArea: Area, inScopeByPath: boolean, helpers: ReadonlyMap<string, CFunction> | undefined): FileTouches {
  // A gate is an `if` whose condition reads a fact of the model, through the helpers the series
  // defines (only this file's when the caller has no series); worked out once per condition.
  let known = helpers;
  const gateFactsSeen = new Map<string, readonly Fact[]>();
  const gateFacts: GateFacts = (condition) => {
    let facts = gateFactsSeen.get(condition);
    if (!facts) {
      known ??= seriesCode([{ patch: 1, files: [file] }]).functions;
      const ctx = { parse: (t: string) => parseCondition(cparser, t), helpers: known };
      const ast = parseCondition(cparser, condition);
      facts = ast ? factsRead(ast, ctx).facts : [];
      gateFactsSeen.set(condition, facts);
    }
    return facts;
  };
  // Every tree used, given back at the end whatever happens (the parser keeps or deletes it).
  const fragments: Fragment[] = [];
  try {
    const parsed = file.hunks.map((hunk) => {
      const post = side(hunk, "+");
      const pre = side(hunk, "-");
      let preFrag: Fragment | undefined;
      const postFrag = cparser.acquire(post.rows, hunk.heading);
      fragments.push(postFrag);
      return {
        hunk,
        post,
        pre,
        postFrag,
        // The pre-image is parsed only when asked for: a hunk that removes nothing and names no
        // dma_buf_ops has nothing on it to look at.
        get preFrag(): Fragment {
          if (!preFrag) {
            preFrag = cparser.acquire(pre.rows, hunk.heading);
            fragments.push(preFrag);
          }
          return preFrag;
        },
      };
    });

    // Pass 1: `.member = function` pairs anywhere in view tell which function implements what.
    // Only an initializer of a type named dma_buf_ops counts, and its name is in the hunk's
    // rows or its heading (the declaration the hunk starts in).
    const implementers = new Map<string, OpsMember>();
    for (const p of parsed) {
      const names = (s: Side) => p.hunk.heading.includes("dma_buf_ops") || s.rows.some((r) => r.includes("dma_buf_ops"));
      for (const [frag, s] of [
        [() => p.postFrag, p.post],
        [() => p.preFrag, p.pre],
      ] as const) {
        if (!names(s)) continue;
        for (let row = 0; row < s.rows.length; row++) {
          const pl = placeRow(frag(), row);
          const member = asMember(pl.field);
          if (member && pl.initializer?.type === "dma_buf_ops" && pl.fieldValue && /^\w+$/.test(pl.fieldValue)) {
            implementers.set(pl.fieldValue, member);
          }
        }
      }
    }

    // The member a function implements, by its name: asked once per function, not per line.
    const members = new Map<string, OpsMember | undefined>();
    const memberOf = (fn: string | undefined): OpsMember | undefined => {
      if (!fn) return undefined;
      if (!members.has(fn)) members.set(fn, memberOfFunction(fn, implementers, file.path));
      return members.get(fn);
    };

    const functionCalls = new Map<string, Set<string>>();
    const functionCallsBefore = new Map<string, Set<string>>();
    const note = (into: Map<string, Set<string>>, frag: Fragment, row: number): string | undefined => {
      const calls = rowCalls(frag, row);
      if (calls.length === 0) return undefined;
      const fn = rowFunction(frag, row);
      if (!fn) return undefined;
      const set = into.get(fn) ?? new Set<string>();
      for (const c of calls) set.add(c.name);
      into.set(fn, set);
      return fn;
    };
    const contextCalls: { p: (typeof parsed)[number]; row: number; fn: string }[] = [];
    for (const p of parsed) {
      for (let row = 0; row < p.post.rows.length; row++) {
        note(functionCalls, p.postFrag, row);
        // A context row reads the same on both sides: the old version reuses the new parse.
        if (p.post.lineOf[row]!.type !== " ") continue;
        const fn = note(functionCallsBefore, p.postFrag, row);
        if (fn) contextCalls.push({ p, row, fn });
      }
      // A blank removed line holds no call: a hunk that removes only blank lines needs no pre-image here.
      for (let row = 0; row < p.pre.rows.length; row++) {
        if (p.pre.lineOf[row]!.type === "-" && !isBlank(p.pre.rows[row]!)) note(functionCallsBefore, p.preFrag, row);
      }
    }

    const raw: RawTouch[] = [];
    const unplaced: UnplacedHunk[] = [];
    let codeChanged = false;
    for (const p of parsed) {
      let hunkUnplaced = false;
      for (const [fragOf, s, mark] of [
        [() => p.postFrag, p.post, "+"],
        [() => p.preFrag, p.pre, "-"],
      ] as const) {
        for (let row = 0; row < s.rows.length; row++) {
          const hl = s.lineOf[row]!;
          if (hl.type !== mark) continue;
          // isCommentRow's answer for a blank row, without parsing the side for it.
          if (isBlank(s.rows[row]!)) continue;
          const frag = fragOf();
          if (isCommentRow(frag, row)) continue;
          codeChanged = true;
          const pl = placeRow(frag, row);
          if (!pl.placed && !hunkUnplaced) {
            hunkUnplaced = true;
            unplaced.push({ file: file.path, heading: p.hunk.heading, line: hl.newLine ?? anchorForRemoved(p.hunk, hl), reason: pl.reason ?? "unknown" });
          }
          raw.push(...touchesOfRow(file.path, fileArea, frag, row, hl, pl, mark, p.hunk, memberOf, gateFacts));
        }
      }
    }
    const touches = mergeChanges(raw);
    const inScope = inScopeByPath || touches.length > 0;
    // Calls the patch leaves alone in a function to which it only adds calls (a lock taken
    // around them, bracketing added): a rule may hold on them before and not after. A function
    // that also loses calls may be another one under the same name (renamed, merged): skipped.
    const context: Touch[] = [];
    for (const { p, row, fn } of contextCalls) {
      if (!onlyGains(functionCalls.get(fn), functionCallsBefore.get(fn))) continue;
      const hl = p.post.lineOf[row]!;
      for (const t of touchesOfRow(file.path, fileArea, p.postFrag, row, hl, placeRow(p.postFrag, row), "+", p.hunk, memberOf, gateFacts)) {
        const { side: _s, ...rest } = t;
        context.push({ ...rest, change: "modified" });
      }
    }
    return {
      file,
      area: fileArea,
      inScope,
      touches,
      unplaced: inScope ? unplaced : [],
      docOnly: !codeChanged,
      functionCalls,
      functionCallsBefore,
      context,
    };
  } finally {
    cparser.release(fragments);
  }
}

function isBlank(text: string): boolean {
  return text.trim() === "";
}

function touchesOfRow(
  path: string,
  area: Area,
  frag: Fragment,
  row: number,
  hl: HunkLine,
  pl: Placement,
  mark: "+" | "-",
  hunk: Hunk,
  memberOf: (fn: string | undefined) => OpsMember | undefined,
  gateFacts: GateFacts,
): RawTouch[] {
  const out: RawTouch[] = [];
  const code = hl.text;
  const line = hl.newLine ?? anchorForRemoved(hunk, hl);
  const inOps = pl.initializer?.type === "dma_buf_ops";
  const member = (inOps ? asMember(pl.field) : undefined) ?? memberOf(pl.function);
  const relevantFile = area !== "other";
  const base = {
    file: path,
    area,
    line,
    oldLine: hl.oldLine,
    function: pl.function,
    member,
    code,
    placement: pl.how,
    side: mark,
    args: [] as readonly string[],
  };

  if (inOps && pl.field) {
    out.push({ ...base, kind: "ops-member", name: pl.field, detail: `.${pl.field} = ${pl.fieldValue ?? "?"}`, value: pl.fieldValue });
  } else if (member && relevantFile) {
    out.push({ ...base, kind: "ops-member", name: member, detail: `${pl.function ?? "?"}() implements ${member}` });
  }

  for (const call of rowCalls(frag, row)) {
    const kind = callKind(call.name);
    if (!kind) continue;
    if (!relevantFile && kind !== "framework-call") continue;
    out.push({ ...base, kind, name: call.name, detail: call.text, args: call.args });
  }

  // Attributes and uapi names count in files on the dma-buf surface only. An identifier lies
  // on the row it starts on: a row without those prefixes has none of them.
  const named = relevantFile && (code.includes("DMA_ATTR_") || (area === "uapi" && UAPI_PREFIX.test(code)));
  const ids = new Set(named ? rowIdentifiers(frag, row) : []);
  if (relevantFile) {
    for (const id of ids) {
      if (ATTR_IDENTIFIERS.has(id) && id.startsWith("DMA_ATTR_")) {
        out.push({ ...base, kind: "dma-attr", name: id, detail: code.trim() });
      }
    }
  }
  if (area === "uapi") {
    for (const id of ids) if (UAPI_IDENTIFIER.test(id)) out.push({ ...base, kind: "uapi", name: id, detail: code.trim() });
  }

  if (pl.ifCondition && returnsError(pl.ifConsequence)) {
    const cond = pl.ifCondition;
    const aboutCoherency = COHERENCY_WORDS.test(cond);
    // Facts are read only on the dma-buf surface: elsewhere a direction test is no dma-buf gate.
    const facts = relevantFile && (aboutCoherency || failsOutright(pl.ifConsequence)) ? gateFacts(cond) : [];
    if (aboutCoherency || facts.length > 0) {
      // A bare `goto err_attach` names no errno: the label is the failure path a reviewer looks up.
      const err = /-E[A-Z]+/.exec(pl.ifConsequence ?? "")?.[0] ?? /\bgoto\s+\w+/.exec(pl.ifConsequence ?? "")?.[0].replace(/\s+/, " ");
      const name = aboutCoherency || facts.some((f) => COHERENCY_FACTS.includes(f)) ? "coherency" : facts.join("+");
      out.push({ ...base, kind: "gate", name, detail: `if (${cond}) → ${err ?? "error"}`, condition: cond, value: err });
    }
  }

  for (const a of pl.assignments) {
    const field = /(?:\.|->)(\w+)$/.exec(a.left)?.[1] ?? a.left;
    if (COHERENCY_FIELD.test(field)) {
      out.push({ ...base, kind: "flag-set", name: field, detail: `${a.left} = ${a.right}`, value: a.right });
    }
  }
  if (pl.field && !inOps && COHERENCY_FIELD.test(pl.field) && pl.fieldValue) {
    out.push({ ...base, kind: "flag-set", name: pl.field, detail: `.${pl.field} = ${pl.fieldValue}`, value: pl.fieldValue });
  }

  if (pl.structField && FRAMEWORK_STRUCTS.has(pl.structField.struct)) {
    out.push({
      ...base,
      kind: "struct-field",
      name: pl.structField.field,
      detail: `struct ${pl.structField.struct}: ${pl.structField.text}`,
    });
  }
  return out;
}

/** What every UAPI_IDENTIFIER starts with. */
const UAPI_PREFIX = /DMA_BUF_(SYNC|IOCTL)_|DMA_HEAP_IOCTL_|UDMABUF_/;

function onlyGains(after: ReadonlySet<string> | undefined, before: ReadonlySet<string> | undefined): boolean {
  if (!after || !before) return false;
  return after.size > before.size && [...before].every((c) => after.has(c));
}

/** A statement's code without its layout: a re-indent or a rewrap leaves this unchanged. */
function layoutFree(code: string): string {
  return code.replace(/\s+/g, "");
}

function strip(t: RawTouch): Counterpart {
  const { side: _s, counterpart: _p, ...rest } = t;
  return rest;
}

/**
 * A touch removed and re-added in the same function with the same name is one modification,
 * reported at the added line (what the reviewer reads in the new version); re-added with the
 * same code save for layout, it is no change at all. What stays unpaired is paired once more,
 * as counterparts that both stay reported: the same code moved to another function, then a
 * call renamed or rewritten in place (nearest of its kind in the same function).
 */
function mergeChanges(raw: readonly RawTouch[]): Touch[] {
  const out: Touch[] = [];
  const removed = raw.filter((t) => t.side === "-");
  const added = raw.filter((t) => t.side === "+");
  const used = new Set<RawTouch>();
  const key = (t: RawTouch) => `${t.kind}|${t.name}|${t.function ?? ""}|${t.member ?? ""}`;
  // Removed touches by key, in line order: an added touch looks only at its own key within 40
  // lines, so a hunk with thousands of both is not every pair compared.
  const byKey = new Map<string, { list: RawTouch[]; from: number }>();
  for (const r of [...removed].sort((x, y) => x.line - y.line)) {
    const k = key(r);
    const b = byKey.get(k);
    if (b) b.list.push(r);
    else byKey.set(k, { list: [r], from: 0 });
  }
  const partner = (a: RawTouch): RawTouch | undefined => {
    const b = byKey.get(key(a));
    if (!b) return undefined;
    // Added touches come in line order too: what is used or too far above now stays so.
    while (b.from < b.list.length && (used.has(b.list[b.from]!) || b.list[b.from]!.line < a.line - 40)) b.from++;
    for (let i = b.from; i < b.list.length && b.list[i]!.line <= a.line + 40; i++) {
      if (!used.has(b.list[i]!)) return b.list[i];
    }
    return undefined;
  };
  const unpaired: RawTouch[] = [];
  for (const a of [...added].sort((x, y) => x.line - y.line)) {
    const match = partner(a);
    const { side: _s, ...rest } = a;
    if (match) {
      used.add(match);
      if (layoutFree(match.code) === layoutFree(a.code)) continue; // moved or re-indented, not changed
      out.push({ ...rest, change: "modified", oldLine: match.oldLine, counterpart: strip(match) });
    } else unpaired.push(a);
  }
  const left = removed.filter((r) => !used.has(r));
  const pairs = new Map<RawTouch, RawTouch>();
  const pair = (a: RawTouch, r: RawTouch) => {
    pairs.set(a, r);
    pairs.set(r, a);
  };
  // Moved: the same code of the same kind elsewhere in the file. Bounded per code string.
  const byCode = new Map<string, RawTouch[]>();
  for (const r of left) {
    const k = `${r.kind}|${layoutFree(r.code)}`;
    byCode.set(k, [...(byCode.get(k) ?? []), r]);
  }
  for (const a of unpaired) {
    const r = byCode.get(`${a.kind}|${layoutFree(a.code)}`)?.find((c) => !pairs.has(c));
    if (r) pair(a, r);
  }
  // Renamed or rewritten in place: the nearest removed touch of the same kind in the same function.
  for (const a of unpaired) {
    if (pairs.has(a) || !a.function) continue;
    let best: RawTouch | undefined;
    for (const r of left) {
      if (pairs.has(r) || r.kind !== a.kind || r.function !== a.function || Math.abs(r.line - a.line) > 10) continue;
      if (!best || Math.abs(r.line - a.line) < Math.abs(best.line - a.line)) best = r;
    }
    if (best) pair(a, best);
  }
  for (const a of unpaired) {
    const { side: _s, ...rest } = a;
    const other = pairs.get(a);
    out.push({ ...rest, change: "added", ...(other ? { counterpart: strip(other) } : {}) });
  }
  for (const r of left) {
    const { side: _s, ...rest } = r;
    const other = pairs.get(r);
    out.push({ ...rest, change: "removed", ...(other ? { counterpart: strip(other) } : {}) });
  }
  // One touch per (kind, name, line, change): a line that is both a call and inside an ops
  // implementation reports each once; a changed implementation is one touch, at its first line.
  const seen = new Set<string>();
  return out
    .sort((a, b) => a.line - b.line)
    .filter((t) => {
      const impl = t.kind === "ops-member" && !t.detail.startsWith(".");
      const k = impl ? `impl|${t.name}|${t.function ?? ""}|${t.change}` : `${t.kind}|${t.name}|${t.line}|${t.change}|${t.detail}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.kind.localeCompare(b.kind));
}

/**
 * Code moved from one file of a patch to another (a helper moved to a header, a driver split in
 * two): the same code of the same kind, left unpaired in both files, is paired as counterparts.
 */
export function pairAcrossFiles(files: readonly FileTouches[]): readonly FileTouches[] {
  const key = (t: Touch) => `${t.kind}|${layoutFree(t.code)}`;
  const removed = new Map<string, { file: FileTouches; touch: Touch }[]>();
  for (const file of files) {
    for (const touch of file.touches) {
      if (touch.change !== "removed" || touch.counterpart) continue;
      removed.set(key(touch), [...(removed.get(key(touch)) ?? []), { file, touch }]);
    }
  }
  if (removed.size === 0) return files;
  const pairs = new Map<Touch, Touch>();
  for (const file of files) {
    for (const touch of file.touches) {
      if (touch.change !== "added" || touch.counterpart) continue;
      const other = removed.get(key(touch))?.find((r) => r.file !== file && !pairs.has(r.touch));
      if (!other) continue;
      pairs.set(touch, other.touch);
      pairs.set(other.touch, touch);
    }
  }
  if (pairs.size === 0) return files;
  return files.map((file) => ({
    ...file,
    touches: file.touches.map((touch) => {
      const other = pairs.get(touch);
      if (!other) return touch;
      const { change: _c, counterpart: _p, ...rest } = other;
      return { ...touch, counterpart: rest };
    }),
  }));
}

/**
 * Userspace code is judged on the functions a hunk shows whole (or in part, for the checks
 * that need no whole function): the new version only, since what matters is how the code
 * behaves after the change. Only files that handle dma-buf fds are in scope.
 */
function classifyUserspaceFile(file: FileDiff, parser: CParser): FileTouches {
  const text = file.hunks.flatMap((h) => h.lines.map((l) => l.text)).join("\n");
  const inScope = USERSPACE_DMA_BUF_MARKER.test(text);
  const touches: Touch[] = [];
  const contextOnly = new Set<Touch>();
  // Each side of a hunk is read twice, for the helpers and for its functions: parsed once, kept by the parser.
  const fragments: Fragment[] = [];
  const parse = (rows: readonly string[], heading: string): Fragment => {
    const f = parser.acquire(rows, heading);
    fragments.push(f);
    return f;
  };
  try {
    if (inScope) userspaceTouches(file, parse, touches, contextOnly);
  } finally {
    parser.release(fragments);
  }
  return {
    file,
    area: "userspace",
    inScope: inScope && touches.some((t) => !contextOnly.has(t)),
    touches: touches.sort((a, b) => a.line - b.line),
    unplaced: [],
    docOnly: false,
    functionCalls: new Map(),
    functionCallsBefore: new Map(),
  };
}

/** The touches of a userspace file that handles dma-buf fds, into `touches`; those only seen in context also into `contextOnly`. */
function userspaceTouches(file: FileDiff, parse: (rows: readonly string[], heading: string) => Fragment, touches: Touch[], contextOnly: Set<Touch>): void {
  // SYNC helpers are recognised by what they do anywhere in the file's diff, each side apart.
  const helpersOf = (sign: "+" | "-") => syncHelpersOf(file.hunks.map((h) => parse(side(h, sign).rows, h.heading)));
  const helpersAfter = helpersOf("+");
  const helpersBefore = helpersOf("-");
  for (const hunk of file.hunks) {
    const post = side(hunk, "+");
    const changed = changedRows(hunk.lines, post.lineOf);
    if (changed.size === 0) continue;
    const frag = parse(post.rows, hunk.heading);
    const fns = userspaceFunctions(frag, helpersAfter);
    for (const fn of fns) {
      const last = fn.events.reduce((m, e) => Math.max(m, e.row), fn.row);
      // Judge a function only when the hunk changes something in it; the fds and imports of
      // the others it shows still say which exporters and importers the file deals with.
      const touched = [...changed].some((r) => r >= fn.row && r <= last);
      if (!touched && !fn.events.some((e) => e.kind === "fd-source" || e.kind === "import")) continue;
      const base = (row: number) => {
        const hl = post.lineOf[row];
        return {
          file: file.path,
          area: "userspace" as const,
          line: hl?.newLine ?? hunk.newStart,
          oldLine: hl?.oldLine,
          function: fn.name,
          member: undefined,
          code: hl?.text ?? "",
          args: [] as readonly string[],
          placement: "parser" as const,
          change: (hl?.type === "+" ? "added" : "modified") as Change,
        };
      };
      for (const e of fn.events) {
        if (e.kind === "access" || e.kind === "exit") continue;
        if (!touched && e.kind !== "fd-source" && e.kind !== "import") continue;
        const name = e.kind === "sync" ? (e.phase === "unknown" ? "DMA_BUF_IOCTL_SYNC (flags from a parameter)" : `DMA_BUF_IOCTL_SYNC ${e.phase}${e.flags ? `|${e.flags}` : ""}`) : e.kind === "import" ? `import ${e.api}` : e.kind === "fd-source" ? `fd ${e.source}` : `mmap ${e.variable}`;
        const t: Touch = { ...base(e.row), kind: "userspace-io", name, detail: e.text.replace(/\s+/g, " ").slice(0, 160), value: e.kind === "fd-source" ? e.source : e.kind === "import" ? e.api : undefined };
        touches.push(t);
        if (!touched) contextOnly.add(t);
      }
      for (const p of touched ? checkFunction(fn) : []) {
        touches.push({ ...base(p.row), kind: "userspace", name: p.problem, detail: p.detail, value: p.detail });
      }
    }
    // Bracketing taken away or flipped shows only beside the old version.
    const pre = side(hunk, "-");
    if (pre.lineOf.some((l) => l.type === "-")) {
      const old = parse(pre.rows, hunk.heading);
      for (const p of compareFunctions(userspaceFunctions(old, helpersBefore), fns, { definedAfter: helpersAfter.defined, referencedBefore: helpersBefore.referenced })) {
        const hl = pre.lineOf[p.row];
        const line = hl?.newLine ?? (hl ? anchorForRemoved(hunk, hl) : hunk.newStart);
        touches.push({
          file: file.path, area: "userspace", line, oldLine: hl?.oldLine, function: p.function, member: undefined,
          code: hl?.text ?? "", args: [], placement: "parser", change: hl?.type === "-" ? "removed" : "modified",
          kind: "userspace", name: p.problem, detail: p.detail, value: p.detail,
        });
      }
    }
  }
}
