import { join } from "node:path";
import type { Logger } from "pino";
import { loadConfig } from "../config/config.js";
import { lazyReviewDeps, makeLogger, type ChannelContext, type Running } from "../channels/context.js";
import { bindHttp, type BoundServer } from "../channels/listen.js";
import { MailHealth } from "../channels/mail-health.js";
import { startMailChannel } from "../channels/mail.js";
import { settlesWithin, SHUTDOWN_GRACE_MS, startServer } from "../channels/server.js";
import { Store } from "../state/store.js";
import { checkMirrors } from "./mirrors.js";
import { mirrorProgress } from "./progress.js";

export interface WatchOptions {
  readonly config?: string;
  /** Stop after one pass over every mirror (tests, cron). */
  readonly once?: boolean;
}

// What the mail channel gets beyond the grace time to end its page in hand.
const MAIL_STOP_MARGIN_MS = 2_000;

const SIGINT_NUMBER = 2;

/**
 * SIGINT and SIGTERM: the first asks for a clean stop; a Ctrl-C after that exits at once. A
 * repeated SIGTERM (a supervisor insisting) does not cut the grace time short: the stop is
 * bounded anyway. Listening from the start, so a signal during the first pass is not lost.
 */
function stopSignals(log: Logger) {
  let stop: () => void = () => undefined;
  const requested = new Promise<void>((resolve) => (stop = resolve));
  let seen = false;
  const on = (signal: "SIGINT" | "SIGTERM") => {
    if (seen && signal === "SIGINT") {
      process.stderr.write("dmabuf-review: SIGINT again: exiting now\n");
      process.exit(128 + SIGINT_NUMBER);
    }
    if (seen) return void log.info({ signal }, "already stopping");
    seen = true;
    log.info({ signal }, "stopping");
    stop();
  };
  const onInt = () => on("SIGINT");
  const onTerm = () => on("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  return {
    requested,
    remove() {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    },
  };
}

/**
 * The main job (`npm start`): the HTTP server for the forges and the mail channel, sharing one
 * store and one loaded rule set. The port is taken first, so a port in use ends the start before
 * anything slow and before any mail is read. On SIGINT/SIGTERM the server stops accepting, deliveries in hand get the
 * grace time (`http.shutdown-grace`, 10 s) and the rest are recorded as failed, the mail channel
 * ends its page in hand, and the process exits even if a forge API never answers.
 */
export async function watchCommand(opts: WatchOptions): Promise<number> {
  const config = await loadConfig(opts.config);
  checkMirrors(config, opts.config);
  const log = makeLogger();
  const store = Store.open(join(config.dataDir, "state.db"));
  const signals = stopSignals(log);
  let bound: BoundServer | undefined;
  try {
    // The port first: one taken ends the start here, before rules load and mail is read.
    if (!opts.once) bound = await bindHttp(config.http);
    const ctx: ChannelContext = { config, store, review: lazyReviewDeps(), log };
    if (opts.once) {
      const mail = await startMailChannel(ctx, { once: true, progress: (name) => mirrorProgress(`watch ${name}`) });
      await mail.stop();
      return 0;
    }
    const graceMs = (config.http.shutdownGraceSeconds ?? SHUTDOWN_GRACE_MS / 1000) * 1000;
    const mailHealth = new MailHealth(store, config);
    const server = await startServer(ctx, { bound: bound!, mail: mailHealth, shutdownGraceMs: graceMs });
    bound = undefined; // the server owns it now
    let mail: Running;
    try {
      mail = await startMailChannel(ctx, {
        onPass: (m, outcome) => mailHealth.passed(m, outcome),
        progress: (name) => mirrorProgress(`watch ${name}`),
      });
    } catch (err) {
      await server.stop();
      throw err;
    }
    await signals.requested;
    process.stderr.write(`dmabuf-review: stopping (deliveries in hand get up to ${graceMs / 1000} s); Ctrl-C again exits at once\n`);
    const stopped = await settlesWithin(graceMs + MAIL_STOP_MARGIN_MS, Promise.all([server.stop(), mail.stop()]));
    if (!stopped) log.warn({ graceMs }, "stopping took longer than the grace time; exiting anyway");
    // A request to an API that never answers (or a git fetch) would keep the event loop alive;
    // everything owed to the store is recorded by now.
    setTimeout(() => process.exit(0), 200).unref();
    return 0;
  } finally {
    await bound?.close();
    signals.remove();
    store.close();
  }
}
