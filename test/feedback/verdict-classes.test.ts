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

/** A patch whose one hunk adds `lines` to `path`: room for a region around a quote. */
function patchWith(id: string, subject: string, day: number, path: string, lines: readonly string[]): MailSpec {
  const diff = [
    `diff --git a/${path} b/${path}`,
    "index 1111111..2222222 100644",
    `--- a/${path}`,
    `+++ b/${path}`,
    `@@ -1,2 +1,${lines.length + 2} @@`,
    " #include <linux/dma-buf.h>",
    ...lines.map((l) => `+${l}`),
    " ",
  ].join("\n");
  return { id, subject, day, body: `Change it.\n\nSigned-off-by: Jane Dev <jane.dev@example.org>\n---\n${diff}\n` };
}

describe("what a reply says, and where it points", () => {
  const reviewerReply = (id: string, body: string): MailSpec => ({ id, subject: "Re: [PATCH] dma-buf: gate the import", parent: "p1", from: PRIYA, day: 1, body });
  const itemsOf = async (r: MailSpec) => (await trackLatest([V1[0]!, r, { id: "p2", subject: "[PATCH v2] dma-buf: gate the import", day: 5, changes: [{ path: CORE, line: "int gate;" }] }], "p2")).items;

  it("a question signed on its last line is still a question", async () => {
    const items = await itemsOf(reviewerReply("q", `Quoting Jane Dev (2026-11-02 10:00:00)\n${quoted("int gate;")}\n\nIf nobody reads the gate, why is it set at all?\n-Priya\n`));
    expect(items.map((i) => `${i.kind}: ${i.text}`)).toEqual(["question: If nobody reads the gate, why is it set at all?"]);
  });

  it("a build robot's error report is a request", async () => {
    const robot = "Hi Jane,\n\nThank you for the patch! Yet something to improve:\n\ndrivers/dma-buf/dma-buf.c:2:5: error: unknown type name 'gate_t'\n";
    const items = await itemsOf(reviewerReply("bot", robot));
    expect(items.map((i) => i.kind)).toEqual(["change requested"]);
  });
});

describe("judging on the quoted region", () => {
  const HELPER = "drivers/dma-buf/dma-buf-helper.c";
  const v1 = patchWith("h1", "[PATCH] dma-buf: gate helper", 0, CORE, ["static int gate;", "", "static void open_gate(void)", "{", "\tgate = 1;", "}"]);
  const ask = (body: string): MailSpec => ({ id: "hr", subject: "Re: [PATCH] dma-buf: gate helper", parent: "h1", from: PRIYA, day: 1, body });

  it("a change a few lines from the quote, bringing what was asked, addresses the point", async () => {
    const q = "> +static void open_gate(void)\n\nPlease take the gate lock here.\n";
    const v2 = patchWith("h2", "[PATCH v2] dma-buf: gate helper", 4, CORE, ["static int gate;", "", "static void open_gate(void)", "{", "\tguard(mutex)(&gate_lock);", "\tgate = 1;", "}"]);
    const t = await trackLatest([v1, ask(q), v2], "h2");
    expect(t.items.map((i) => `${i.verdict}: ${i.evidence[0]}`)).toEqual([
      'addressed: interdiff v1 1/1 → v2 1/1: the quoted lines stay, the code around them in open_gate() changed: v2 "+ guard(mutex)(&gate_lock);"',
    ]);
  });

  it("code moved to another file is followed there, not called gone", async () => {
    const q = "> +\tgate = 1;\n\nPlease move the gate handling into a helper file.\n";
    const v2 = patchWith("h2", "[PATCH v2] dma-buf: gate helper", 4, HELPER, ["static int gate;", "", "static void open_gate(void)", "{", "\tgate = 1;", "}"]);
    const t = await trackLatest([v1, ask(q), v2], "h2");
    expect(t.items[0]!.verdict).not.toBe("obsolete");
    expect(t.items[0]!.evidence[0]).toContain(`now at ${HELPER}`);
  });

  it("a patch dropped after the reviewer called it unused is addressed; dropped unasked it is obsolete", async () => {
    const c1: MailSpec = { id: "k0", subject: "[PATCH 0/2] dma-buf: gates" };
    const a1: MailSpec = { id: "k1", subject: "[PATCH 1/2] dma-buf: gate", parent: "k0", changes: [{ path: CORE, line: "int gate;" }] };
    const b1: MailSpec = { id: "k2", subject: "[PATCH 2/2] dma-buf: gate helper", parent: "k0", changes: [{ path: HELPER, line: "int helper;" }] };
    const said = (body: string): MailSpec => ({ id: "kr", subject: "Re: [PATCH 2/2] dma-buf: gate helper", parent: "k2", from: PRIYA, day: 1, body: `${quoted("int helper;")}\n\n${body}\n` });
    const v2: MailSpec[] = [
      { id: "m0", subject: "[PATCH v2 0/1] dma-buf: gates", day: 4 },
      { id: "m1", subject: "[PATCH v2 1/1] dma-buf: gate", parent: "m0", day: 4, changes: [{ path: CORE, line: "int gate;" }] },
    ];
    const unused = await trackLatest([c1, a1, b1, said("This helper is unused, please drop it."), ...v2], "m0");
    expect(unused.items.map((i) => i.verdict)).toEqual(["addressed"]);
    const other = await trackLatest([c1, a1, b1, said("Please rename the helper to gate_helper."), ...v2], "m0");
    expect(other.items.map((i) => i.verdict)).toEqual(["obsolete"]);
  });
});

describe("each step", () => {
  it("a point raised on v1 has a verdict against v2 and against v3", async () => {
    const t = await trackLatest(
      [
        ...V1,
        { id: "s2", subject: "[PATCH v2] dma-buf: gate the import", day: 4, changes: [{ path: CORE, line: "int gate;" }] },
        { id: "s3", subject: "[PATCH v3] dma-buf: gate the import", day: 8, changes: [{ path: CORE, line: "bool gate;" }], notes: "v3: the gate is a bool (Priya)" },
      ],
      "s3",
    );
    expect(t.items.map((i) => ({ id: i.id, verdict: i.verdict, history: i.history }))).toEqual([
      { id: "1.1", verdict: "addressed", history: [{ revision: 2, verdict: "not addressed" }, { revision: 3, verdict: "addressed" }] },
    ]);
  });
});
