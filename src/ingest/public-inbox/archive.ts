import type { Message } from "../../patch/message.js";
import { decodeMessage } from "../decode.js";
import { EpochReader, listEpochs, type ArchiveCommit, type Epoch } from "./reader.js";

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
// thread again when it grows: the messages built last are kept, a bounded few.
const BUILT_CACHE = 2000;

export class MirrorArchive {
  private readonly readers = new Map<string, EpochReader>();
  private readonly built = new Map<string, Message | Unread>();

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
   * Messages read again and built like the CLI builds an mbox's (ingest/decode.ts). One that
   * cannot be read is unread with its reason; one gone from the archive is left out.
   */
  async read<R extends ArchivedRef>(refs: readonly R[]): Promise<ReadBack<R>> {
    const unread: Unread[] = [];
    const byEpoch = new Map<string, R[]>();
    for (const r of refs) {
      const [kind, epoch] = r.origin.split(":");
      const key = kind === "mbox" ? MBOX_EPOCH : epoch!;
      byEpoch.set(key, [...(byEpoch.get(key) ?? []), r]);
    }
    const messages: Message[] = [];
    const refOf = new Map<string, R>();
    const take = (ref: R, built: Message | Unread) => {
      if ("kind" in built) {
        messages.push(built);
        refOf.set(built.messageId, ref);
      } else unread.push(built);
    };
    const build = async (ref: R, bytes: Buffer) => {
      const r = await decodeMessage({ bytes, source: ref.origin });
      // What one message cannot be read as stays with that message.
      const built: Message | Unread = "kind" in r ? r : { id: ref.message_id, reason: r.reason, detail: r.detail };
      this.remember(ref.origin, built);
      take(ref, built);
    };
    for (const [name, list] of byEpoch) {
      const todo = list.filter((r) => {
        const hit = this.built.get(r.origin);
        if (hit) take(r, hit);
        return !hit;
      });
      if (name === MBOX_EPOCH) {
        for (const ref of todo) {
          const bytes = this.kept(ref.message_id);
          if (bytes) await build(ref, bytes);
        }
        continue;
      }
      const epoch = listEpochs(this.inbox).find((e) => e.name === name);
      if (!epoch) continue;
      let i = 0;
      for await (const blob of this.reader(epoch).blobs(todo.map((r) => r.origin.split(":")[2]!))) {
        const ref = todo[i++]!;
        if (blob.kind !== "blob") continue;
        await build(ref, blob.bytes);
      }
    }
    return { messages, refOf, unread };
  }

  private remember(origin: string, built: Message | Unread): void {
    this.built.set(origin, built);
    if (this.built.size > BUILT_CACHE) this.built.delete(this.built.keys().next().value!);
  }

  async close(): Promise<void> {
    for (const r of this.readers.values()) await r.close();
    this.readers.clear();
  }
}
