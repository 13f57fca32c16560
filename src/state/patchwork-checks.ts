import { now, type Db } from "./db.js";

/** One patchwork check as the ledger holds it (table `patchwork_checks`, migration 019). */
export interface CheckRow {
  readonly project: string;
  readonly message_id: string;
  readonly context: string;
  readonly state: string;
  readonly description: string;
  readonly target_url: string | null;
  readonly status: "pending" | "posted" | "refused";
  readonly attempts: number;
  readonly tries: number;
  readonly next_try_at: string | null;
  readonly patch_id: number | null;
  readonly check_url: string | null;
  readonly last_error: string | null;
  /** When the result was recorded (ISO): a check older than its publisher's patience is given up. */
  readonly intended_at: string;
}

export interface IntendedCheck {
  readonly messageId: string;
  readonly context: string;
  readonly state: string;
  readonly description: string;
  readonly targetUrl: string | undefined;
}

type Key = Pick<CheckRow, "project" | "message_id" | "context">;

/** The ledger of patchwork checks; the channel that posts them owns it (publish/ never writes here). */
export class PatchworkChecks {
  constructor(private readonly db: Db) {}

  /**
   * Record what should be on patchwork; returns how many rows now wait to be posted. The same
   * result as the one recorded is left as it is (posted stays posted, a refusal stays refused).
   */
  intend(project: string, checks: readonly IntendedCheck[], at = now()): number {
    const get = this.db.prepare("SELECT state, description, target_url FROM patchwork_checks WHERE project = ? AND message_id = ? AND context = ?");
    const put = this.db.prepare(
      `INSERT INTO patchwork_checks (project, message_id, context, state, description, target_url, status, intended_at)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)
       ON CONFLICT (project, message_id, context) DO UPDATE SET state = excluded.state, description = excluded.description,
         target_url = excluded.target_url, status = 'pending', attempts = 0, tries = 0, next_try_at = NULL, last_error = NULL,
         intended_at = excluded.intended_at`,
    );
    let n = 0;
    this.db.transaction(() => {
      for (const c of checks) {
        const old = get.get(project, c.messageId, c.context) as Pick<CheckRow, "state" | "description" | "target_url"> | undefined;
        if (old && old.state === c.state && old.description === c.description && old.target_url === (c.targetUrl ?? null)) continue;
        put.run(project, c.messageId, c.context, c.state, c.description, c.targetUrl ?? null, at);
        n++;
      }
    })();
    return n;
  }

  /** Pending checks due at `at`, oldest intention first. */
  due(project: string, at: string, limit = 200): CheckRow[] {
    return this.db
      .prepare("SELECT * FROM patchwork_checks WHERE project = ? AND status = 'pending' AND (next_try_at IS NULL OR next_try_at <= ?) ORDER BY intended_at, message_id LIMIT ?")
      .all(project, at, limit) as CheckRow[];
  }

  /** Written before the POST leaves: after a crash, attempts > 0 says to ask patchwork first. */
  attempting(k: Key, patchId: number): void {
    this.db.prepare("UPDATE patchwork_checks SET attempts = attempts + 1, patch_id = ? WHERE project = ? AND message_id = ? AND context = ?").run(patchId, k.project, k.message_id, k.context);
  }

  posted(k: Key, checkUrl: string | undefined): void {
    this.db
      .prepare("UPDATE patchwork_checks SET status = 'posted', check_url = ?, last_error = NULL, next_try_at = NULL, posted_at = ? WHERE project = ? AND message_id = ? AND context = ?")
      .run(checkUrl ?? null, now(), k.project, k.message_id, k.context);
  }

  retry(k: Key, reason: string, nextTry: string): void {
    this.db
      .prepare("UPDATE patchwork_checks SET tries = tries + 1, last_error = ?, next_try_at = ? WHERE project = ? AND message_id = ? AND context = ?")
      .run(reason, nextTry, k.project, k.message_id, k.context);
  }

  refused(k: Key, reason: string): void {
    this.db.prepare("UPDATE patchwork_checks SET status = 'refused', tries = tries + 1, last_error = ? WHERE project = ? AND message_id = ? AND context = ?").run(reason, k.project, k.message_id, k.context);
  }

  row(project: string, messageId: string, context: string): CheckRow | undefined {
    return this.db.prepare("SELECT * FROM patchwork_checks WHERE project = ? AND message_id = ? AND context = ?").get(project, messageId, context) as CheckRow | undefined;
  }
}
