import { existsSync, statSync } from "node:fs";
import type { Config } from "../config/config.js";
import { InputError } from "../errors.js";
import { listEpochs } from "../ingest/public-inbox/reader.js";

/**
 * Every configured mirror must be readable before the bot starts: an inbox that does not exist
 * and has no remote to clone it from would otherwise be logged once per poll while the job
 * reports success. One error lists every such mirror.
 */
export function checkMirrors(config: Config, source?: string): void {
  const problems: string[] = [];
  for (const m of config.mail.mirrors) {
    if (m.remote) continue; // the first pass clones what is missing
    if (!existsSync(m.inbox)) {
      problems.push(`mirror ${m.name}: inbox ${m.inbox} does not exist, and the mirror has no remote to clone it from`);
      continue;
    }
    if (statSync(m.inbox).isFile()) continue; // an mbox file as a mirror
    try {
      listEpochs(m.inbox);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      problems.push(`mirror ${m.name}: inbox ${m.inbox}: ${err.detail}`);
    }
  }
  if (problems.length > 0) throw new InputError("bad-config", problems.join("; "), source);
}
