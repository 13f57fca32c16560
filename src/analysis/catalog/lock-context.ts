import type { FileDiff, Hunk } from "../../patch/diff.js";
import type { FileTouches, Touch } from "../touch.js";
import type { LockFacts } from "./facts.js";

/**
 * Whether dmabuf->resv is held where a touch is, as far as the diff shows. `certain` evidence
 * (a lock call or an assertion earlier in the same function) may make a rule speak; the rest
 * (naming, a callback the core calls locked, a driver wrapper) only keeps rules quiet.
 */
export type ResvState =
  | { readonly state: "held"; readonly certain: boolean; readonly how: string }
  | { readonly state: "not-held"; readonly how: string }
  | { readonly state: "unknown" };

/** Functions the series defines that lock or unlock and do not undo it: its own wrappers. */
export interface LockWrappers {
  readonly lock: ReadonlySet<string>;
  readonly unlock: ReadonlySet<string>;
}

/** Wrappers by the series' files and the catalog's lock facts: read once per series, not per patch or rule. */
const wrappersSeen = new WeakMap<readonly FileTouches[], WeakMap<LockFacts, LockWrappers>>();

export function lockWrappers(files: readonly FileTouches[], facts: LockFacts): LockWrappers {
  let byFacts = wrappersSeen.get(files);
  if (!byFacts) wrappersSeen.set(files, (byFacts = new WeakMap()));
  let w = byFacts.get(facts);
  if (!w) byFacts.set(facts, (w = readLockWrappers(files, facts)));
  return w;
}

function readLockWrappers(files: readonly FileTouches[], facts: LockFacts): LockWrappers {
  const lock = new Set<string>();
  const unlock = new Set<string>();
  for (const f of files) {
    // A file that names no lock or unlock call has no function that takes or drops the lock,
    // and its calls need not be read (a file out of scope reads them from its tree on demand).
    if (!namesAny(f.file, facts)) continue;
    for (const [fn, calls] of f.functionCalls) {
      const locks = [...calls].some((c) => facts.lockCalls.has(c));
      const unlocks = [...calls].some((c) => facts.unlockCalls.has(c));
      if (locks && !unlocks) lock.add(fn);
      if (unlocks && !locks) unlock.add(fn);
    }
  }
  return { lock, unlock };
}

/** A file's hunk headings and lines without whitespace: a callee's name, layout dropped, is in it. */
const squeezed = new WeakMap<FileDiff, string>();
const lockNames = new WeakMap<LockFacts, readonly string[]>();

function namesAny(file: FileDiff, facts: LockFacts): boolean {
  let text = squeezed.get(file);
  if (text === undefined) {
    text = file.hunks.map((h) => `${h.heading}\n${h.lines.map((l) => l.text).join("\n")}`).join("\n").replace(/\s+/g, "");
    squeezed.set(file, text);
  }
  let names = lockNames.get(facts);
  if (!names) lockNames.set(facts, (names = [...facts.lockCalls, ...facts.unlockCalls]));
  return names.some((n) => text.includes(n));
}

interface Row {
  readonly text: string;
  readonly line: number;
  /** Which hunk the row is in: code between two hunks is not in view. */
  readonly hunk: number;
}

function indentOf(text: string): number {
  const lead = /^[\t ]*/.exec(text)![0];
  let n = 0;
  for (const ch of lead) n += ch === "\t" ? 8 : 1;
  return n;
}

/** The code of a row without comments and string contents, so a call named in either is no call. */
function codeOf(text: string): string {
  return text
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\/\*.*?\*\//g, "")
    .replace(/\/\/.*$/, "")
    .replace(/^\s*\*.*$/, "");
}

const CALL = /\b([A-Za-z_]\w*)\s*\(/g;

function callsIn(code: string): { name: string; rest: string }[] {
  return [...code.matchAll(CALL)].map((m) => ({ name: m[1]!, rest: code.slice(m.index! + m[0].length) }));
}

/**
 * Rows of the function around `line`, from its first visible row up to (not including) `line`,
 * across earlier hunks when the function began before this one. `startSeen` says whether the
 * function's first line is in view: if not, what came before may have taken the lock.
 */
function rowsBefore(file: FileDiff, line: number, fn: string): { rows: Row[]; startSeen: boolean } | undefined {
  const hunks = file.hunks.map((h) => h.lines.filter((l) => l.type !== "-" && l.newLine !== undefined));
  const hi = hunks.findIndex((post) => post.some((l) => l.newLine === line));
  if (hi < 0) return undefined;
  const start = new RegExp(`^[A-Za-z_].*\\b${fn}\\s*\\(`);
  const rows: Row[] = [];
  for (let h = hi; h >= 0; h--) {
    const post = hunks[h]!;
    const end = h === hi ? post.findIndex((l) => l.newLine === line) : post.length;
    for (let i = end - 1; i >= 0; i--) {
      const t = post[i]!.text;
      if (start.test(t) && !/;\s*$/.test(t)) return { rows: rows.reverse(), startSeen: true };
      // The closing brace of the function before: this one starts after it.
      if (/^}/.test(t)) return { rows: rows.reverse(), startSeen: false };
      rows.push({ text: t, line: post[i]!.newLine!, hunk: h });
    }
  }
  return { rows: rows.reverse(), startSeen: false };
}

function hunkOf(file: FileDiff, line: number): Hunk | undefined {
  return file.hunks.find((h) => h.lines.some((l) => l.type !== "-" && l.newLine === line));
}

/**
 * The reservation lock's state at a touch, read from the function's visible rows before it:
 * lock and unlock calls (a catalog call or a wrapper the series defines), assertions, might_lock
 * annotations and calls that take the lock themselves; then the function's name and the
 * exporter callback it implements. An unlock deeper than the touch is an early exit, not a
 * release; a lock deeper than the touch may not have been taken.
 */
export function resvStateAt(touch: Touch, file: FileTouches, facts: LockFacts, wrappers: LockWrappers): ResvState {
  const state = readResvState(touch, file, facts, wrappers);
  lastState.set(touch, state);
  return state;
}

/** The state a rule matched on, kept per touch so a finding can say what showed it. */
const lastState = new WeakMap<Touch, ResvState>();

/** What showed the lock held or not at a touch a rule matched, in words for a message. */
export function resvEvidence(touch: Touch): string | undefined {
  const s = lastState.get(touch);
  return s && s.state !== "unknown" ? s.how : undefined;
}

function readResvState(touch: Touch, file: FileTouches, facts: LockFacts, wrappers: LockWrappers): ResvState {
  const fn = touch.function;
  if (!fn || touch.change === "removed") return { state: "unknown" };
  const hunk = hunkOf(file.file, touch.line);
  const here = hunk ? file.file.hunks.indexOf(hunk) : -1;
  const seen = rowsBefore(file.file, touch.line, fn);
  const at = hunk?.lines.find((l) => l.type !== "-" && l.newLine === touch.line);
  const depth = at ? indentOf(at.text) : 0;

  let held: { certain: boolean; how: string } | undefined;
  let notHeld: string | undefined;
  let released: string | undefined;
  for (const row of seen?.rows ?? []) {
    const code = codeOf(row.text);
    const rowDepth = indentOf(row.text);
    // Between an earlier hunk and this one is code nobody sees: a lock or unlock may hide there.
    const inView = row.hunk === here;
    for (const { name, rest } of callsIn(code)) {
      const where = `${name}() at line ${row.line}`;
      const assertion = facts.assertions.find((a) => a.call === name && (!a.argument || a.argument.test(rest)));
      if (assertion && rowDepth <= depth) {
        held = { certain: true, how: `${where} asserts it` };
        continue;
      }
      if (facts.notHeldAnnotations.some((a) => a.call === name && (!a.argument || a.argument.test(rest)))) {
        if (!held) notHeld = `${where} says the function may take it`;
        continue;
      }
      const certainLock = facts.lockCalls.has(name);
      if (certainLock || wrappers.lock.has(name) || facts.possibleLockCall.test(name)) {
        // A lock taken in a branch deeper than the touch may not have been taken at all.
        const sure = certainLock && rowDepth <= depth && inView;
        held = { certain: sure, how: `${where} takes it` };
        released = undefined;
        continue;
      }
      if (facts.unlockCalls.has(name) || wrappers.unlock.has(name)) {
        if (rowDepth <= depth) {
          held = undefined;
          released = inView ? `${where} releases it` : undefined;
        }
        continue;
      }
      const contract = facts.functions.get(name)?.contract;
      if (contract === "takes" && !held && inView) notHeld = `${where} takes it itself, so it was not held there`;
    }
  }
  if (held) return { state: "held", ...held };
  if (facts.heldName.test(fn)) return { state: "held", certain: false, how: `${fn}() is named as called with the lock held` };
  const called = touch.member ? facts.callbacks.get(touch.member) : undefined;
  if (called === "locked") {
    return { state: "held", certain: false, how: `${fn}() implements ${touch.member}, which the core calls with the lock held` };
  }
  // The old code called the _unlocked variant here, so its caller did not hold the lock; a
  // rename to the locked call changes the contract unless the patch takes the lock too.
  const variant = facts.functions.get(touch.name)?.unlockedVariant;
  const removedVariant =
    variant !== undefined && hunk?.lines.some((l) => l.type === "-" && callsIn(codeOf(l.text)).some((c) => c.name === variant));
  if (removedVariant && touch.change === "added") {
    return { state: "not-held", how: `the old code called ${variant}() here, which takes the lock itself` };
  }
  if (released) return { state: "not-held", how: released };
  if (notHeld) return { state: "not-held", how: notHeld };
  // What the function is says the lock was not held on entry; code out of view may take it since.
  if (!seen?.startSeen || seen.rows.some((r) => r.hunk !== here)) return { state: "unknown" };
  if (facts.notHeldName.test(fn)) return { state: "not-held", how: `${fn}() is named as taking the lock itself` };
  if (called === "unlocked") {
    return { state: "not-held", how: `${fn}() implements ${touch.member}, which the core calls without the lock` };
  }
  return { state: "unknown" };
}
