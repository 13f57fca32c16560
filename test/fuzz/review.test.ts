import { beforeAll, describe } from "vitest";
import { loadReviewDeps, type ReviewDeps } from "../../src/channels/context.js";
import { loadOne } from "../../src/ingest/mbox/messages.js";
import type { Message } from "../../src/patch/message.js";
import type { Skip } from "../../src/review/review.js";
import { reviewMessages } from "../../src/review/review.js";
import { seriesMails } from "./gen/series-mail.js";
import { toBuffer } from "./gen/mime.js";
import { fuzz, inputErrorOr, INPUT_REASONS, invariant, withinBudget, type Failure } from "./harness.js";
import { knownBugs, PROPERTY } from "./known-bugs.js";
import { reportableLines } from "./lines.js";

/** The forges' patience: GitHub and GitLab give up on a delivery after ten seconds. */
const REVIEW_BUDGET_MS = 10_000;
const SEVERITIES = new Set(["info", "warning", "error"]);

describe("fuzz: review", () => {
  let deps: ReviewDeps;
  let ruleIds: Set<string>;
  beforeAll(async () => {
    deps = await loadReviewDeps();
    ruleIds = new Set(deps.rules.map((r) => r.doc.id));
  });

  function reviewProblem(messages: readonly Message[], skipped: readonly Skip[], tally: (l: string) => void): Failure | undefined {
    const review = reviewMessages(messages, skipped, deps.rules, deps.parser, deps.model);
    const findings = review.series.flatMap((s) => s.patches.flatMap((p) => p.findings));
    tally(findings.length === 0 ? "no finding" : findings.some((f) => f.rule.startsWith("model/")) ? "rule and model findings" : "rule findings");
    for (const s of review.series) {
      for (const p of s.patches) {
        if (p.index < 1 || p.index > s.series.total) return invariant("patch index outside its series", `${p.index} of ${s.series.total}`);
        for (const f of p.findings) {
          const where = `${f.rule} at ${f.file}:${f.line}`;
          // A hazard a patch removes is named fixed/<rule id>.
          if (!ruleIds.has(f.rule.replace(/^fixed\//, "")) && !f.rule.startsWith("model/")) return invariant("finding names no rule", where);
          if (!SEVERITIES.has(f.severity) || !f.risk || !f.fingerprint) return invariant("finding without severity, risk or fingerprint", where);
          if (f.patch !== p.index) return invariant("finding filed under another patch", `${where}: patch ${f.patch} in ${p.index}`);
          const file = p.message.files.find((x) => x.path === f.file);
          if (!file) return invariant("finding in a file the patch does not change", where);
          if (!reportableLines(file).newLines.has(f.line)) return invariant("finding outside the diff", where);
          const placeholder = /\{[\w.]+\}/.exec(f.message);
          if (placeholder) return invariant("finding message keeps a template placeholder", `${f.rule}: ${placeholder[0]} in "${f.message}"`);
        }
      }
    }
    return undefined;
  }

  fuzz({
    name: PROPERTY.review,
    arbitrary: seriesMails,
    ciRuns: 60,
    knownBugs: knownBugs(PROPERTY.review),
    async check(raws, tally) {
      const messages: Message[] = [];
      const skipped: Skip[] = [];
      for (const [i, raw] of raws.entries()) {
        try {
          const r = await loadOne({ bytes: toBuffer(raw), source: `fuzz#${i + 1}` });
          if ("kind" in r) messages.push(r);
          else if (!INPUT_REASONS.has(r.reason as never)) return invariant("skip with an unknown reason", r.reason);
          else skipped.push(r);
        } catch (err) {
          return inputErrorOr(err, "loadOne ");
        }
      }
      if (skipped.length > 0) tally(`skipped: ${skipped.map((k) => k.reason).join(", ")}`);
      const { value, slow } = await withinBudget(REVIEW_BUDGET_MS, () => {
        try {
          return reviewProblem(messages, skipped, tally);
        } catch (err) {
          return inputErrorOr(err, "reviewMessages ");
        }
      });
      return value ?? slow;
    },
  });
});
