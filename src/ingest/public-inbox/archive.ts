import { existsSync } from "node:fs";
import type { Message } from "../../patch/message.js";
import { decodeMessage } from "../decode.js";
import type { RawMessage } from "../mbox/reader.js";
import { EpochReader, listEpochs, type ArchiveCommit, type ArchiveEntry, type CommitList, type Epoch } from "./reader.js";
import { triage, type TriageResult } from "./triage.js";

/*
 * A mirror's archive as the mail channel reads it: one reader per epoch (kept open between
 * passes), and messages read again, by where they were archived, for a review or a tracker.
 * An origin names that place: "git:<epoch>:<blob oid>" (read again from git) or "mbox:<n>" (an
 * mbox file's message, whose bytes the store keeps: a position in a file that may be rewritten
 * is no way to find a message again).
 */

/** The cursor key and origin prefix of an mbox mirror. */
export const MBOX_EPOCH = "mbox";

/** Where an archived message is read again; an unreadable commit is named by the commit. */
export function originOf(epoch: Epoch, commit: ArchiveCommit, oid: string | undefined): string {
  if (epoch.name === MBOX_EPOCH) return `mbox:${commit.commit}`;
  return `git:${epoch.name}:${oid ?? commit.commit}`;
}

/** An archived commit, its message triaged (and its bytes let go, unless they must be kept). */
export interface PageEntry {
  readonly entry: Exclude<ArchiveEntry, { kind: "message" }> | { readonly kind: "triaged"; readonly commit: ArchiveCommit; readonly oid: string };
  readonly triage: TriageResult | undefined;
  /** Kept in the store: an mbox message cannot be read again by position. */
  readonly raw?: Buffer;
}

/** A page of the archive, triaged, waiting for its turn to be recorded and reviewed. */
export interface ArchivePage {
  readonly entries: readonly PageEntry[];
  readonly epoch: Epoch;
  /** The archive time reached with this page (and the pages before it). */
  readonly clock: number;
  /** Where the cursor goes once the page is recorded. */
  readonly to: { readonly epoch: string; readonly commit: string };
}

/**
 * An mbox file's messages from `from` to `end` (counted from 0), in pages of `size`, triaged.
 * An mbox has no archive time: a message's own date stands in for it, or the one before's.
 */
export function* mboxPages(file: string, raws: readonly RawMessage[], from: number, end: number, size: number): Generator<ArchivePage> {
  const epoch = { name: MBOX_EPOCH, index: 0, dir: file };
  let clock = 0;
  for (let at = from; at < end; at += size) {
    const entries = raws.slice(at, Math.min(end, at + size)).map((raw, i): PageEntry => {
      const t = triage(raw.bytes);
      const time = t.ok && t.value.date ? Math.floor(t.value.date.getTime() / 1000) : clock;
      clock = Math.max(clock, time);
      const commit = { commit: String(at + i + 1), time };
      return { entry: { kind: "triaged", commit, oid: commit.commit }, triage: t, raw: raw.bytes };
    });
    yield { entries, epoch, clock, to: { epoch: MBOX_EPOCH, commit: String(at + entries.length) } };
  }
}

/** A message the store knows, by its Message-ID and where it was archived. */
export interface ArchivedRef {
  readonly message_id: string;
  readonly origin: string;
}

/** A message that could not be read as one, with the reason. */
export interface Unread {
  readonly id: string;
  readonly reason: string;
  readonly detail: string;
}

export interface ReadBack<R extends ArchivedRef> {
  readonly messages: Message[];
  /** The ref each message was read for, by Message-ID as read. */
  readonly refOf: Map<string, R>;
  readonly unread: Unread[];
}

// Threads are read again for review and for the tracker, often in the same batch, and a busy
// thread again when it grows: the messages built last are kept, as many as fit in this many
// bytes of mail. A bound in bytes, not in messages: one patch can be a megabyte, and a cache
// counted in messages held more as the archive grew.
const BUILT_CACHE_BYTES = 4 << 20;

type Built = Message | Unread;

export class MirrorArchive {
  private readonly readers = new Map<string, EpochReader>();
  private readonly built = new Map<string, { readonly built: Built; readonly bytes: number }>();
  // Messages being read and built, by origin, for the reads that ask for them meanwhile.
  private readonly building = new Map<string, Promise<Built | undefined>>();
  private builtBytes = 0;
  // Past the bound, a message is still found while the garbage collector has not taken it: a
  // tracker reads a series' threads again page after page, and what it read last is mostly
  // still in memory. Holding it weakly costs nothing the collector would not free anyway.
  private readonly weak = new Map<string, { readonly built: WeakRef<Built>; readonly bytes: number }>();
  private readonly collected = new FinalizationRegistry<{ origin: string; ref: WeakRef<Built> }>(({ origin, ref }) => {
    if (this.weak.get(origin)?.built === ref) this.weak.delete(origin);
  });
  private epochs: Epoch[] | undefined;

  constructor(
    readonly inbox: string,
    /** The bytes the store kept for an mbox mirror's message. */
    private readonly kept: (messageId: string) => Buffer | undefined,
  ) {}

  /** The epoch's reader, opened once. */
  reader(epoch: Epoch): EpochReader {
    let r = this.readers.get(epoch.dir);
    if (!r) {
      r = new EpochReader(epoch);
      this.readers.set(epoch.dir, r);
    }
    return r;
  }

  /**
   * An epoch's listed commits, at most `budget` of them, in pages of `size`, each message
   * triaged as it arrives; `clock` is the archive time reached before. Stopping (`stop`, or
   * leaving the loop) lets go of the page asked for ahead.
   */
  async *pages(epoch: Epoch, list: CommitList, size: number, budget: number, clock: number, stop: () => boolean): AsyncGenerator<ArchivePage> {
    const reader = this.reader(epoch);
    let asked = 0;
    const ask = () => {
      const page = asked < budget ? list.next(Math.min(size, budget - asked)) : [];
      asked += page.length;
      return page.length > 0 ? { page, pending: reader.read(page) } : undefined;
    };
    // Always one page asked for ahead of the one being read: git never waits for us to ask.
    let next = ask();
    try {
      while (next && !stop()) {
        const { page: current, pending } = next;
        next = ask();
        // Triage as each message arrives: the event loop keeps reading git's pipe meanwhile
        // (it holds only 64 KB; a batch decoded after the fact would leave git waiting).
        // The bytes are let go once triaged: a page holds what triage found, not the messages.
        const entries: PageEntry[] = [];
        for await (const e of pending) entries.push(e.kind === "message" ? { entry: { kind: "triaged", commit: e.commit, oid: e.oid }, triage: triage(e.bytes) } : { entry: e, triage: undefined });
        const last = current[current.length - 1]!;
        clock = Math.max(clock, last.time);
        yield { entries, epoch, clock, to: { epoch: epoch.name, commit: last.commit } };
      }
    } finally {
      next?.pending.discard();
    }
  }

  /**
   * Messages read again and built like the CLI builds an mbox's (ingest/decode.ts), in the order
   * of `refs`. One that cannot be read is unread with its reason; one gone from the archive is
   * left out.
   */
  async read<R extends ArchivedRef>(refs: readonly R[]): Promise<ReadBack<R>> {
    const built: (Built | undefined)[] = new Array(refs.length);
    const waits: Promise<void>[] = [];
    const byEpoch = new Map<string, { ref: R; at: number; done: (b: Built | undefined) => void }[]>();
    const mine: { origin: string; fail: (err: unknown) => void }[] = [];
    for (const [at, ref] of refs.entries()) {
      const hit = this.cached(ref.origin);
      if (hit) {
        built[at] = hit;
        continue;
      }
      // Being built for another read (a thread read for two series at once): built once.
      const pending = this.building.get(ref.origin);
      if (pending) {
        waits.push(pending.then((b) => void (built[at] = b)));
        continue;
      }
      let done!: (b: Built | undefined) => void;
      let fail!: (err: unknown) => void;
      const p = new Promise<Built | undefined>((resolve, reject) => ((done = resolve), (fail = reject)));
      p.catch(() => undefined); // a waiter sees the failure; nobody else need
      this.building.set(ref.origin, p);
      mine.push({ origin: ref.origin, fail });
      const [kind, epoch] = ref.origin.split(":");
      const key = kind === "mbox" ? MBOX_EPOCH : epoch!;
      const item = { ref, at, done: (b: Built | undefined) => ((built[at] = b), done(b)) };
      const list = byEpoch.get(key);
      if (list) list.push(item);
      else byEpoch.set(key, [item]);
    }
    const waited = Promise.all(waits);
    waited.catch(() => undefined); // awaited below, unless this read fails first
    const build = async (ref: R, bytes: Buffer, blob?: string): Promise<Built> => {
      const r = await decodeMessage({ bytes, source: ref.origin }, blob);
      // What one message cannot be read as stays with that message.
      const b: Built = "kind" in r ? r : { id: ref.message_id, reason: r.reason, detail: r.detail };
      this.remember(ref.origin, b, bytes.length);
      return b;
    };
    try {
      for (const [name, todo] of byEpoch) {
        if (name === MBOX_EPOCH) {
          for (const t of todo) {
            const bytes = this.kept(t.ref.message_id);
            t.done(bytes ? await build(t.ref, bytes) : undefined);
          }
          continue;
        }
        const epoch = this.epoch(name);
        let i = 0;
        if (epoch) {
          for await (const blob of this.reader(epoch).blobs(todo.map((t) => t.ref.origin.split(":")[2]!))) {
            const t = todo[i++]!;
            t.done(blob.kind === "blob" ? await build(t.ref, blob.bytes, blob.oid) : undefined);
          }
        }
        for (; i < todo.length; i++) todo[i]!.done(undefined);
      }
    } catch (err) {
      for (const m of mine) m.fail(err);
      throw err;
    } finally {
      for (const m of mine) this.building.delete(m.origin);
    }
    await waited;
    const messages: Message[] = [];
    const refOf = new Map<string, R>();
    const unread: Unread[] = [];
    for (const [at, b] of built.entries()) {
      if (!b) continue;
      if ("kind" in b) {
        messages.push(b);
        refOf.set(b.messageId, refs[at]!);
      } else unread.push(b);
    }
    return { messages, refOf, unread };
  }

  /**
   * The epoch named so, listed again only when it is not among those listed before (a new one)
   * or is gone from the disk (its messages are then gone from the archive).
   */
  private epoch(name: string): Epoch | undefined {
    const known = this.epochs?.find((e) => e.name === name);
    if (known && existsSync(known.dir)) return known;
    this.epochs = listEpochs(this.inbox);
    return this.epochs.find((e) => e.name === name);
  }

  /** A message built before: kept, or let go of but not yet collected (then kept again, as the newest). */
  private cached(origin: string): Built | undefined {
    const kept = this.built.get(origin);
    if (kept) {
      // The newest again: a message read often stays.
      this.built.delete(origin);
      this.built.set(origin, kept);
      return kept.built;
    }
    const weak = this.weak.get(origin);
    const built = weak?.built.deref();
    if (built) this.remember(origin, built, weak!.bytes);
    return built;
  }

  private remember(origin: string, built: Built, bytes: number): void {
    const before = this.built.get(origin);
    if (before) this.builtBytes -= before.bytes;
    this.built.delete(origin);
    this.built.set(origin, { built, bytes });
    this.builtBytes += bytes;
    if (this.weak.get(origin)?.built.deref() !== built) {
      const ref = new WeakRef(built);
      this.weak.set(origin, { built: ref, bytes });
      this.collected.register(built, { origin, ref });
    }
    // The least recently read go first; the one just built stays, however large.
    for (const [key, kept] of this.built) {
      if (this.builtBytes <= BUILT_CACHE_BYTES || key === origin) break;
      this.built.delete(key);
      this.builtBytes -= kept.bytes;
    }
  }

  async close(): Promise<void> {
    for (const r of this.readers.values()) await r.close();
    this.readers.clear();
  }
}
