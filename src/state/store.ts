import { openDb, type Db } from "./db.js";
import { Cursors } from "./cursors.js";
import { Ledger } from "./ledger.js";

/** The embedded store every channel shares: cursors, messages, series, findings, posts. */
export class Store {
  readonly cursors: Cursors;
  readonly ledger: Ledger;

  private constructor(readonly db: Db) {
    this.cursors = new Cursors(db);
    this.ledger = new Ledger(db);
  }

  static open(path: string): Store {
    return new Store(openDb(path));
  }

  /** Run `fn` in one transaction: a batch's records and its cursor move land together. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }
}
