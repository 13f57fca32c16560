import { pino, type Logger } from "pino";
import { loadCatalog } from "../analysis/catalog/load.js";
import { loadRules } from "../analysis/rules/load.js";
import type { Rule } from "../analysis/rules/match.js";
import type { Config } from "../config/config.js";
import { CParser } from "../patch/c-source.js";
import type { ModelContext } from "../review/review-series.js";
import type { Store } from "../state/store.js";

/** What the core review needs, loaded once per process and shared by every channel. */
export interface ReviewDeps {
  readonly rules: readonly Rule[];
  readonly parser: CParser;
  readonly model: ModelContext;
}

export async function loadReviewDeps(): Promise<ReviewDeps> {
  const [rules, catalog, parser] = await Promise.all([loadRules(), loadCatalog(), CParser.load()]);
  return { rules, parser, model: { catalog, cache: new Map() } };
}

/** Everything a channel is started with. */
export interface ChannelContext {
  readonly config: Config;
  readonly store: Store;
  readonly review: ReviewDeps;
  readonly log: Logger;
}

/** A running channel: stop() finishes the batch in hand and releases its resources. */
export interface Running {
  readonly name: string;
  stop(): Promise<void>;
}

export function makeLogger(level = process.env["LOG_LEVEL"] ?? "info"): Logger {
  return pino({ level, base: undefined });
}
