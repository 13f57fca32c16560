import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeMessage } from "../../src/ingest/decode.js";
import { splitMbox } from "../../src/ingest/mbox/reader.js";
import { outline, wholeSeries } from "../../src/ingest/outline.js";
import { contentKeyOf } from "../../src/patch/content-key.js";
import type { Message } from "../../src/patch/message.js";
import { groupSeries } from "../../src/patch/series.js";
import { fixture } from "../helpers/mail.js";

const path = fixture("series/dma-coherent-v1.mbox");
const raws = () => splitMbox(readFileSync(path), path);

async function decoded(raw: { bytes: Buffer; source: string }): Promise<Message> {
  return decodedFrom(raw, undefined);
}

async function decodedFrom(raw: { bytes: Buffer; source: string }, blob: string | undefined): Promise<Message> {
  const r = await decodeMessage(raw, blob);
  if (!("kind" in r)) throw new Error(`${raw.source}: ${r.reason}`);
  return r;
}

describe("decodeMessage: content keys", () => {
  it("gives a message decoded twice from the same bytes one key, and different messages different keys", async () => {
    const [a, b] = raws();
    const first = await decoded(a!);
    const again = await decoded(raws()[0]!);
    expect(again).not.toBe(first);
    expect(contentKeyOf(first)).toBeDefined();
    expect(contentKeyOf(again)).toBe(contentKeyOf(first));
    expect(contentKeyOf(await decoded(b!))).not.toBe(contentKeyOf(first));
  });

  it("keys the source too: the same bytes named elsewhere are another message (source is one of its fields)", async () => {
    const [a] = raws();
    const elsewhere = await decoded({ bytes: a!.bytes, source: `${a!.source}-copy` });
    expect(contentKeyOf(elsewhere)).not.toBe(contentKeyOf(await decoded(a!)));
  });

  it("keys bytes git gave by their blob id and source, apart from each other and from hashed bytes", async () => {
    const [a] = raws();
    const oid = "a".repeat(40);
    const byBlob = await decodedFrom({ bytes: a!.bytes, source: `git:0:${oid}` }, oid);
    expect(contentKeyOf(byBlob)).toBe(contentKeyOf(await decodedFrom({ bytes: a!.bytes, source: `git:0:${oid}` }, oid)));
    expect(contentKeyOf(byBlob)).not.toBe(contentKeyOf(await decodedFrom({ bytes: a!.bytes, source: `git:1:${oid}` }, oid)));
    expect(contentKeyOf(byBlob)).not.toBe(contentKeyOf(await decodedFrom({ bytes: a!.bytes, source: `git:0:${oid}` }, "b".repeat(40))));
    expect(contentKeyOf(byBlob)).not.toBe(contentKeyOf(await decoded({ bytes: a!.bytes, source: `git:0:${oid}` })));
  });

  it("gives no key to what is derived from a message: a copy, an outline, another kind", async () => {
    const messages = await Promise.all(raws().map(decoded));
    const m = messages[0]!;
    expect(contentKeyOf({ ...m })).toBeUndefined();
    expect(contentKeyOf({ ...m, from: { name: "Someone Else", email: "else@example.org" } })).toBeUndefined();
    expect(contentKeyOf(outline(m))).toBeUndefined();
    const [series] = groupSeries(messages.map(outline)).series;
    const whole = wholeSeries(series!, new Map(messages.map((x) => [x.source, x])));
    // Read again in full, a message keeps its key only where it is itself, not a copy of another kind.
    for (const x of [whole.cover, ...whole.slots]) if (x) expect(contentKeyOf(x) !== undefined).toBe(messages.includes(x));
    expect(whole.slots.filter((x) => x && contentKeyOf(x) !== undefined)).not.toHaveLength(0);
  });
});
