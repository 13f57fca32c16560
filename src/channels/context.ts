import { pino, type DestinationStream, type LogFn, type Logger } from "pino";
import { prettyFactory } from "pino-pretty";
import { loadCatalog } from "../analysis/catalog/load.js";
import { loadRules } from "../analysis/rules/load.js";
import type { Rule } from "../analysis/rules/match.js";
import type { Config } from "../config/config.js";
import { InputError } from "../errors.js";
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

/**
 * The review's dependencies, or how to load them. A process whose reviews all run in worker
 * threads never needs them on its own thread: the grammars and the rules are tens of megabytes
 * that thread would hold for nothing.
 */
export type ReviewSource = ReviewDeps | (() => Promise<ReviewDeps>);

/** Loads the dependencies on first use, once. */
export function lazyReviewDeps(): () => Promise<ReviewDeps> {
  let loading: Promise<ReviewDeps> | undefined;
  return () => (loading ??= loadReviewDeps());
}

export async function reviewDepsOf(source: ReviewSource): Promise<ReviewDeps> {
  return typeof source === "function" ? source() : source;
}

/** Everything a channel is started with. */
export interface ChannelContext {
  readonly config: Config;
  readonly store: Store;
  readonly review: ReviewSource;
  readonly log: Logger;
}

/** A running channel: stop() finishes the batch in hand and releases its resources. */
export interface Running {
  readonly name: string;
  stop(): Promise<void>;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogOptions {
  /** Default level when LOG_LEVEL is not set: "info" for the service, "warn" for one-shot commands. */
  readonly level?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Where the lines go: stderr, so that stdout holds only a command's result. */
  readonly stream?: NodeJS.WritableStream & { readonly isTTY?: boolean };
}

/** LOG_LEVEL and LOG_FORMAT, checked: a wrong value names the variable and the allowed ones. */
export function logSettings(opts: LogOptions = {}): { level: string; format: LogFormat } {
  const env = opts.env ?? process.env;
  const stream = opts.stream ?? process.stderr;
  const level = env["LOG_LEVEL"] || opts.level || "info";
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new InputError("bad-config", `LOG_LEVEL=${level} is not a level; use one of ${LOG_LEVELS.join(", ")}`);
  }
  const format = env["LOG_FORMAT"] || (stream.isTTY ? "pretty" : "json");
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new InputError("bad-config", `LOG_FORMAT=${format} is not a format; use one of ${LOG_FORMATS.join(", ")}`);
  }
  return { level, format: format as LogFormat };
}

/**
 * Bindings repeated down a chain of children (Probot binds `name` again on every child of the
 * logger it is given) would be written once per link by pino, and a JSON line with a key twice is read
 * differently by every consumer. Each child keeps one value per key, the innermost.
 */
function uniqueBindings(child: Logger): void {
  const record = child as unknown as Record<symbol, string>;
  const chindings = record[pino.symbols.chindingsSym] ?? "";
  if (chindings === "") return;
  const merged = JSON.stringify(JSON.parse(`{${chindings.slice(1)}}`) as Record<string, unknown>);
  record[pino.symbols.chindingsSym] = merged === "{}" ? "" : `,${merged.slice(1, -1)}`;
}

/**
 * A call's own field wins over a binding of the same name ({ component: "review-pool" } logged
 * through the server's { component: "http" } child): written once, with the call's value.
 */
function callOverBindings(this: Logger, args: Parameters<LogFn>, method: LogFn): void {
  const first = args[0] as unknown;
  const chindings = (this as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? "";
  if (chindings !== "" && first !== null && typeof first === "object" && !(first instanceof Error)) {
    const clash = Object.keys(first).filter((k) => chindings.includes(`"${k}":`) && k in this.bindings());
    if (clash.length > 0) {
      const own: Record<string, unknown> = { ...(first as Record<string, unknown>) };
      const over: Record<string, unknown> = {};
      for (const k of clash) {
        over[k] = own[k];
        delete own[k];
      }
      method.apply(this.child(over), [own, ...args.slice(1)] as Parameters<LogFn>);
      return;
    }
  }
  method.apply(this, args);
}

/**
 * The process logger, always on stderr: human lines on a terminal (pino-pretty), JSON lines
 * otherwise or with LOG_FORMAT=json; the level from LOG_LEVEL.
 */
export function makeLogger(opts: LogOptions = {}): Logger {
  const { level, format } = logSettings(opts);
  const stream = opts.stream ?? process.stderr;
  let destination: DestinationStream;
  if (format === "pretty") {
    const pretty = prettyFactory({ colorize: stream.isTTY === true, singleLine: true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname" });
    destination = { write: (line: string) => void stream.write(pretty(line)) };
  } else {
    destination = opts.stream ? { write: (line: string) => void stream.write(line) } : pino.destination({ dest: 2, sync: true });
  }
  return pino({ level, base: undefined, onChild: uniqueBindings, hooks: { logMethod: callOverBindings } }, destination);
}
