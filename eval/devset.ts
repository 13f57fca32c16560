/**
 * The labelled development set (eval/devset/{positive,negative}/<id>.yaml, described in its
 * README): which archive messages make each series, and what a good review raises or must not
 * say. Read and checked here; a malformed file is an error naming the file and the field.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

export type LabelRisk =
  | "false-positive-check"
  | "hazard-left-open"
  | "userspace-regression"
  | "missing-bracketing"
  | "lock-contract"
  | "dma-api-misuse"
  | "exporter-override"
  | "other";

const LABEL_RISKS: readonly LabelRisk[] = [
  "false-positive-check",
  "hazard-left-open",
  "userspace-regression",
  "missing-bracketing",
  "lock-contract",
  "dma-api-misuse",
  "exporter-override",
  "other",
];

/** One archived message of a labelled revision: patch `index` (0 for the cover letter). */
export interface LabelledMessage {
  readonly version: number;
  /** Undefined for an unnumbered patch posted on its own inside the thread. */
  readonly index: number | undefined;
  readonly messageId: string;
  readonly commit: string;
}

export interface Expect {
  readonly id: string;
  readonly version: number;
  /** 0: the cover letter, or the series as a whole. */
  readonly patch: number;
  readonly file: string;
  readonly function: string | undefined;
  readonly risk: LabelRisk;
  readonly say: string;
  /** A reviewer's name, or "label" when the labeller added a concern no reviewer raised. */
  readonly raisedBy: string;
}

export interface MustNot {
  readonly version: number;
  readonly patch: number;
  readonly file: string;
  readonly function: string | undefined;
  readonly say: string;
}

export interface LabelledSeries {
  readonly id: string;
  readonly kind: "positive" | "negative";
  readonly file: string;
  readonly independentOverlap: string | undefined;
  readonly messages: readonly LabelledMessage[];
  readonly expect: readonly Expect[];
  readonly mustNot: readonly MustNot[];
  /**
   * Concerns that still stand in a later revision: a feedback outcome `not addressed` or
   * `answered` (the author kept the code) carries its `expect` to `outcome.to_version`.
   */
  readonly carried?: readonly Expect[];
}

export type Doc = Record<string, unknown>;

export function fail(file: string, field: string, what: string): never {
  throw new Error(`${file}: ${field}: ${what}`);
}

export function field<T>(file: string, doc: Doc, name: string, check: (v: unknown) => v is T, what: string, at = name): T {
  const v = doc[name];
  if (!check(v)) fail(file, at, `expected ${what}, got ${JSON.stringify(v) ?? "nothing"}`);
  return v;
}

export const isString = (v: unknown): v is string => typeof v === "string" && v.length > 0;
export const isInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const isOptInt = (v: unknown): v is number | null | undefined => v === null || v === undefined || isInt(v);
export const isList = (v: unknown): v is Doc[] => Array.isArray(v) && v.every((x) => typeof x === "object" && x !== null);
export const isOptString = (v: unknown): v is string | undefined | null => v === undefined || v === null || isString(v);
const isRisk = (v: unknown): v is LabelRisk => LABEL_RISKS.includes(v as LabelRisk);

/** A Message-ID as the project keeps it: without the angle brackets. */
export function bare(id: string): string {
  return id.trim().replace(/^<|>$/g, "");
}

function readMessages(file: string, doc: Doc): LabelledMessage[] {
  const out: LabelledMessage[] = [];
  const revisions = field(file, doc, "revisions", isList, "a list");
  for (const [r, rev] of revisions.entries()) {
    const version = field(file, rev, "version", isInt, "a number", `revisions[${r}].version`);
    const cover = rev["cover_message_id"];
    const coverCommit = rev["cover_commit"];
    // A cover letter known only from replies' In-Reply-To has no commit: nothing to read.
    if (isString(cover) && isString(coverCommit)) out.push({ version, index: 0, messageId: bare(cover), commit: coverCommit });
    const patches = field(file, rev, "patches", isList, "a list", `revisions[${r}].patches`);
    for (const [p, patch] of patches.entries()) {
      const at = `revisions[${r}].patches[${p}]`;
      const index = field(file, patch, "index", isOptInt, "a number or null", `${at}.index`) ?? undefined;
      if (patch["message_id"] === undefined) continue; // not on the list (absent_message_id)
      const messageId = field(file, patch, "message_id", isString, "a Message-ID", `${at}.message_id`);
      const commit = field(file, patch, "commit", isString, "a commit", `${at}.commit`);
      out.push({ version, index, messageId: bare(messageId), commit });
    }
  }
  return out;
}

/** Where a label points and what it says: the fields `expect` and `must_not` share. */
function readPlace(file: string, e: Doc, at: (f: string) => string): MustNot {
  return {
    version: field(file, e, "version", isInt, "a number", at("version")),
    patch: field(file, e, "patch", isInt, "a number", at("patch")),
    file: field(file, e, "file", isString, "a path", at("file")),
    function: field(file, e, "function", isOptString, "a name", at("function")) ?? undefined,
    say: field(file, e, "say", isString, "text", at("say")),
  };
}

function readExpect(file: string, doc: Doc): Expect[] {
  const list = doc["expect"] === undefined ? [] : field(file, doc, "expect", isList, "a list");
  return list.map((e, i) => {
    const at = (f: string) => `expect[${i}].${f}`;
    return {
      ...readPlace(file, e, at),
      id: field(file, e, "id", isString, "an id", at("id")),
      risk: field(file, e, "risk", isRisk, `one of ${LABEL_RISKS.join(", ")}`, at("risk")),
      raisedBy: field(file, e, "raised_by", isString, "a name or label", at("raised_by")),
    };
  });
}

function readMustNot(file: string, doc: Doc): MustNot[] {
  const list = doc["must_not"] === undefined ? [] : field(file, doc, "must_not", isList, "a list");
  return list.map((e, i) => readPlace(file, e, (f) => `must_not[${i}].${f}`));
}

function labels(file: string, d: Doc): { expect: Expect[]; carried: Expect[] } {
  const expect = readExpect(file, d);
  return { expect, carried: readCarried(file, d, expect) };
}

/** Verdicts after which the code a concern is about is still in the next revision. */
const STANDING = new Set(["not addressed", "answered"]);

function readCarried(file: string, doc: Doc, expect: readonly Expect[]): Expect[] {
  const list = doc["feedback"] === undefined ? [] : field(file, doc, "feedback", isList, "a list");
  const out: Expect[] = [];
  for (const [i, f] of list.entries()) {
    const e = expect.find((x) => x.id === f["expect"]);
    const outcome = f["outcome"] as Doc | undefined;
    if (!e || !outcome || !STANDING.has(String(outcome["verdict"])) || outcome["to_series"] !== undefined) continue;
    const version = field(file, outcome, "to_version", isInt, "a number", `feedback[${i}].outcome.to_version`);
    if (version !== e.version) out.push({ ...e, version });
  }
  return out;
}

export function readLabelledSeries(file: string): LabelledSeries {
  const d = readDoc(file);
  const kind = field(file, d, "kind", (v): v is "positive" | "negative" => v === "positive" || v === "negative", "positive or negative");
  const overlap = field(file, d, "independent_overlap", isOptString, "an id or null");
  return {
    id: field(file, d, "id", isString, "an id"),
    kind,
    file,
    independentOverlap: overlap ?? undefined,
    messages: readMessages(file, d),
    ...labels(file, d),
    mustNot: readMustNot(file, d),
  };
}

/** The label files under `dir` (positive, then negative), each in name order. */
export function devsetFiles(dir: string): string[] {
  return ["positive", "negative"].flatMap((kind) =>
    readdirSync(join(dir, kind))
      .filter((n) => n.endsWith(".yaml"))
      .sort()
      .map((n) => join(dir, kind, n)),
  );
}

/** One label file parsed: a mapping, or an error naming the file. */
export function readDoc(file: string): Doc {
  const doc = parse(readFileSync(file, "utf8")) as unknown;
  if (typeof doc !== "object" || doc === null) fail(file, "(top)", "expected a mapping");
  return doc as Doc;
}

/** Every labelled series under `dir`, ordered by id so that runs print the same order. */
export function readDevset(dir: string): LabelledSeries[] {
  return devsetFiles(dir)
    .map(readLabelledSeries)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
