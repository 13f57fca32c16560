// The classes of wrong verdicts and links measured on the real archive (issue 16), one case each.
import { describe, expect, it } from "vitest";
import { classifyAnswer } from "../../src/feedback/answers.js";
import { trackSeries, type Tracker } from "../../src/feedback/track.js";
import { effectiveRevision, revisionChain } from "../../src/patch/revision-link.js";
import { groupSeries, type Series } from "../../src/patch/series.js";
import { diffOf, mail, type MailSpec } from "./build.js";
import { trackDeps } from "./fixture.js";

const PRIYA = { name: "Priya Raman", email: "priya@example.org" };
const CORE = "drivers/dma-buf/dma-buf.c";
const quoted = (line: string) => ["> @@ -1,2 +1,3 @@", ">  #include <linux/dma-buf.h>", `> +${line}`].join("\n");

const V1: MailSpec[] = [
  { id: "p1", subject: "[PATCH] dma-buf: gate the import", changes: [{ path: CORE, line: "int gate;" }] },
  { id: "ask", subject: "Re: [PATCH] dma-buf: gate the import", parent: "p1", from: PRIYA, day: 1, body: `${quoted("int gate;")}\n\nPlease make the gate a bool.\n` },
];

function groupOf(specs: readonly MailSpec[]): Series[] {
  return [...groupSeries(specs.map(mail)).series];
}

async function trackLatest(specs: readonly MailSpec[], latest: string): Promise<Tracker> {
  const all = groupOf(specs);
  const r = trackSeries(all.find((s) => s.id === latest)!, all, await trackDeps());
  if (r.kind !== "tracked") throw new Error(r.reason);
  return r.tracker;
}

const reply = (id: string, body: string, day = 2): MailSpec => ({ id, subject: "Re: [PATCH] dma-buf: gate the import", parent: "ask", refs: ["p1", "ask"], day, body });

describe("revision links without subject tags", () => {
  it("an untagged repost whose notes say v2 follows the first posting", async () => {
    const all = groupOf([...V1, { id: "p2", subject: "[PATCH] dma-buf: gate the import", day: 4, changes: [{ path: CORE, line: "bool gate;" }], notes: "v2: the gate is a bool" }]);
    const p2 = all.find((s) => s.id === "p2")!;
    expect(effectiveRevision(p2)).toBe(2);
    expect(revisionChain(p2, all).revisions.map((s) => s.id)).toEqual(["p1", "p2"]);
    // Never the other way round: the earlier posting has nothing before it.
    expect(revisionChain(all.find((s) => s.id === "p1")!, all).revisions.map((s) => s.id)).toEqual(["p1"]);
  });

  it("a title ending in vN is that revision, and compares with the title without it", async () => {
    const all = groupOf([
      ...V1,
      { id: "q2", subject: "[PATCH] dma-buf: gate the import v2", day: 4, changes: [{ path: CORE, line: "bool gate;" }] },
      { id: "q3", subject: "[PATCH] dma-buf: gate the import v3", day: 6, changes: [{ path: CORE, line: "bool gate = false;" }] },
    ]);
    const q3 = all.find((s) => s.id === "q3")!;
    expect(revisionChain(q3, all).revisions.map((s) => s.id)).toEqual(["p1", "q2", "q3"]);
  });

  it("a third posting titled v2 again follows the second, and the tracker judges each step", async () => {
    const t = await trackLatest(
      [
        ...V1,
        { id: "s2", subject: "[PATCH v2] dma-buf: gate the import", day: 4, changes: [{ path: CORE, line: "bool gate;" }] },
        { id: "s3", subject: "[PATCH v2] dma-buf: gate the import", day: 6, changes: [{ path: CORE, line: "bool gate; /* set once */" }] },
      ],
      "s3",
    );
    expect(t.revisions.map((s) => s.id)).toEqual(["p1", "s2", "s3"]);
    expect(t.links.every((l) => !l.resend)).toBe(true);
  });
});

describe("revision links when threads, links and titles mislead", () => {
  const gate = (line: string) => [{ path: CORE, line }];

  it("an unnumbered posting after a v2 follows the v2, never an earlier one, and the changelog in the commit message counts", async () => {
    const all = groupOf([
      ...V1,
      { id: "t2", subject: "[PATCH v2] dma-buf: gate the import", day: 3, changes: gate("bool gate;") },
      { id: "t3", subject: "[PATCH] dma-buf: gate the import", day: 6, changes: gate("bool gate = false;") },
    ]);
    expect(revisionChain(all.find((s) => s.id === "t3")!, all).revisions.map((s) => s.id)).toEqual(["p1", "t2", "t3"]);
    const withLog = groupOf([{ id: "u3", subject: "[PATCH] dma-buf: gate", body: `Gate it.\n\nv1->v2:\n- bool\nv2->v3:\n- init\n\n---\n${diffOf(gate("bool gate;"))}\n` }]);
    expect(effectiveRevision(withLog[0]!)).toBe(3);
  });

  it("a v3 posted in reply to the v1 thread follows the v2 posted in between", async () => {
    const all = groupOf([
      ...V1,
      { id: "w2", subject: "[PATCH v2] dma-buf: gate the import", day: 3, changes: gate("bool gate;") },
      { id: "w3", subject: "[PATCH v3] dma-buf: gate the import", parent: "p1", day: 6, changes: gate("bool gate = false;") },
    ]);
    const chain = revisionChain(all.find((s) => s.id === "w3")!, all);
    expect(chain.revisions.map((s) => s.id)).toEqual(["p1", "w2", "w3"]);
  });

  it("a numbered revision renamed outright links by the files it changes, within weeks, same author only", async () => {
    const renamed: MailSpec = { id: "x2", subject: "[PATCH v2] dma-buf: add and release the import gate", day: 9, changes: gate("bool gate;") };
    const all = groupOf([...V1, renamed, { id: "y2", subject: "[PATCH v2] dma-buf: unrelated", from: PRIYA, day: 9, changes: gate("int other;") }]);
    const link = revisionChain(all.find((s) => s.id === "x2")!, all).links[0];
    expect(link).toMatchObject({ how: "files", previous: { id: "p1" } });
    expect(revisionChain(all.find((s) => s.id === "y2")!, all).revisions.map((s) => s.id)).toEqual(["y2"]);
    const late = groupOf([...V1, { ...renamed, day: 200 }]);
    expect(revisionChain(late.find((s) => s.id === "x2")!, late).revisions.map((s) => s.id)).toEqual(["x2"]);
  });
});

describe("the changelog and the author's replies", () => {
  const v2 = (line: string, notes?: string): MailSpec => ({
    id: "p2",
    subject: "[PATCH v2] dma-buf: gate the import",
    day: 5,
    changes: [{ path: CORE, line }],
    ...(notes ? { notes } : {}),
  });

  it("a changelog entry naming the change wins over an author's reply that argued first", async () => {
    const argued = reply("a1", "> Please make the gate a bool.\n\nThe int was there so that callers can count, but let me look at the users again.\n");
    const t = await trackLatest([...V1, argued, v2("bool gate;", "v2: made the gate a bool as Priya asked")], "p2");
    expect(t.items.map((i) => `${i.verdict}: ${i.evidence[0]}`)).toEqual(['addressed: changelog v2, patch 1/1: "made the gate a bool as Priya asked"']);
  });

  it('"thanks, will fix" is a promise: not addressed when the next revision leaves the code as it was', async () => {
    const t = await trackLatest([...V1, reply("a1", "> Please make the gate a bool.\n\nThanks, will fix.\n"), v2("int gate;")], "p2");
    expect(t.items[0]!.verdict).toBe("not addressed");
    expect(t.items[0]!.evidence.join(" | ")).toContain('promised in <a1> from Jane Dev, 2026-11-04: "Thanks, will fix."');
  });

  it('"give me a few days to rebase" answers nothing', async () => {
    const t = await trackLatest([...V1, reply("a1", "> Please make the gate a bool.\n\nGive me a few days to rebase this on top of the new locking rules first.\n"), v2("int gate;")], "p2");
    expect(t.items[0]!.verdict).toBe("not addressed");
  });

  it("a reason with the quoted code kept is answered", async () => {
    const why = "> Please make the gate a bool.\n\nThe gate is an int on purpose: callers compare it with a counter, and a bool would hide the overflow.\n";
    const t = await trackLatest([...V1, reply("a1", why), v2("int gate;")], "p2");
    expect(t.items[0]!.verdict).toBe("answered");
  });

  it("the quoted code changed as asked is addressed; changed some other way it is unclear", async () => {
    const done = await trackLatest([...V1, v2("bool gate;")], "p2");
    expect(done.items[0]!.verdict).toBe("addressed");
    const other = await trackLatest([...V1, v2("unsigned int gate;")], "p2");
    expect(other.items[0]!.verdict).toBe("unclear");
  });

  it.each([
    ["Thanks, will fix.", "promise"],
    ["Good point.", "promise"],
    ["Sure, give me a few days, I need to rebase on drm-misc-next first and then respin.", "promise"],
    ["Thanks!", undefined],
    ["No, this is intentional: the exporter keeps the mapping for the whole attachment lifetime.", "reason"],
  ])("answer %j is a %s", (text, kind) => {
    expect(classifyAnswer(text)).toBe(kind);
  });
});
