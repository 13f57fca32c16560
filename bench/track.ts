import { performance } from "node:perf_hooks";
import { loadCatalog } from "../src/analysis/catalog/load.js";
import type { Rule } from "../src/analysis/rules/match.js";
import { trackAll } from "../src/feedback/track.js";
import { loadMessages } from "../src/ingest/mbox/messages.js";
import type { CParser } from "../src/patch/c-source.js";
import { buildMessage, type Message } from "../src/patch/message.js";
import { groupSeries } from "../src/patch/series.js";

const REPLIES = 50;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * The dma_coherent v1 -> v2 fixture with its v1 thread grown to 50 replies: the reviewers'
 * replies copied under new names and Message-IDs, each an hour after the last, the author's
 * two answers kept. Copies restate the originals, so restatement merging is exercised too.
 */
export function thread50(messages: readonly Message[]): Message[] {
  const author = messages.find((m) => m.kind === "cover")!.from.email;
  const series = messages.filter((m) => m.kind !== "reply");
  const answers = messages.filter((m) => m.kind === "reply" && m.from.email === author);
  const reviews = messages.filter((m) => m.kind === "reply" && m.from.email !== author && m.date! < series.find((s) => s.parsedSubject.revision === 2)!.date!);
  const copies: Message[] = [];
  const start = Date.UTC(2022, 9, 21, 0, 0);
  for (let i = 0; copies.length + answers.length < REPLIES; i++) {
    const m = reviews[i % reviews.length]!;
    copies.push(
      buildMessage({
        ...m,
        messageId: `bench-reply-${i}@example.org`,
        from: { name: `${m.from.name} ${Math.floor(i / reviews.length) + 1}`, email: `reviewer${i}@example.org` },
        date: new Date(start + i * 3_600_000),
      }),
    );
  }
  return [...series, ...copies, ...answers];
}

/** Tracking time for one series with 50 replies on v1: items, verdicts, model re-run on both revisions. */
export async function benchTrack(rules: readonly Rule[], parser: CParser): Promise<void> {
  const catalog = await loadCatalog();
  const loaded = await loadMessages(new URL("../../fixtures/feedback/dma-coherent/v1-v2.mbox", import.meta.url).pathname);
  const messages = thread50(loaded.messages);
  const all = groupSeries(messages).series;
  const run = () => trackAll(all, { rules, parser, model: { catalog, cache: new Map() } });
  run(); // warm the JIT
  const ms: number[] = [];
  let result = run();
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    result = run();
    ms.push(performance.now() - t);
  }
  const r = result[0]!;
  const tracked = r.kind === "tracked" ? r.tracker : undefined;
  const replies = messages.filter((m) => m.kind === "reply").length;
  console.log(
    `track, ${replies} replies    ${median(ms).toFixed(1).padStart(6)} ms  median of 7, dma_coherent v1 -> v2: ${tracked?.items.length ?? 0} items, ${tracked?.restatements ?? 0} restatements merged, model re-run on both revisions, cold search cache`,
  );
}
