import { appendFileSync } from "node:fs";
import fc from "fast-check";
import { it } from "vitest";
import { InputError, type InputReason } from "../../src/errors.js";

/**
 * The fuzz suite's runner. Every property runs at its own small number of cases in `npm test`
 * and at FUZZ_RUNS cases each in `npm run fuzz`. A run does not stop at the first failure: each
 * distinct failure (by signature) is kept with the case that first showed it, then shrunk from
 * that case, so one run reports every kind of failure it met. Known bugs (test/fuzz/known-bugs.ts)
 * are counted, not failed, and their recorded counterexample must still fail.
 */

/** Cases per property: FUZZ_RUNS in `npm run fuzz`, the property's own count in `npm test`. */
export const FUZZ_RUNS = process.env["FUZZ_RUNS"] ? Number(process.env["FUZZ_RUNS"]) : undefined;
/** Fixed in CI so a failure there replays anywhere; `npm run fuzz` picks and prints a fresh one. */
const BASE_SEED = process.env["FUZZ_SEED"] ? Number(process.env["FUZZ_SEED"]) : 20_261_109;
/** Multiplies every time budget, for a machine much slower or busier than a laptop. */
const BUDGET_SCALE = Number(process.env["FUZZ_BUDGET_SCALE"] ?? "1");
/** Distinct failures kept per property; past this, the run is mostly one bug seen many ways. */
const MAX_SIGNATURES = 12;
const REPORT_FILE = process.env["FUZZ_REPORT"];

export const INPUT_REASONS: ReadonlySet<InputReason> = new Set<InputReason>([
  "malformed-mime", "not-a-patch", "empty-input", "truncated-diff", "binary-diff", "too-large",
  "bad-encoding", "unreadable", "bad-signature", "bad-token", "unknown-event", "bad-rule", "bad-config",
]);

/** Why one case failed. Cases with the same signature are the same bug. */
export interface Failure {
  readonly kind: "threw" | "slow" | "invariant" | "status";
  readonly signature: string;
  readonly detail: string;
}

/** Numbers, quoted text and paths vary between cases of one bug; the signature leaves them out. */
function normalise(message: string): string {
  return message
    .split("\n")[0]!
    .replace(/"[^"]*"|'[^']*'|`[^`]*`/g, "…")
    .replace(/\d+/g, "N")
    .slice(0, 160);
}

/** The innermost frame in the project's own code: where the throw came from. */
function ownFrame(err: Error): string {
  const frame = (err.stack ?? "").split("\n").find((l) => /\/src\//.test(l) && !/node_modules/.test(l));
  return frame ? frame.replace(/^.*\/src\//, "src/").replace(/:\d+\)?$/, "").replace(/\)$/, "") : "(outside src/)";
}

export function threw(err: unknown, where = ""): Failure {
  const e = err instanceof Error ? err : new Error(String(err));
  const at = ownFrame(e);
  return { kind: "threw", signature: `${where}threw ${e.name}: ${normalise(e.message)} at ${at}`, detail: `${e.name}: ${e.message.slice(0, 500)}\n${(e.stack ?? "").split("\n").slice(1, 6).join("\n")}` };
}

export function invariant(name: string, detail: string): Failure {
  return { kind: "invariant", signature: `invariant: ${name}`, detail: detail.slice(0, 1000) };
}

export function statusFailure(status: number, body: string, route: string): Failure {
  let error = "";
  try {
    error = String((JSON.parse(body) as { error?: unknown }).error ?? "");
  } catch {
    error = body.slice(0, 40);
  }
  return { kind: "status", signature: `${route} answered ${status} ${normalise(error)}`, detail: `${status} ${body.slice(0, 500)}` };
}

/** An InputError with a known reason is the edge's clean refusal; anything else thrown is a crash. */
export function inputErrorOr(err: unknown, where = ""): Failure | undefined {
  if (err instanceof InputError) {
    if (!INPUT_REASONS.has(err.reason)) return invariant(`${where}unknown InputError reason`, err.reason);
    return undefined;
  }
  return threw(err, where);
}

/**
 * Runs `fn` and says whether it took more than `budgetMs` of this process's CPU time (scaled by
 * FUZZ_BUDGET_SCALE). CPU time, not wall time: other jobs on a busy CI machine do not count
 * against a case. The budgets are far above what a case normally takes; what trips them is work
 * that grows without bound with the input.
 */
export async function withinBudget<T>(budgetMs: number, fn: () => Promise<T> | T): Promise<{ value: T; slow: Failure | undefined }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  const ms = (used.user + used.system) / 1000;
  const limit = budgetMs * BUDGET_SCALE;
  const wall = Math.round(performance.now() - start);
  const slow: Failure | undefined = ms > limit ? { kind: "slow", signature: `slow: over ${limit} ms of CPU`, detail: `${Math.round(ms)} ms of CPU (${wall} ms wall), budget ${limit} ms` } : undefined;
  return { value, slow };
}

/** A bug another change is fixing: counted while it stands, and a failure once it is gone. */
export interface KnownBug<T> {
  readonly id: string;
  /** The file the bug is in, and who owns it. */
  readonly file: string;
  readonly owner: string;
  readonly summary: string;
  /** The minimal case; checking it must still give a failure this bug `matches`. */
  readonly counterexample: T;
  matches(f: Failure): boolean;
  /** Inputs that must not run while the bug stands (they would exhaust the worker's memory). */
  readonly unsafe?: (input: T) => boolean;
  /** Set when the counterexample itself is too slow for `npm test`: then only `npm run fuzz` re-checks it. */
  readonly recheckOnlyInFuzz?: boolean;
}

/** Counts of how cases came out (accepted, skipped by reason...): shows a generator reaches deep code. */
export type Tally = (label: string) => void;

export interface FuzzProperty<T> {
  readonly name: string;
  readonly arbitrary: fc.Arbitrary<T>;
  /** Cases in `npm test`: the whole suite there stays well under twenty seconds. */
  readonly ciRuns: number;
  /** A cap on FUZZ_RUNS for a property whose every case is a large input (seconds each). */
  readonly maxRuns?: number;
  check(input: T, tally: Tally): Promise<Failure | undefined> | Failure | undefined;
  readonly knownBugs?: readonly KnownBug<T>[];
}

function seedFor(name: string): number {
  let h = BASE_SEED | 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x9e3779b1);
  return h | 0;
}

function show(value: unknown): string {
  const s = fc.stringify(value);
  return s.length > 1500 ? `${s.slice(0, 1500)}… (${s.length} chars)` : s;
}

interface Found {
  readonly failure: Failure;
  readonly path: string;
  shrunk?: { counterexample: string; detail: string; path: string | null };
}

/** Registers one property as a vitest test. */
export function fuzz<T>(prop: FuzzProperty<T>): void {
  const known = prop.knownBugs ?? [];
  const title = known.length > 0 ? `${prop.name} [known bugs: ${known.map((b) => b.id).join(", ")}]` : prop.name;
  it(title, async () => {
    const runs = FUZZ_RUNS === undefined ? prop.ciRuns : Math.min(FUZZ_RUNS, prop.maxRuns ?? FUZZ_RUNS);
    const seed = seedFor(prop.name);
    const found = new Map<string, Found>();
    const hits = new Map<string, number>();
    const tallies = new Map<string, number>();
    const tally: Tally = (label) => tallies.set(label, (tallies.get(label) ?? 0) + 1);
    const hit = (id: string) => hits.set(id, (hits.get(id) ?? 0) + 1);
    const isUnsafe = (x: T) => known.find((b) => b.unsafe?.(x));
    let index = 0;
    const started = performance.now();
    const details = await fc.check(
      fc.asyncProperty(prop.arbitrary, async (input) => {
        const at = index++;
        const unsafe = isUnsafe(input);
        if (unsafe) return void hit(unsafe.id);
        const f = await prop.check(input, tally);
        if (!f) return;
        const bug = known.find((b) => b.matches(f));
        if (bug) return void hit(bug.id);
        if (!found.has(f.signature) && found.size < MAX_SIGNATURES) found.set(f.signature, { failure: f, path: String(at) });
      }),
      { seed, numRuns: runs },
    );
    const ms = performance.now() - started;
    // The predicate never fails, so a failed run means the generator or the harness threw.
    if (details.failed) throw new Error(`${prop.name}: the run itself failed: ${String(details.errorInstance)}`);

    // Shrink each distinct failure from the case that first showed it, keeping its signature.
    for (const [signature, f] of found) {
      let last: Failure | undefined;
      const shrink = await fc.check(
        fc.asyncProperty(prop.arbitrary, async (input) => {
          if (isUnsafe(input)) return true;
          const g = await prop.check(input, () => undefined);
          if (g?.signature !== signature) return true;
          last = g;
          return false;
        }),
        { seed, path: f.path, numRuns: runs },
      );
      if (shrink.failed) {
        f.shrunk = { counterexample: show(shrink.counterexample?.[0]), detail: last?.detail ?? f.failure.detail, path: shrink.counterexamplePath };
      }
    }

    // A known bug must still show on its recorded counterexample, or its marker has to go.
    const gone: string[] = [];
    const notRechecked: string[] = [];
    for (const bug of known) {
      if (bug.recheckOnlyInFuzz && FUZZ_RUNS === undefined) {
        notRechecked.push(bug.id);
        continue;
      }
      const f = await prop.check(bug.counterexample, () => undefined);
      if (!f || !bug.matches(f)) gone.push(`${bug.id} (${bug.file}): ${f ? `now fails differently: ${f.signature}` : "passes now"}`);
    }

    const summary = {
      property: prop.name,
      cases: runs,
      seed,
      baseSeed: BASE_SEED,
      ms: Math.round(ms),
      outcomes: Object.fromEntries([...tallies].sort((a, b) => b[1] - a[1])),
      knownBugs: known.map((b) => ({ id: b.id, file: b.file, owner: b.owner, cases: hits.get(b.id) ?? 0, recheck: gone.some((g) => g.startsWith(`${b.id} `)) ? "gone" : notRechecked.includes(b.id) ? "not rechecked" : "still fails" })),
      failures: [...found].map(([signature, f]) => ({ signature, firstPath: f.path, ...(f.shrunk ?? { counterexample: "(did not shrink)", detail: f.failure.detail, path: f.path }) })),
      goneKnownBugs: gone,
    };
    if (REPORT_FILE) appendFileSync(REPORT_FILE, `${JSON.stringify(summary)}\n`);
    const knownLine = summary.knownBugs.map((b) => `${b.id}: ${b.cases} cases (${b.recheck})`).join("; ");
    console.log(`fuzz ${prop.name}: ${runs} cases in ${summary.ms} ms, seed ${seed}; ${found.size} new failures${knownLine ? `; KNOWN BUGS ${knownLine}` : ""}`);

    const problems: string[] = [];
    for (const f of summary.failures) {
      problems.push(`${f.signature}\n  counterexample: ${f.counterexample}\n  replay: fc seed ${seed}, path ${f.path ?? f.firstPath} (FUZZ_SEED=${BASE_SEED} FUZZ_RUNS=${runs})\n  ${f.detail.replace(/\n/g, "\n  ")}`);
    }
    for (const g of gone) problems.push(`known bug no longer reproduces, remove it from test/fuzz/known-bugs.ts: ${g}`);
    if (problems.length > 0) throw new Error(`${prop.name}: ${problems.length} problem(s)\n${problems.join("\n\n")}`);
  }, FUZZ_RUNS === undefined ? 30_000 : 24 * 3600_000);
}
