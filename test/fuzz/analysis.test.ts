import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import { InputError } from "../../src/errors.js";
import { loadRuleFile } from "../../src/analysis/rules/load.js";
import { matchRules, type SeriesTouch } from "../../src/analysis/rules/match.js";
import { classifyFile, type FileTouches } from "../../src/analysis/touch.js";
import { loadMessages } from "../../src/ingest/mbox/messages.js";
import { buildMessage } from "../../src/patch/message.js";
import { CParser } from "../../src/patch/c-source.js";
import { parseDiff, type FileDiff } from "../../src/patch/diff.js";
import { fixture } from "../helpers/mail.js";
import fc from "fast-check";
import { expandHunk, largeHunk } from "./gen/c-code.js";
import { fileSpec, patchBody, writeFile } from "./gen/diff.js";
import { editedFixtureFile } from "./gen/fixture-hunks.js";
import { RULES_DIR, ruleFile } from "./gen/rules.js";
import { reportableLines } from "./lines.js";
import { FUZZ_RUNS, fuzz, inputErrorOr, invariant, withinBudget, type Failure } from "./harness.js";
import { knownBugs, PROPERTY } from "./known-bugs.js";

/** Far above the tens of milliseconds a hunk of a few dozen lines takes to classify. */
const HUNK_BUDGET_MS = 3_000;
/**
 * One message of any size the reader accepts (up to MAX_MESSAGE_BYTES) is read and classified
 * within the forges' patience: a webhook gets its answer after ten seconds or not at all.
 */
const LARGE_MESSAGE_BUDGET_MS = 10_000;
/** Hunk sizes: a quick few in `npm test`; up to some 2 MB of diff in `npm run fuzz`. */
export const LARGE_HUNK_LINES = { min: 1_000, max: FUZZ_RUNS === undefined ? 1_500 : 60_000 };

function touchesProblem(file: FileDiff, ft: FileTouches): Failure | undefined {
  const { newLines, oldLines } = reportableLines(file);
  let last = -Infinity;
  for (const t of ft.touches) {
    if (t.file !== file.path) return invariant("touch names another file", `${t.file} in ${file.path}`);
    if (!t.name) return invariant("touch without a name", JSON.stringify(t));
    if (!newLines.has(t.line)) return invariant("touch reported outside the diff", `${t.kind} ${t.name} at ${file.path}:${t.line}`);
    if (t.oldLine !== undefined && !oldLines.has(t.oldLine)) return invariant("touch names an old line outside the diff", `${t.kind} ${t.name} at old ${t.oldLine}`);
    if (t.line < last) return invariant("touches out of line order", `${t.line} after ${last}`);
    last = t.line;
  }
  for (const u of ft.unplaced) if (!newLines.has(u.line)) return invariant("unplaced hunk reported outside the diff", `${file.path}:${u.line}`);
  return undefined;
}

const outcome = (ft: FileTouches) => JSON.stringify({ touches: ft.touches, unplaced: ft.unplaced, inScope: ft.inScope, docOnly: ft.docOnly, calls: [...ft.functionCalls].map(([k, v]) => [k, [...v]]) });

describe("fuzz: analysis", () => {
  let parser: CParser;
  const fixtureTouches: FileTouches[] = [];
  const seriesTouches: SeriesTouch[] = [];
  const root = mkdtempSync(join(tmpdir(), "dmabuf-review-fuzz-rules-"));

  beforeAll(async () => {
    parser = await CParser.load();
    // The touches of every rule fixture: what a mutated rule is matched against.
    const dir = fixture("rules");
    const patches = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((p) => p.endsWith(".patch"));
    for (const p of patches) {
      const { messages } = await loadMessages(join(dir, p));
      for (const m of messages) {
        for (const f of m.files) {
          const ft = classifyFile(f, parser);
          fixtureTouches.push(ft);
          seriesTouches.push(...ft.touches.map((touch) => ({ touch, patch: 1, file: ft })));
        }
      }
    }
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  fuzz({
    name: PROPERTY.hunks,
    arbitrary: fc.oneof(fileSpec(3, 30), editedFixtureFile).map((f) => writeFile(f).text),
    ciRuns: 200,
    knownBugs: knownBugs(PROPERTY.hunks),
    async check(diff, tally) {
      let files: FileDiff[];
      try {
        files = parseDiff(diff);
      } catch (err) {
        return err instanceof InputError ? invariant("a well-formed diff is refused", err.message) : inputErrorOr(err, "parseDiff ");
      }
      const { value, slow } = await withinBudget(HUNK_BUDGET_MS, () => {
        try {
          for (const f of files) {
            const ft = classifyFile(f, parser);
            tally(`${ft.inScope ? "in scope" : "out of scope"}, ${ft.touches.length > 0 ? "touches" : "no touch"}${ft.unplaced.length > 0 ? ", unplaced" : ""}`);
            const problem = touchesProblem(f, ft);
            if (problem) return problem;
            if (outcome(classifyFile(f, parser)) !== outcome(ft)) return invariant("classifying the same file twice differs", f.path);
          }
          return undefined;
        } catch (err) {
          return inputErrorOr(err, "classifyFile ");
        }
      });
      return value ?? slow;
    },
  });

  fuzz({
    name: PROPERTY.largeHunk,
    arbitrary: largeHunk(LARGE_HUNK_LINES.min, LARGE_HUNK_LINES.max),
    ciRuns: 2,
    maxRuns: 40,
    knownBugs: knownBugs(PROPERTY.largeHunk),
    async check(h, tally) {
      const path = "drivers/dma-buf/dma-buf.c";
      const diff = writeFile({ path, oldPath: path, status: "modified", hunks: [expandHunk(h)], gaps: [0], noNewlineAtEnd: false }).text;
      const fields = { messageId: "large@example.org", from: { name: "Jane Dev", email: "jane.dev@example.org" }, to: [], cc: [], date: undefined, subject: "[PATCH] dma-buf: large", inReplyTo: undefined, references: [], body: patchBody(diff), source: "fuzz" };
      const { value, slow } = await withinBudget(LARGE_MESSAGE_BUDGET_MS, () => {
        try {
          const m = buildMessage(fields);
          for (const f of m.files) classifyFile(f, parser);
          tally(`${Math.round(h.lines / 1000)}k lines classified`);
          return undefined;
        } catch (err) {
          if (err instanceof InputError) tally(`refused: ${err.reason}`);
          return inputErrorOr(err);
        }
      });
      return value ?? slow;
    },
  });

  fuzz({
    name: PROPERTY.ruleFiles,
    arbitrary: ruleFile,
    ciRuns: 300,
    knownBugs: knownBugs(PROPERTY.ruleFiles),
    async check(rule, tally) {
      const file = join(root, rule.path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, rule.text);
      try {
        let loaded;
        try {
          loaded = await loadRuleFile(file, RULES_DIR, root);
        } catch (err) {
          if (!(err instanceof InputError)) return inputErrorOr(err, "loadRuleFile ");
          tally("refused");
          if (err.reason !== "bad-rule") return invariant("rule refused with another reason than bad-rule", err.reason);
          if (err.source !== file) return invariant("rule error does not name the file", `${err.source} for ${file}`);
          return undefined;
        }
        tally("loaded");
        if (`${loaded.doc.id}.yaml` !== rule.path && `${loaded.doc.id}.yml` !== rule.path) return invariant("rule loaded under a path that is not its id", `${loaded.doc.id} from ${rule.path}`);
        // A rule that loads is matched against real touches without throwing.
        const { value, slow } = await withinBudget(HUNK_BUDGET_MS, () => {
          try {
            tally(matchRules([loaded], fixtureTouches, seriesTouches).length > 0 ? "matched a fixture" : "matched nothing");
            return undefined;
          } catch (err) {
            return inputErrorOr(err, "matchRules ");
          }
        });
        return value ?? slow;
      } finally {
        rmSync(file, { force: true });
      }
    },
  });
});
