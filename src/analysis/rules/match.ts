import picomatch from "picomatch";
import type { Counterpart, Touch, FileTouches } from "../touch.js";
import { SEVERITY_RANK, type MatcherDoc, type RuleDoc } from "./schema.js";
import type { Facts } from "../catalog/facts.js";
import { lockWrappers, resvStateAt, type LockWrappers } from "../catalog/lock-context.js";
import { uncachedMemoryIn } from "../catalog/memory.js";
import { replacedImplementation } from "../ops-replaced.js";
import { countAsMapped } from "../sg-count.js";

export interface Rule {
  readonly doc: RuleDoc;
  /** The catalog facts the rule was compiled with, for the series context they need. */
  readonly facts: Facts | undefined;
  readonly match: Matcher;
  readonly with: Matcher | undefined;
  readonly without: Matcher | undefined;
}

/** A touch with the patch it came from, for rules that look across a series. */
export interface SeriesTouch {
  readonly touch: Touch;
  /** 1-based patch index within the series. */
  readonly patch: number;
  readonly file: FileTouches;
}

export interface RuleMatch {
  readonly rule: Rule;
  readonly touch: Touch;
  /** The other touch a `series.with` clause found, and where. */
  readonly with: SeriesTouch | undefined;
  /** Set when the match is a hazard the patch removes: the old code the rule held on. */
  readonly fixed?: Touch;
  /** The fix is around an unchanged line (a lock or bracketing added): the touch is context. */
  readonly around?: boolean;
}

/** What a test may need beyond the touch and its file: the series' own lock wrappers. */
export interface MatchContext {
  readonly wrappers: () => LockWrappers;
}

type Test = (t: Touch, file: FileTouches, ctx: MatchContext) => boolean;
export type Matcher = (t: Touch, file: FileTouches, ctx?: MatchContext) => boolean;

const list = <T>(v: T | readonly T[] | undefined): readonly T[] => (v === undefined ? [] : Array.isArray(v) ? (v as readonly T[]) : [v as T]);

function regex(source: string, field: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new Error(`field ${field} is not a valid regular expression: ${(err as Error).message}`);
  }
}

function nameTest(names: readonly string[], field: string): (s: string | undefined) => boolean {
  const exact = new Set(names.filter((n) => !/^\/.*\/$/.test(n)));
  const res = names.filter((n) => /^\/.*\/$/.test(n)).map((n) => regex(n.slice(1, -1), field));
  return (s) => s !== undefined && (exact.has(s) || res.some((r) => r.test(s)));
}

export function compileMatcher(m: MatcherDoc, field: string, facts?: Facts): Matcher {
  const tests: Test[] = [];
  const needFacts = (key: string): Facts => {
    if (!facts) throw new Error(`field ${field}.${key} needs the catalog's facts, which were not loaded`);
    return facts;
  };
  const kinds = new Set(list(m.kind));
  tests.push((t) => kinds.has(t.kind));
  if (m.name !== undefined) {
    const ok = nameTest(list(m.name), `${field}.name`);
    tests.push((t) => ok(t.name));
  }
  if (m.change !== undefined && m.change !== "any") {
    const changes = new Set(list(m.change));
    tests.push((t) => changes.has(t.change));
  }
  if (m.areas) {
    const areas = new Set(m.areas);
    tests.push((t) => areas.has(t.area));
  }
  if (m.paths !== undefined) {
    const ok = picomatch(list(m.paths) as string[]);
    tests.push((t) => ok(t.file));
  }
  if (m["exclude-paths"] !== undefined) {
    const bad = picomatch(list(m["exclude-paths"]) as string[]);
    tests.push((t) => !bad(t.file));
  }
  if (m.function !== undefined) {
    const ok = picomatch(list(m.function) as string[]);
    tests.push((t) => t.function !== undefined && ok(t.function));
  }
  if (m["ops-member"] !== undefined) {
    const ok = nameTest(list(m["ops-member"]), `${field}.ops-member`);
    tests.push((t) => ok(t.member));
  }
  if (m.code !== undefined) {
    const re = regex(m.code, `${field}.code`);
    tests.push((t) => re.test(t.code));
  }
  if (m["not-code"] !== undefined) {
    const re = regex(m["not-code"], `${field}.not-code`);
    tests.push((t) => !re.test(t.code));
  }
  if (m.condition !== undefined) {
    const re = regex(m.condition, `${field}.condition`);
    tests.push((t) => t.condition !== undefined && re.test(t.condition));
  }
  if (m.value !== undefined) {
    const re = regex(m.value, `${field}.value`);
    tests.push((t) => t.value !== undefined && re.test(t.value));
  }
  for (const [i, a] of (m.args ?? []).entries()) {
    const pattern = a.pattern !== undefined ? regex(a.pattern, `${field}.args.${i}.pattern`) : undefined;
    const not = a.not !== undefined ? regex(a.not, `${field}.args.${i}.not`) : undefined;
    tests.push((t) => {
      const arg = a.at < 0 ? t.args[t.args.length + a.at] : t.args[a.at];
      if (arg === undefined) return false;
      return (!pattern || pattern.test(arg)) && (!not || !not.test(arg));
    });
  }
  if (m["function-lacks"] !== undefined) {
    const lacks = nameTest(list(m["function-lacks"]), `${field}.function-lacks`);
    // Asked once per function: a large function has as many touches as it has calls.
    const answers = new WeakMap<FileTouches, Map<string, boolean>>();
    tests.push((t, file) => {
      if (!t.function) return false; // cannot tell what the function holds: stay quiet
      let known = answers.get(file);
      if (!known) answers.set(file, (known = new Map()));
      let lacking = known.get(t.function);
      if (lacking === undefined) {
        lacking = !callsOrCallersCall(file.functionCalls, t.function, lacks);
        known.set(t.function, lacking);
      }
      return lacking;
    });
  }
  if (m["lock-contract"] !== undefined) {
    const locks = needFacts("lock-contract").locks;
    const wanted = new Set(list(m["lock-contract"]));
    tests.push((t) => {
      const c = locks.functions.get(t.name)?.contract;
      return c !== undefined && wanted.has(c);
    });
  }
  if (m.resv !== undefined) {
    const locks = needFacts("resv").locks;
    const want = m.resv;
    tests.push((t, file, ctx) => {
      // The lock context reads the new side's lines; on the old side the state is unknown.
      const s = lockUnread.has(file) ? { state: "unknown" as const } : resvStateAt(t, file, locks, ctx.wrappers());
      if (want === "held") return s.state === "held" && s.certain;
      if (want === "not-held") return s.state === "not-held";
      return s.state !== "held";
    });
  }
  if (m["uncached-memory"] !== undefined) {
    const kinds = needFacts("uncached-memory").memory;
    const want = m["uncached-memory"];
    tests.push((_t, file) => (uncachedMemoryIn(file, kinds) !== undefined) === want);
  }
  if (m["count-as-mapped"] !== undefined) {
    const want = m["count-as-mapped"];
    tests.push((t, file) => countAsMapped(t, file) === want);
  }
  if (m["not-replacing"] !== undefined) {
    const same = nameTest(list(m["not-replacing"]), `${field}.not-replacing`);
    tests.push((t, file) => !same(replacedImplementation(t, file)));
  }
  return (t, file, ctx = NO_CONTEXT) => tests.every((test) => test(t, file, ctx));
}

/**
 * The function calls one of the names, or every caller of it that the file shows does: a helper
 * that copies pixels is bracketed by the dirty handler around it (begin/end_cpu_access there).
 */
function callsOrCallersCall(
  calls: ReadonlyMap<string, ReadonlySet<string>>,
  fn: string,
  wanted: (name: string) => boolean,
): boolean {
  if ([...(calls.get(fn) ?? [])].some(wanted)) return true;
  const callers = [...calls].filter(([caller, called]) => caller !== fn && called.has(fn));
  return callers.length > 0 && callers.every(([, called]) => [...called].some(wanted));
}

const NO_WRAPPERS: LockWrappers = { lock: new Set(), unlock: new Set() };
const NO_CONTEXT: MatchContext = { wrappers: () => NO_WRAPPERS };

export function compileRule(doc: RuleDoc, facts?: Facts): Rule {
  return {
    doc,
    facts,
    match: compileMatcher(doc.match, "match", facts),
    with: doc.series?.with ? compileMatcher(doc.series.with, "series.with", facts) : undefined,
    without: doc.series?.without ? compileMatcher(doc.series.without, "series.without", facts) : undefined,
  };
}

function aboutPresentCode(rule: Rule): boolean {
  return list(rule.doc.match.change ?? "any").some((c) => c === "added" || c === "any");
}

/** The file as it read before the patch: `function-lacks` sees the old calls. */
const beforeViews = new WeakMap<FileTouches, FileTouches>();
/** Views whose lock state reads as unknown: the old side, and the new side when a fix is compared with it. */
const lockUnread = new WeakSet<FileTouches>();
const lockBlindViews = new WeakMap<FileTouches, FileTouches>();

/** The file as it reads now, its lock state left unread: a fix is judged on both sides alike. */
function lockBlind(file: FileTouches): FileTouches {
  let v = lockBlindViews.get(file);
  if (!v) {
    lockBlindViews.set(file, (v = { ...file }));
    lockUnread.add(v);
  }
  return v;
}

function beforeView(file: FileTouches): FileTouches {
  let v = beforeViews.get(file);
  if (!v) {
    beforeViews.set(file, (v = { ...file, functionCalls: file.functionCallsBefore }));
    lockUnread.add(v);
  }
  return v;
}

/**
 * The rule holds on the other side of the diff as well: the old code of an added or modified
 * touch (the patch carries the problem over: a rename, a rewrap, a move), or the new code of a
 * removed one (nothing was removed in substance). A finding is about what the patch changes.
 */
function heldOnOtherSide(
  rule: Rule,
  touch: Touch,
  file: FileTouches,
  patch: readonly FileTouches[] = [file],
  ctx?: MatchContext,
): boolean {
  const other = touch.counterpart;
  // Only a rule about what code is present asks this; one about a change itself (an ABI line
  // modified, an entry removed) is answered by the change.
  if (!other || !aboutPresentCode(rule)) return false;
  const where = fileOf(other, file, patch);
  return rule.match({ ...other, change: touch.change }, touch.change === "removed" ? where : beforeView(where), ctx);
}

/** The file a counterpart is in: the touch's own, or another file of the patch for a move. */
function fileOf(other: Counterpart, file: FileTouches, patch: readonly FileTouches[]): FileTouches {
  return other.file === file.file.path ? file : (patch.find((f) => f.file.path === other.file) ?? file);
}

/**
 * The function of a removed call now calls a variant of it the vocabulary may not know
 * (dma_buf_map_attachment_locked for dma_buf_map_attachment): a rename, not a removal.
 */
function renamedCall(old: Touch, file: FileTouches): boolean {
  const fn = old.function;
  if (!fn) return false;
  const before = file.functionCallsBefore.get(fn) ?? new Set<string>();
  for (const c of file.functionCalls.get(fn) ?? []) {
    if (c !== old.name && !before.has(c) && (c.includes(old.name) || old.name.includes(c))) return true;
  }
  return false;
}

/**
 * Whether a rule can say that the patch removed what it warns about: not one judged against the
 * series (with/without), nor one about a change itself. The lock state is unread on both sides
 * (unknown on the old one), so a lock added never reads as the hazard gone.
 */
function mayClaimFix(rule: Rule): boolean {
  if (SEVERITY_RANK[rule.doc.severity] < SEVERITY_RANK.warning || rule.with || rule.without) return false;
  return aboutPresentCode(rule);
}

/**
 * A hazard the patch removes: a rule that warns about code being added holds on the old code of
 * this touch and not on the new one, the same call or member on both sides. Code deleted along with its whole function says nothing
 * (a driver removed is not a fix), and a rule judged against the series (with/without) is not
 * asked about the old code, which the series context does not describe.
 */
function fixedBy(rule: Rule, touch: Touch, file: FileTouches, patch: readonly FileTouches[]): Touch | undefined {
  if (!mayClaimFix(rule)) return undefined;
  const old: Touch = touch.change === "removed" ? touch : { ...touch.counterpart!, change: "modified" };
  const now = touch.change === "removed" ? touch.counterpart : touch;
  // A call renamed to another changes its contract (dma_buf_vmap to dma_buf_vmap_unlocked), and
  // whether the old one was wrong depends on the kernel it was written for: no claim either way.
  if (now && now.name !== old.name) return undefined;
  if (!now && renamedCall(old, file)) return undefined;
  if (!now && !(old.function && file.functionCalls.has(old.function))) return undefined;
  if (!rule.match({ ...old, change: "added" }, beforeView(file))) return undefined;
  if (now && rule.match({ ...now, change: "added" }, lockBlind(now === touch ? file : fileOf(now, file, patch)))) return undefined;
  return old;
}

/**
 * Match every rule against the touches of one patch, with the whole series in view for
 * `series.with` / `series.without` (a flag added in patch 1 and set in patch 2).
 */
export function matchRules(
  rules: readonly Rule[],
  patch: readonly FileTouches[],
  series: readonly SeriesTouch[],
  seriesFiles: readonly FileTouches[] = [...new Set(series.map((s) => s.file))],
): RuleMatch[] {
  const out: RuleMatch[] = [];
  const wrappers = new Map<Facts, LockWrappers>();
  // Rules sharing their facts share a context: its lock wrappers are worked out once either way.
  const contexts = new Map<Facts | undefined, MatchContext>();
  const contextFor = (facts: Facts | undefined): MatchContext => {
    let ctx = contexts.get(facts);
    if (!ctx) {
      ctx = {
        wrappers: () => {
          if (!facts) return NO_WRAPPERS;
          let w = wrappers.get(facts);
          if (!w) wrappers.set(facts, (w = lockWrappers(seriesFiles, facts.locks)));
          return w;
        },
      };
      contexts.set(facts, ctx);
    }
    return ctx;
  };
  for (const rule of rules) {
    const ctx = contextFor(rule.facts);
    if (rule.without && series.some((s) => rule.without!(s.touch, s.file, ctx))) continue;
    let withTouch: SeriesTouch | undefined;
    if (rule.with) {
      withTouch = series.find((s) => rule.with!(s.touch, s.file, ctx));
      if (!withTouch) continue;
    }
    let seen: Set<string> | undefined;
    for (const file of patch) {
      for (const touch of file.touches) {
        if (!rule.match(touch, file, ctx) || heldOnOtherSide(rule, touch, file, patch, ctx)) continue;
        // Two functions removed in one block share the line their removal is anchored to.
        const key = `${touch.file}:${touch.line}:${touch.function ?? ""}`;
        seen ??= new Set<string>();
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ rule, touch, with: withTouch });
      }
    }
  }
  return out;
}

/** An unchanged line a rule held on before and not after: the patch changed what surrounds it. */
function fixedAround(rule: Rule, touch: Touch, file: FileTouches): boolean {
  if (!mayClaimFix(rule)) return false;
  const asAdded: Touch = { ...touch, change: "added" };
  return rule.match(asAdded, beforeView(file)) && !rule.match(asAdded, lockBlind(file));
}

/** Hazards the patch removes, one per rule and place: reported as fixed, never as a warning. */
export function matchFixes(rules: readonly Rule[], patch: readonly FileTouches[]): RuleMatch[] {
  const out: RuleMatch[] = [];
  for (const rule of rules) {
    // Places already reported for this rule: made on the first, as most rules fix nothing.
    let seen: Set<string> | undefined;
    for (const file of patch) {
      for (const touch of file.touches) {
        if (touch.change === "added" || (touch.change === "modified" && !touch.counterpart)) continue;
        const old = fixedBy(rule, touch, file, patch);
        if (!old) continue;
        const key = `${touch.file}:${touch.line}`;
        seen ??= new Set<string>();
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ rule, touch, with: undefined, fixed: old });
      }
      for (const touch of file.context ?? []) {
        const key = `${touch.file}:${touch.line}`;
        if (seen?.has(key) || !fixedAround(rule, touch, file)) continue;
        (seen ??= new Set<string>()).add(key);
        out.push({ rule, touch, with: undefined, fixed: touch, around: true });
      }
    }
  }
  return out;
}
