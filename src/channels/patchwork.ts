import type { Logger } from "pino";
import type { MirrorConfig } from "../config/config.js";
import { apiRoot, PatchworkApi, type Answer } from "../publish/patchwork/api.js";
import { draftChecks } from "../publish/patchwork/draft.js";
import { retryDelaySeconds } from "../publish/retry.js";
import type { SeriesReview } from "../review/review-series.js";
import { PatchworkChecks, type CheckRow } from "../state/patchwork-checks.js";
import type { ChannelContext } from "./context.js";

/**
 * A check whose patch patchwork still lacks this long after the review is given up, with its
 * reason: patchwork parses mail minutes after the list, and is rarely down for days.
 */
export const GIVE_UP_SECONDS = 4 * 86_400;

export interface FlushStats {
  posted: number;
  waiting: number;
  refused: number;
}

/**
 * A mirror's patchwork checks: each review is intended in the ledger at once (so nothing is
 * lost to a crash or to patchwork being away), and flush() posts what is due. A check whose
 * POST went out but whose answer was lost is looked up on patchwork before it is posted again.
 */
export class PatchworkPublisher {
  private readonly key: string;

  constructor(
    private readonly ledger: PatchworkChecks,
    private readonly api: PatchworkApi,
    private readonly opts: {
      readonly context: string;
      readonly publicUrl: string | undefined;
      readonly log: Logger;
      readonly clock?: () => Date;
      /** Why nothing can be posted now (no token): checks are recorded and wait for a restart that fixes it. */
      readonly held?: string;
    },
  ) {
    this.key = `${apiRoot(api.project.url)} ${api.project.project}`;
  }

  /** Records the checks a review earns; returns how many wait to be posted. */
  intend(review: SeriesReview): number {
    const drafts = draftChecks(review, { context: this.opts.context, publicUrl: this.opts.publicUrl });
    return this.ledger.intend(this.key, drafts, this.now().toISOString());
  }

  async flush(): Promise<FlushStats> {
    const stats: FlushStats = { posted: 0, waiting: 0, refused: 0 };
    if (this.opts.held) {
      stats.waiting = this.ledger.due(this.key, this.now().toISOString()).length;
      if (stats.waiting > 0) this.opts.log.warn({ waiting: stats.waiting }, `patchwork checks wait: ${this.opts.held}`);
      return stats;
    }
    for (const row of this.ledger.due(this.key, this.now().toISOString())) {
      const answer = await this.deliver(row);
      if (answer.kind === "ok") stats.posted++;
      else if (answer.kind === "refused" || this.now().getTime() - Date.parse(row.intended_at) >= GIVE_UP_SECONDS * 1000) {
        this.ledger.refused(row, answer.reason);
        this.opts.log.warn({ patch: row.message_id, reason: answer.reason }, "patchwork check refused");
        stats.refused++;
      } else {
        // The waits every ledger-keeping publisher uses (publish/retry.ts).
        const wait = retryDelaySeconds(row.tries + 1);
        this.ledger.retry(row, answer.reason, new Date(this.now().getTime() + wait * 1000).toISOString());
        this.opts.log.debug({ patch: row.message_id, reason: answer.reason, wait }, "patchwork check waits");
        stats.waiting++;
      }
    }
    if (stats.posted + stats.waiting + stats.refused > 0) this.opts.log.info(stats, "patchwork checks flushed");
    return stats;
  }

  private async deliver(row: CheckRow): Promise<Answer<void>> {
    let patchId = row.patch_id;
    if (patchId === null) {
      const found = await this.api.findPatch(row.message_id);
      if (found.kind !== "ok") return found;
      patchId = found.value;
    }
    const check = {
      messageId: row.message_id,
      context: row.context,
      state: row.state as "success" | "warning" | "fail",
      description: row.description,
      targetUrl: row.target_url ?? undefined,
    };
    if (row.attempts > 0) {
      // The last POST of this result may have landed: posting it again would show it twice.
      const seen = await this.api.newestCheck(patchId, row.context);
      if (seen.kind !== "ok") return seen;
      const s = seen.value;
      if (s && s.state === check.state && s.description === check.description && s.targetUrl === check.targetUrl) {
        this.ledger.posted(row, undefined);
        return { kind: "ok", value: undefined };
      }
    }
    this.ledger.attempting(row, patchId);
    const posted = await this.api.postCheck(patchId, check);
    if (posted.kind !== "ok") return posted;
    this.ledger.posted(row, posted.value.url);
    return { kind: "ok", value: undefined };
  }

  private now(): Date {
    return this.opts.clock?.() ?? new Date();
  }
}

/** The mirror's publisher, or undefined when the mirror has no patchwork project. */
export function patchworkFor(ctx: ChannelContext, mirror: MirrorConfig, fetchFn?: typeof fetch): PatchworkPublisher | undefined {
  const pw = mirror.patchwork;
  if (!pw) return undefined;
  return new PatchworkPublisher(new PatchworkChecks(ctx.store.db), new PatchworkApi({ url: pw.url, project: pw.project }, pw.token ?? "", fetchFn), {
    context: pw.context,
    ...(pw.token ? {} : { held: "DMABUF_REVIEW_PATCHWORK_TOKEN is not set" }),
    publicUrl: ctx.config.publicUrl,
    log: ctx.log.child({ channel: "patchwork", mirror: mirror.name }),
  });
}
