import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { splitMbox } from "../../src/ingest/mbox/reader.js";
import { appendToInbox } from "../../src/ingest/public-inbox/writer.js";
import { assertBuilt, runCli } from "../helpers/cli.js";
import { captureIo } from "../helpers/io.js";
import { CHANGE_ID, GOLDEN, MBOX, V1_COVER, V2_COVER, V2_ONLY } from "../feedback/fixture.js";

interface JsonItem {
  id: string;
  author: { name: string; email: string };
  source: string;
  version: number;
  patch: string;
  anchor: { file: string | null; function: string | null; line: number | null };
  text: string;
  kind: string;
  verdict: string;
  evidence: string[];
}

interface JsonTrack {
  series: { subject: string; revisions: { version: number; messageId: string }[]; items: JsonItem[] }[];
  untracked: { subject: string; version: number; messageId: string; reason: string }[];
}

async function run(args: string[]) {
  const io = captureIo();
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe("dmabuf-review track", () => {
  it("prints the golden tracker for the dma_coherent v1 -> v2 thread", async () => {
    const r = await run(["track", MBOX]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toBe(readFileSync(GOLDEN, "utf8"));
  });

  it("follows the JSON contract, with the exact verdicts", async () => {
    const r = await run(["track", MBOX, "--format", "json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as JsonTrack;
    expect(doc.untracked).toEqual([]);
    expect(doc.series).toHaveLength(1);
    const s = doc.series[0]!;
    expect(s.subject).toBe("dma-buf: coherency flag with an exporter override");
    expect(s.revisions).toEqual([
      { version: 1, messageId: V1_COVER },
      { version: 2, messageId: V2_COVER },
    ]);
    for (const i of s.items) {
      expect(Object.keys(i)).toEqual(expect.arrayContaining(["id", "author", "source", "version", "patch", "anchor", "text", "kind", "verdict", "evidence"]));
      expect(Object.keys(i.anchor)).toEqual(expect.arrayContaining(["file", "function", "line"]));
      expect(["addressed", "not addressed", "answered", "obsolete", "unclear"]).toContain(i.verdict);
      expect(["change requested", "question", "objection", "suggestion", "ack"]).toContain(i.kind);
      expect(i.evidence.length).toBeGreaterThan(0);
    }
    expect(s.items.map((i) => `${i.id} ${i.verdict} ${i.kind} ${i.patch} ${i.author.name} <${i.source}>`)).toEqual([
      "1.1 not addressed change requested 1/3 Priya Raman <Y1JtQ2xwcml5YQ@example.org>",
      "1.2 addressed change requested 1/3 Priya Raman <Y1JtQ2xwcml5YQ@example.org>",
      "1.3 unclear ack 2/3 Sam Okafor <c2FtLXJldmlld2Vk@example.net>",
      "1.4 answered objection 1/3 Jonas Weber <am9uYXMtdXNlcnNwYWNl.camel@example.de>",
      "1.5 addressed suggestion 2/3 Mei Tanaka <bWVpLW92ZXJyaWRl@example.jp>",
      "1.6 obsolete question 3/3 Tomas Lindgren <dG9tYXMtcXVlc3Rpb24@example.se>",
      "1.7 addressed objection 3/3 Hana Novak <aGFuYS1uYWs@example.cz>",
      "1.8 not addressed ack 0/3 Ravi Kumar <cmF2aS10ZXN0ZWQ@example.in>",
      "1.9 unclear change requested 0/3 Nadia Leclerc <bmFkaWEtc3VtbWFyeQ@example.ca>",
    ]);
    expect(s.items[0]!.anchor).toMatchObject({ file: "drivers/dma-buf/dma-buf.c", function: "dma_buf_dynamic_attach", line: 219 });
    expect(s.items[7]!.anchor).toMatchObject({ file: null, function: null, line: null });
  });

  it("--series picks one series by change-id; an unknown one is unusable input", async () => {
    const ok = await run(["track", MBOX, "--series", CHANGE_ID, "--format", "json"]);
    expect((JSON.parse(ok.out) as JsonTrack).series.map((s) => s.revisions.length)).toEqual([2]);
    const bad = await run(["track", MBOX, "--series", "<nope@example.com>"]);
    expect(bad.code).toBe(2);
    expect(bad.out).toBe("");
    expect(bad.err).toBe(`dmabuf-review: ${MBOX}: not-a-patch: no series <nope@example.com> in the input\n`);
  });

  it("a v2 with no v1 in the input says so in one line and does nothing else", async () => {
    const text = await run(["track", V2_ONLY]);
    expect(text).toEqual({
      code: 0,
      err: "",
      out: `dma-buf: coherency flag with an exporter override (v2) <${V2_COVER}>: no earlier revision of this series in the input; nothing to track\n`,
    });
    const json = await run(["track", V2_ONLY, "--format", "json"]);
    expect(JSON.parse(json.out)).toEqual({
      series: [],
      untracked: [
        {
          subject: "dma-buf: coherency flag with an exporter override",
          version: 2,
          messageId: V2_COVER,
          reason: "no earlier revision of this series in the input; nothing to track",
        },
      ],
    });
  });
});

describe("dmabuf-review track, the built bin", () => {
  beforeAll(() => {
    assertBuilt();
  });

  it("reads the thread from stdin and prints the same tracker", async () => {
    const r = await runCli(["track", "-"], readFileSync(MBOX));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(GOLDEN, "utf8"));
  });
});

/** A public-inbox of these messages, ten to an epoch, so that the reader goes from one epoch to the next. */
async function inboxOf(raws: readonly Buffer[]): Promise<string> {
  const inbox = join(mkdtempSync(join(tmpdir(), "dmabuf-review-track-inbox-")), "inbox");
  await appendToInbox(inbox, raws.map((bytes) => ({ bytes })), { perEpoch: 10 });
  return inbox;
}

const fixtureMails = () => splitMbox(readFileSync(MBOX), "fixture").map((r) => r.bytes);

describe("dmabuf-review track on a public-inbox", () => {
  it("reads the archive's epochs and prints the same tracker as for the mbox", async () => {
    const r = await run(["track", await inboxOf(fixtureMails())]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toBe(readFileSync(GOLDEN, "utf8"));
  });

  it("writes a series without an earlier revision in its place among the tracked ones, text and JSON", async () => {
    const lone = (id: string, day: number, month: string) =>
      Buffer.from(
        [
          `Message-ID: <${id}@example.org>`,
          "From: Sam Lone <sam@example.org>",
          `Subject: [PATCH] dma-buf: fix a typo in a comment ${day}`,
          `Date: ${day} ${month} 2022 10:00:00 +0000`,
          "",
          "A comment says 'buffer' twice.",
          "",
          "Signed-off-by: Sam Lone <sam@example.org>",
          "---",
          "diff --git a/drivers/dma-buf/dma-buf.c b/drivers/dma-buf/dma-buf.c",
          "--- a/drivers/dma-buf/dma-buf.c",
          "+++ b/drivers/dma-buf/dma-buf.c",
          "@@ -10,1 +10,1 @@",
          "-/* the buffer buffer */",
          "+/* the buffer */",
          "",
        ].join("\n"),
      );
    // One lone series before the tracked one and one after its v2, by date.
    const inbox = await inboxOf([lone("lone-early", 3, "Oct"), ...fixtureMails(), lone("lone-late", 30, "Dec")]);
    const line = (id: string, day: number) => `dma-buf: fix a typo in a comment ${day} (v1) <${id}@example.org>: no earlier revision of this series in the input; nothing to track\n`;
    const text = await run(["track", inbox]);
    expect(text.err).toBe("");
    expect(text.out).toBe(`${line("lone-early", 3)}\n${readFileSync(GOLDEN, "utf8")}\n${line("lone-late", 30)}`);
    const json = await run(["track", inbox, "--format", "json"]);
    const doc = JSON.parse(json.out) as JsonTrack;
    expect(doc.series.map((s) => s.revisions.map((r) => r.messageId))).toEqual([[V1_COVER, V2_COVER]]);
    expect(doc.untracked.map((u) => u.messageId)).toEqual(["lone-early@example.org", "lone-late@example.org"]);
  });
});
