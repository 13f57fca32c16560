import type { Skip } from "../../review/review.js";
import type { Message } from "../../patch/message.js";
import { decodeMessage } from "../decode.js";
import { outliner } from "../outline.js";
import { EpochReader, type Epoch } from "./reader.js";

/*
 * A whole inbox read for tracking: every message is needed to group series and link revisions,
 * but only the few revisions of the chain being tracked need their text (ingest/outline.ts).
 */

/** The messages of an inbox as outlines, and the way back to each one's full text. */
export class InboxOutline {
  private readonly readers = new Map<Epoch, EpochReader>();

  private constructor(
    private messages: Message[] | undefined,
    readonly skipped: readonly Skip[],
    /** Where each message's blob is, by its source. */
    private readonly blobs: ReadonlyMap<string, { readonly epoch: Epoch; readonly oid: string }>,
  ) {}

  /**
   * Every message of the inbox, oldest first, as an outline (or as `shape` keeps it); one that
   * cannot be read is a skip, as in an mbox.
   */
  static async read(epochs: readonly Epoch[], onProgress: (done: number, total: number, epoch: string) => void, shape: (m: Message) => Message = outliner()): Promise<InboxOutline> {
    const messages: Message[] = [];
    const skipped: Skip[] = [];
    const blobs = new Map<string, { epoch: Epoch; oid: string }>();
    for (const epoch of epochs) {
      const reader = new EpochReader(epoch);
      try {
        const list = await reader.list(undefined);
        let done = 0;
        for (let page = list.next(500); page.length > 0; page = list.next(500)) {
          for await (const e of reader.read(page)) {
            onProgress(++done, list.count, epoch.name);
            // Its own copy: the commit id is cut from the epoch's whole listing, which a skip would keep alive.
            const source = structuredClone(`${epoch.dir}#${e.commit.commit}`);
            if (e.kind === "deleted") continue;
            if (e.kind !== "message") {
              skipped.push({ source, messageId: undefined, reason: e.kind, detail: e.kind === "unreadable" ? e.detail : `${e.size} bytes` });
              continue;
            }
            // The one decode path an mbox takes too: a message that cannot be read is a skip.
            const r = await decodeMessage({ bytes: e.bytes, source }, e.oid);
            if (!("kind" in r)) {
              skipped.push(r);
              continue;
            }
            const kept = shape(r);
            messages.push(kept);
            // Keyed by the outline's own copy of its source, not a second one.
            blobs.set(kept.source, { epoch, oid: e.oid });
          }
        }
      } finally {
        await reader.close();
      }
    }
    return new InboxOutline(messages, skipped, blobs);
  }

  /**
   * The outlines, handed over once: the inbox keeps only the way back to each one's text, so
   * that the outlines go once what was made of them no longer needs them.
   */
  take(): Message[] {
    const m = this.messages;
    if (!m) throw new Error("the outlines were taken already");
    this.messages = undefined;
    return m;
  }

  /** The full messages behind outlines, by source, as they were first decoded. */
  async full(outlines: readonly Message[]): Promise<Map<string, Message>> {
    const out = new Map<string, Message>();
    const byEpoch = new Map<Epoch, { source: string; oid: string }[]>();
    const asked = new Set<string>();
    for (const m of outlines) {
      const at = this.blobs.get(m.source);
      if (!at) throw new Error(`${m.source}: not a message of this inbox`);
      if (asked.has(m.source)) continue;
      asked.add(m.source);
      const list = byEpoch.get(at.epoch) ?? byEpoch.set(at.epoch, []).get(at.epoch)!;
      list.push({ source: m.source, oid: at.oid });
    }
    for (const [epoch, list] of byEpoch) {
      let reader = this.readers.get(epoch);
      if (!reader) this.readers.set(epoch, (reader = new EpochReader(epoch)));
      let i = 0;
      for await (const b of reader.blobs(list.map((x) => x.oid))) {
        const { source, oid } = list[i++]!;
        const r = b.kind === "blob" ? await decodeMessage({ bytes: b.bytes, source }, oid) : undefined;
        if (!r || !("kind" in r)) throw new Error(`${source}: could not be read again`);
        out.set(source, r);
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.readers.values()].map((r) => r.close()));
    this.readers.clear();
  }
}
