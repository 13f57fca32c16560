import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findArchiveBundle, openArchive, projectRoot, type Archive } from "../../eval/archive.js";
import { readDevset } from "../../eval/devset.js";
import { PeerInbox } from "../peers/public-inbox.js";
import { fixtureMessages, idOf, mailEnv } from "./mail-setup.js";

/** What the mail channel made of a thread: its series, page, and each message's kind and series. */
async function readByMailChannel(messages: readonly Buffer[]) {
  const inbox = new PeerInbox();
  for (const m of messages) inbox.add(m);
  const e = await mailEnv(inbox.dir, { mirror: { mode: "shadow" } });
  try {
    await e.engine.pass({ reply: "new" });
    const db = e.store.db;
    return {
      series: db.prepare("SELECT id, title, total FROM series").all(),
      pages: db.prepare("SELECT series_id AS id, title FROM review_pages").all(),
      rows: Object.fromEntries(
        (db.prepare("SELECT message_id, kind, patch_index, series_id FROM messages").all() as { message_id: string; kind: string; patch_index: number | null; series_id: string | null }[]).map((r) => [
          r.message_id,
          `${r.kind} ${r.patch_index ?? "-"} ${r.series_id ?? "-"}`,
        ]),
      ),
    };
  } finally {
    await e.close();
  }
}

describe("the mail channel groups a series whose cover letter has no [PATCH 0/N], as groupSeries does", () => {
  const messages = fixtureMessages("series/untagged-cover-3.mbox");
  const [cover, p1, p2, p3, reply] = messages.map(idOf);
  const title = "Let importers ask whether a buffer needs CPU syncs";

  for (const [order, list] of [
    ["cover first", messages],
    ["cover after its patches", [messages[1]!, messages[2]!, messages[3]!, messages[0]!, messages[4]!]],
  ] as const) {
    it(`names the series by its cover letter (${order})`, async () => {
      const got = await readByMailChannel(list);
      expect(got.series).toEqual([{ id: cover, title, total: 3 }]);
      expect(got.pages).toEqual([{ id: cover, title }]);
      expect(got.rows).toEqual({
        [cover!]: `cover 0 ${cover}`,
        [p1!]: `patch 1 ${cover}`,
        [p2!]: `patch 2 ${cover}`,
        [p3!]: `patch 3 ${cover}`,
        [reply!]: "reply - -",
      });
    }, 60_000);
  }
});

// The real linaro-mm-sig archive, read from ../shared at test time and never copied here.
const BUNDLE = findArchiveBundle();
const why = BUNDLE ? "" : " (skipped: ../shared/archives/linaro-mm-sig-2019-2022.bundle is not there)";

describe.skipIf(!BUNDLE)(`the real 2022 dma_coherent RFC through the mail channel${why}`, () => {
  let archive: Archive;
  beforeAll(() => {
    archive = openArchive(BUNDLE!);
  });
  afterAll(() => archive?.close());

  it("is one series named by its untagged cover letter, 'Try to address the DMA-buf coherency problem'", async () => {
    const labelled = readDevset(join(projectRoot(), "eval", "devset")).find((l) => l.id === "dma-coherent-flag-2022")!;
    const v1 = labelled.messages.filter((m) => m.version === 1).sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    expect(v1.map((m) => m.index)).toEqual([0, 1, 2, 3]);
    const raw = await archive.read(v1.map((m) => m.commit));
    const cover = "20221020121316.3946-1-christian.koenig@amd.com";
    const got = await readByMailChannel(v1.map((m) => raw.get(m.commit)!));
    expect(got.series).toEqual([{ id: cover, title: "Try to address the DMA-buf coherency problem", total: 3 }]);
    expect(got.pages).toEqual([{ id: cover, title: "Try to address the DMA-buf coherency problem" }]);
    expect(Object.values(got.rows).sort()).toEqual([`cover 0 ${cover}`, `patch 1 ${cover}`, `patch 2 ${cover}`, `patch 3 ${cover}`]);
  }, 120_000);
});
