import { now, type Db } from "./db.js";

/** Where each archive epoch was read up to. */
export class Cursors {
  constructor(private readonly db: Db) {}

  get(source: string, epoch: string): string | undefined {
    const row = this.db.prepare("SELECT last_commit FROM cursors WHERE source = ? AND epoch = ?").get(source, epoch) as { last_commit: string } | undefined;
    return row?.last_commit;
  }

  set(source: string, epoch: string, commit: string): void {
    this.db
      .prepare(
        "INSERT INTO cursors (source, epoch, last_commit, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(source, epoch) DO UPDATE SET last_commit = excluded.last_commit, updated_at = excluded.updated_at",
      )
      .run(source, epoch, commit, now());
  }

  all(source: string): { epoch: string; lastCommit: string }[] {
    return (this.db.prepare("SELECT epoch, last_commit FROM cursors WHERE source = ? ORDER BY epoch").all(source) as { epoch: string; last_commit: string }[]).map((r) => ({
      epoch: r.epoch,
      lastCommit: r.last_commit,
    }));
  }
}
