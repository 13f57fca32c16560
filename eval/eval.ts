/**
 * `npm run eval`: review the labelled development set (eval/devset) with the bot's own pipeline,
 * reading each series' messages from the real archive at run time, and print how the warnings
 * compare with the labels (see score.ts for the matching). A benchmark: it prints figures and
 * exits 0 whatever they are; 2 when the archive or the labels cannot be read.
 *
 *   npm run eval -- [--devset DIR] [--archive BUNDLE] [--out DIR] [--rules DIR]
 *
 * --out DIR writes the full review text of each labelled series to DIR/<id>.txt.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadCatalog } from "../src/analysis/catalog/load.js";
import { loadRules } from "../src/analysis/rules/load.js";
import type { Rule } from "../src/analysis/rules/match.js";
import { loadOne } from "../src/ingest/mbox/messages.js";
import { CParser } from "../src/patch/c-source.js";
import type { Message } from "../src/patch/message.js";
import { groupSeries } from "../src/patch/series.js";
import { renderText } from "../src/review/render/text.js";
import type { Skip } from "../src/review/review.js";
import { reviewSeries, type ModelContext, type SeriesReview } from "../src/review/review-series.js";
import { findArchiveBundle, openArchive, projectRoot, type Archive } from "./archive.js";
import { readDevset, type LabelledMessage, type LabelledSeries } from "./devset.js";
import { feedbackSection } from "./feedback.js";
import { renderReport, type RunFacts } from "./report.js";
import { score, type PlacedFinding } from "./score.js";

export interface SeriesOutcome {
  readonly labelled: LabelledSeries;
  readonly reviews: readonly SeriesReview[];
  readonly skipped: readonly Skip[];
  /** Labelled messages whose commit holds no message. */
  readonly missing: readonly LabelledMessage[];
  readonly failed: readonly string[];
}

export interface Pipeline {
  readonly rules: readonly Rule[];
  readonly parser: CParser;
  readonly model: ModelContext;
}

/** What `dmabuf-review review` loads before it reviews anything. */
export async function loadPipeline(rulesDir?: string): Promise<Pipeline> {
  const [rules, catalog, parser] = await Promise.all([loadRules(rulesDir), loadCatalog(), CParser.load()]);
  return { rules, parser, model: { catalog, cache: new Map() } };
}

/** Read one labelled series' messages from the archive and review them as the CLI would. */
export async function reviewLabelled(labelled: LabelledSeries, archive: Archive, pipeline: Pipeline): Promise<SeriesOutcome> {
  const bytes = await archive.read(labelled.messages.map((m) => m.commit));
  const messages: Message[] = [];
  const skipped: Skip[] = [];
  const missing: LabelledMessage[] = [];
  for (const m of labelled.messages) {
    const raw = bytes.get(m.commit);
    if (!raw) {
      missing.push(m);
      continue;
    }
    const r = await loadOne({ bytes: raw, source: `archive:${m.commit}` });
    if ("kind" in r) messages.push(r);
    else skipped.push(r);
  }
  const reviews: SeriesReview[] = [];
  const failed: string[] = [];
  for (const series of groupSeries(messages).series) {
    try {
      reviews.push(reviewSeries(series, pipeline.rules, pipeline.parser, pipeline.model));
    } catch (err) {
      failed.push(`${labelled.id}: <${series.id}>: review-failed: ${(err as Error).message}`);
    }
  }
  return { labelled, reviews, skipped, missing, failed };
}

/** Every finding of the reviews, placed on the labelled revision and patch of its message. */
export function placeFindings(o: SeriesOutcome): PlacedFinding[] {
  const byId = new Map(o.labelled.messages.map((m) => [m.messageId, m]));
  const out: PlacedFinding[] = [];
  for (const r of o.reviews) {
    for (const p of r.patches) {
      const label = byId.get(p.message.messageId);
      for (const f of p.findings) {
        out.push({
          series: o.labelled,
          messageId: p.message.messageId,
          version: label?.version ?? r.series.revision,
          patch: label?.index ?? p.index,
          rule: f.rule,
          severity: f.severity,
          risk: f.risk,
          file: f.file,
          line: f.line,
          function: f.function,
          message: f.message,
        });
      }
    }
  }
  return out;
}

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: { devset: { type: "string" }, archive: { type: "string" }, out: { type: "string" }, rules: { type: "string" } },
  });
  const bundle = values.archive ?? findArchiveBundle();
  if (!bundle) {
    process.stderr.write("eval: no archive: ../shared/archives/linaro-mm-sig-2019-2022.bundle not found (give --archive)\n");
    return 2;
  }
  const devset = readDevset(values.devset ?? join(projectRoot(), "eval", "devset"));
  const pipeline = await loadPipeline(values.rules);
  const archive = openArchive(bundle);
  const outcomes: SeriesOutcome[] = [];
  let feedback = "";
  const started = performance.now();
  // Progress on a terminal only: a redirected stderr keeps one closing line.
  const tty = process.stderr.isTTY === true;
  try {
    for (const [i, labelled] of devset.entries()) {
      if (tty) process.stderr.write(`\reval: ${i + 1}/${devset.length} ${labelled.id}`.padEnd(72));
      outcomes.push(await reviewLabelled(labelled, archive, pipeline));
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stderr.write(`${tty ? "\r" : ""}eval: ${devset.length} labelled series reviewed in ${seconds} s`.padEnd(tty ? 72 : 0) + "\n");
    feedback = await feedbackSection(values.devset ?? join(projectRoot(), "eval", "devset"), archive, pipeline);
  } finally {
    await archive.close();
  }
  if (values.out) {
    mkdirSync(values.out, { recursive: true });
    for (const o of outcomes) {
      const text = renderText({ series: o.reviews, skipped: o.skipped, orphanReplies: [] });
      writeFileSync(join(values.out, `${o.labelled.id}.txt`), `# ${o.labelled.id} (${o.labelled.kind})\n\n${text}`);
    }
  }
  const facts: RunFacts = {
    archive: `${bundle} (real archive)`,
    positives: devset.filter((s) => s.kind === "positive").length,
    negatives: devset.filter((s) => s.kind === "negative").length,
    revisionsLabelled: devset.reduce((n, s) => n + new Set(s.messages.map((m) => m.version)).size, 0),
    messagesRead: outcomes.reduce((n, o) => n + o.labelled.messages.length - o.missing.length, 0),
    messagesMissing: outcomes.reduce((n, o) => n + o.missing.length, 0),
    skipped: outcomes.flatMap((o) => [
      ...o.skipped.map((k) => `${o.labelled.id}: ${k.source}${k.messageId ? ` <${k.messageId}>` : ""}: ${k.reason}: ${k.detail}`),
      ...o.failed,
    ]),
    seriesReviewed: outcomes.reduce((n, o) => n + o.reviews.length, 0),
  };
  process.stdout.write(renderReport(facts, score(devset, outcomes.flatMap(placeFindings))) + `\n${feedback}`);
  process.stdout.write(await (await import("./userspace.js")).userspaceSection(pipeline));
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`eval: ${err.message}\n`);
      process.exit(2);
    },
  );
}
