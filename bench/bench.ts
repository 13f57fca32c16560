import { performance } from "node:perf_hooks";
import { loadRules } from "../src/analysis/rules/load.js";
import { matchRules, type SeriesTouch } from "../src/analysis/rules/match.js";
import { classifyFile } from "../src/analysis/touch.js";
import { splitMbox } from "../src/ingest/mbox/reader.js";
import { parseMime } from "../src/ingest/mime.js";
import { CParser } from "../src/patch/c-source.js";
import { buildMessage, type Message } from "../src/patch/message.js";
import { groupSeries } from "../src/patch/series.js";
import { reviewSeries } from "../src/review/review-series.js";
import { generateMbox } from "./generate.js";
import { benchUserspace } from "./userspace.js";
import { benchTrack } from "./track.js";
import { benchForges } from "./forges.js";
import { benchPublicInbox } from "./public-inbox.js";
import { benchLarge } from "./large.js";
import { loadCatalog } from "../src/analysis/catalog/load.js";
import { loadMessages } from "../src/ingest/mbox/messages.js";
import { compareOutcomes } from "../src/model/compare.js";
import { benchReal } from "./real.js";
import { benchStartup } from "./startup.js";

const COUNT = Number(process.env["BENCH_MESSAGES"] ?? 10_000);

function fmt(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: 0 });
}

async function main() {
  // BENCH_ONLY=model: the model's figures alone, without the 10,000-message run.
  if (process.env["BENCH_ONLY"] === "model") return benchModel(await CParser.load());
  // `npm run bench -- --real`: only what a user of the real list sees (one-patch start-up, the real archive).
  if (process.argv.includes("--real")) {
    await benchStartup();
    await benchReal();
    return;
  }
  const [rules, parser] = await Promise.all([loadRules(), CParser.load()]);
  const mbox = Buffer.from(generateMbox(COUNT), "utf8");
  console.log(`dmabuf-review bench: ${fmt(COUNT)} generated messages, ${(mbox.length / 1e6).toFixed(1)} MB mbox, ${rules.length} rules`);

  const t0 = performance.now();
  const raws = splitMbox(mbox, "bench");
  const t1 = performance.now();
  const messages: Message[] = [];
  let skipped = 0;
  for (const raw of raws) {
    try {
      messages.push(buildMessage(await parseMime(raw)));
    } catch {
      skipped++;
    }
  }
  const t2 = performance.now();
  let touches = 0;
  let findings = 0;
  for (const m of messages) {
    if (m.kind !== "patch") continue;
    const files = m.files.map((f) => classifyFile(f, parser));
    const seriesTouches: SeriesTouch[] = files.flatMap((file) => file.touches.map((touch) => ({ touch, patch: 1, file })));
    touches += seriesTouches.length;
    findings += matchRules(rules, files.filter((f) => f.inScope), seriesTouches).length;
  }
  const t3 = performance.now();
  const grouped = groupSeries(messages);
  let reviewed = 0;
  for (const s of grouped.series) reviewed += reviewSeries(s, rules, parser).patches.length;
  const t4 = performance.now();

  const patches = messages.filter((m) => m.kind === "patch").length;
  const rate = (n: number, ms: number) => `${fmt((n / ms) * 1000)} msg/s`;
  console.log(`split mbox           ${(t1 - t0).toFixed(0).padStart(6)} ms  ${rate(raws.length, t1 - t0)}`);
  console.log(`MIME + patch parse   ${(t2 - t1).toFixed(0).padStart(6)} ms  ${rate(raws.length, t2 - t1)}  (${skipped} skipped)`);
  console.log(`classify + rules     ${(t3 - t2).toFixed(0).padStart(6)} ms  ${rate(patches, t3 - t2)}  (${fmt(patches)} patches, ${fmt(touches)} touches, ${fmt(findings)} findings)`);
  console.log(`group + review       ${(t4 - t3).toFixed(0).padStart(6)} ms  ${rate(patches, t4 - t3)}  (${fmt(grouped.series.length)} series, ${fmt(reviewed)} patches)`);
  console.log(`parse + classify     ${(t3 - t0).toFixed(0).padStart(6)} ms  ${rate(raws.length, t3 - t0)}  end to end over all messages`);
  console.log(`peak RSS             ${fmt(process.resourceUsage().maxRSS / 1024)} MB`);
  await benchStartup();
  await benchModel(parser);
  benchUserspace(await loadRules(), parser, await loadCatalog());
  await benchTrack(rules, parser);
  await benchLarge();
  await benchForges();
  await benchPublicInbox();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The model: the whole matrix before and after one patch's effects, with a cold search cache. */
async function benchModel(parser: CParser) {
  const catalog = await loadCatalog();
  const rules = await loadRules();
  const loaded = await loadMessages(new URL("../../fixtures/series/dma-coherent-v1.mbox", import.meta.url).pathname);
  const grouped = groupSeries(loaded.messages);
  const series = grouped.series[0]!;
  // Effects of the whole 2022 series: a gate and three flag settings.
  const review = reviewSeries(series, rules, parser, { catalog, cache: new Map() });
  const effects = review.model?.result.effects ?? [];
  // The matrix without patches is evaluated once per catalog and kept (compare.ts); a shallow
  // copy of the catalog is a new key, so "cold" below pays for both matrices and every search.
  const time = (cat: typeof catalog, runs: number, cold: boolean) => {
    const ms: number[] = [];
    let evaluated = 0;
    let searches = 0;
    for (let i = 0; i < runs; i++) {
      const cache = new Map();
      const world = cold ? { ...cat } : cat;
      const t = performance.now();
      evaluated = compareOutcomes(world, effects, cache).evaluated;
      ms.push(performance.now() - t);
      searches = cache.size;
    }
    return { ms: median(ms), evaluated, searches };
  };
  time(catalog, 5, true); // warm the JIT
  const cold = time(catalog, 15, true);
  console.log(`model, one series    ${cold.ms.toFixed(1).padStart(6)} ms  median of 15, nothing kept: ${fmt(cold.evaluated)} configurations before and after, ${fmt(cold.searches)} distinct searches (target < 50 ms)`);
  // The same with an exporter the model derives from code (a new driver with cached pages) in the matrix.
  const added = await loadMessages(new URL("../../fixtures/model/grab-cached-exporter-new.patch", import.meta.url).pathname);
  const derived = reviewSeries(groupSeries(added.messages).series[0]!, rules, parser, { catalog, cache: new Map() });
  const withDerived = [...effects, ...(derived.model?.result.effects.filter((e) => e.kind === "new-exporter") ?? [])];
  const dms: number[] = [];
  let devaluated = 0;
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    devaluated = compareOutcomes({ ...catalog }, withDerived, new Map()).evaluated;
    dms.push(performance.now() - t);
  }
  console.log(`model, + derived     ${median(dms).toFixed(1).padStart(6)} ms  median of 15, nothing kept: the 2022 series with a derived exporter (foo-grab, cached pages) added, ${fmt(devaluated)} configurations (target < 50 ms)`);
  const warm = time(catalog, 15, false);
  console.log(`model, matrix kept   ${warm.ms.toFixed(1).padStart(6)} ms  median of 15, the matrix without patches already evaluated for this catalog (every review after the first)`);
  const reviewT: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    reviewSeries(series, rules, parser, { catalog, cache: new Map() });
    reviewT.push(performance.now() - t);
  }
  console.log(`review + model       ${median(reviewT).toFixed(1).padStart(6)} ms  the whole dma_coherent series, classification, rules and model`);
  // Growth with the catalog: copies of every exporter and importer under new ids.
  for (const k of [2, 4]) {
    const grown = {
      ...catalog,
      exporters: Array.from({ length: k }, (_, i) => catalog.exporters.map((e) => ({ ...e, id: i === 0 ? e.id : `${e.id}~${i}` }))).flat(),
      importers: Array.from({ length: k }, (_, i) => catalog.importers.map((e) => ({ ...e, id: i === 0 ? e.id : `${e.id}~${i}` }))).flat(),
    };
    const r = time(grown, 7, true);
    console.log(`model, catalog x${k}    ${r.ms.toFixed(1).padStart(6)} ms  ${fmt(r.evaluated)} configurations, ${fmt(r.searches)} distinct searches`);
  }
}

await main();
