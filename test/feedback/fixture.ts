import { readFileSync } from "node:fs";
import { loadCatalog } from "../../src/analysis/catalog/load.js";
import type { TrackDeps } from "../../src/feedback/track.js";
import { splitMbox } from "../../src/ingest/mbox/reader.js";
import { parseMime } from "../../src/ingest/mime.js";
import { CParser } from "../../src/patch/c-source.js";
import { buildMessage, type Message } from "../../src/patch/message.js";
import { groupSeries, type Series } from "../../src/patch/series.js";
import { fixture } from "../helpers/mail.js";
import { bundledRules } from "../helpers/review.js";

export const MBOX = fixture("feedback/dma-coherent/v1-v2.mbox");
export const V2_ONLY = fixture("feedback/dma-coherent/v2-only.mbox");
export const GOLDEN = fixture("feedback/dma-coherent/v1-v2.tracker.txt");

export const V1_COVER = "20221020-dma-coherent-v1-0-3f2a9c1b7d4e@example.com";
export const V2_COVER = "20221110-dma-coherent-v2-0-9e8d7c6b5a41@example.com";
export const CHANGE_ID = "20221020-dma-coherent-7d1f2a3b4c5e";

/** The fixture's text, optionally edited (a variant of the thread), as Messages. */
export async function messagesOf(edit: (mbox: string) => string = (s) => s): Promise<Message[]> {
  const text = edit(readFileSync(MBOX, "utf8"));
  const out: Message[] = [];
  for (const raw of splitMbox(Buffer.from(text, "utf8"), "fixture")) out.push(buildMessage(await parseMime(raw)));
  return out;
}

export async function seriesOf(edit?: (mbox: string) => string): Promise<Series[]> {
  return [...groupSeries(await messagesOf(edit)).series];
}

let deps: Promise<TrackDeps> | undefined;

/** Rules, parser and catalog as the CLI loads them; a fresh search cache per call would only cost time. */
export function trackDeps(): Promise<TrackDeps> {
  deps ??= (async () => {
    const [rules, catalog, parser] = await Promise.all([bundledRules(), loadCatalog(), CParser.load()]);
    return { rules, parser, model: { catalog, cache: new Map() } };
  })();
  return deps;
}

/** Replace `find` only in the part of the mbox from the message holding `after` on. */
export function editAfter(mbox: string, after: string, find: string, replace: string): string {
  const at = mbox.indexOf(after);
  if (at < 0) throw new Error(`${after} not in the fixture`);
  const tail = mbox.slice(at);
  if (!tail.includes(find)) throw new Error(`${find} not after ${after}`);
  return mbox.slice(0, at) + tail.replace(find, replace);
}

/** Drop one message (by Message-ID) from the mbox text. */
export function dropMessage(mbox: string, messageId: string): string {
  const parts = mbox.split(/\n(?=From mboxrd@z )/);
  const kept = parts.filter((p) => !p.includes(`Message-ID: <${messageId}>`));
  if (kept.length === parts.length) throw new Error(`${messageId} not in the fixture`);
  return kept.join("\n");
}
