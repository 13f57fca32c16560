import { describe, expect, it } from "vitest";
import { loadMessages } from "../../src/ingest/mbox/messages.js";
import { groupSeries } from "../../src/patch/series.js";
import type { Message } from "../../src/patch/message.js";
import { fixture } from "../helpers/mail.js";

// Series as real senders post them: the cover letter, tags and resends of fixtures/series/*.mbox.
const ids = (list: readonly (Message | undefined)[]) => list.map((m) => m?.messageId);

async function grouped(name: string, edit?: (m: Message) => Message | undefined) {
  const { messages } = await loadMessages(fixture(`series/${name}`));
  return groupSeries(edit ? messages.flatMap((m) => edit(m) ?? []) : messages);
}

describe("groupSeries on series as real senders post them", () => {
  it("takes a message without [PATCH 0/N] that the author's numbered patches answer as the cover letter", async () => {
    const g = await grouped("untagged-cover.mbox");
    expect(g.series).toHaveLength(1);
    const s = g.series[0]!;
    expect(s).toMatchObject({ id: "20260301090000.100-1-jane.dev@example.org", revision: 1, total: 2, missing: [], duplicates: [] });
    expect(s.cover?.kind).toBe("cover");
    expect(s.title).toBe("Let the demo heap skip syncs it does not need");
    expect(ids(s.slots)).toEqual(["20260301090000.100-2-jane.dev@example.org", "20260301090000.100-3-jane.dev@example.org"]);
    // The review of the cover hangs off it, as on the list.
    expect([...s.replies.keys()]).toEqual(["20260301090000.100-1-jane.dev@example.org"]);
    expect(g.other).toEqual([]);
  });

  it("does not make a mail the cover when the patches answering it come from someone else", async () => {
    const g = await grouped("untagged-cover.mbox", (m) =>
      m.kind === "patch" ? { ...m, from: { name: "Other Dev", email: "other.dev@example.net" } } : m,
    );
    expect(g.series).toHaveLength(2);
    expect(g.series.every((s) => s.cover === undefined)).toBe(true);
    expect(ids(g.other)).toEqual(["20260301090000.100-1-jane.dev@example.org"]);
  });

  it("keeps patches of one thread with mixed tags ([PATCH 1/2] beside [PATCH v2 2/2]) in one series, as v2", async () => {
    const g = await grouped("mixed-tags.mbox");
    expect(g.series).toHaveLength(1);
    const s = g.series[0]!;
    expect(s).toMatchObject({ id: "20260305120000.200-1-jane.dev@example.org", revision: 2, total: 2, missing: [], duplicates: [] });
    expect(ids(s.slots)).toEqual(["20260305120000.200-2-jane.dev@example.org", "20260305120000.200-3-jane.dev@example.org"]);
  });

  it("keeps a new revision posted into the old thread apart: its slots collide with the old ones", async () => {
    // The v2 patch 2/2 also sent untagged into the thread takes slot 2 twice: that is not a mixed tag.
    const g = await grouped("mixed-tags.mbox", (m) =>
      m.parsedSubject.index === 1 ? { ...m, parsedSubject: { ...m.parsedSubject, index: 2 } } : m,
    );
    expect(g.series.map((s) => `v${s.revision} ${s.slots.map((x) => (x ? "x" : "-")).join("")}`)).toEqual(["v2 -x", "v1 -x"]);
  });

  it("folds a [RESEND] copy inside the thread into the series as a duplicate, not a second series", async () => {
    const g = await grouped("resend-in-thread.mbox");
    expect(g.series).toHaveLength(1);
    const s = g.series[0]!;
    expect(s).toMatchObject({ revision: 2, total: 2, missing: [] });
    expect(ids(s.slots)).toEqual(["20260310080000.300-2-jane.dev@example.org", "20260310080000.300-3-jane.dev@example.org"]);
    expect(ids(s.duplicates)).toEqual(["20260311090000.301-1-jane.dev@example.org"]);
  });
});
