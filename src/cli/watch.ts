import { join } from "node:path";
import { loadConfig } from "../config/config.js";
import { loadReviewDeps, makeLogger, type ChannelContext, type Running } from "../channels/context.js";
import { startMailChannel } from "../channels/mail.js";
import { startServer } from "../channels/server.js";
import { Store } from "../state/store.js";
import { checkMirrors } from "./mirrors.js";
import { mirrorProgress } from "./progress.js";

export interface WatchOptions {
  readonly config?: string;
  /** Stop after one pass over every mirror (tests, cron). */
  readonly once?: boolean;
}

/**
 * The main job (`npm start`): the mail channel and the HTTP server for the forges, sharing one
 * store and one loaded rule set. SIGINT/SIGTERM finish the batch in hand, then exit.
 */
export async function watchCommand(opts: WatchOptions): Promise<number> {
  const config = await loadConfig(opts.config);
  checkMirrors(config, opts.config);
  const log = makeLogger();
  const store = Store.open(join(config.dataDir, "state.db"));
  const ctx: ChannelContext = { config, store, review: await loadReviewDeps(), log };
  // Listening from the start: a signal during the first pass (the demo, a backfill) still
  // finishes the batch in hand instead of killing the process.
  const signalled = new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
  const running: Running[] = [];
  running.push(await startMailChannel(ctx, { once: opts.once, progress: (name) => mirrorProgress(`watch ${name}`) }));
  if (!opts.once) running.push(await startServer(ctx));
  const stop = async () => {
    for (const r of running.reverse()) await r.stop();
    store.close();
  };
  if (opts.once) {
    await stop();
    return 0;
  }
  await signalled;
  await stop();
  return 0;
}
