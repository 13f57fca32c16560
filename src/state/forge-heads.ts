import type { Db } from "./db.js";

export interface ForgeHead {
  readonly sha: string;
  /** When it became the head, as near as the bot knows (ISO 8601). */
  readonly seenAt: string;
}

/**
 * The pushes of one forge change, oldest first: each push is a revision of it, and the tracker
 * judges what was said on an earlier one against the latest. Recording a head twice keeps the
 * first time it was seen.
 */
export class ForgeHeads {
  constructor(private readonly db: Db) {}

  record(channel: string, thread: string, sha: string, seenAt: string): void {
    this.db.prepare("INSERT OR IGNORE INTO forge_heads (channel, thread, head_sha, seen_at) VALUES (?, ?, ?, ?)").run(channel, thread, sha, seenAt);
  }

  list(channel: string, thread: string): ForgeHead[] {
    return (
      this.db.prepare("SELECT head_sha, seen_at FROM forge_heads WHERE channel = ? AND thread = ? ORDER BY seen_at, rowid").all(channel, thread) as {
        head_sha: string;
        seen_at: string;
      }[]
    ).map((r) => ({ sha: r.head_sha, seenAt: r.seen_at }));
  }
}
