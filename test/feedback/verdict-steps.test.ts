// Verdicts measured wrong on the real archive (issue 16), one fixture of each shape.
import { describe, expect, it } from "vitest";
import { trackSeries, type Tracker } from "../../src/feedback/track.js";
import { groupSeries } from "../../src/patch/series.js";
import { diffOf as diffOfAll, mail, type MailSpec } from "./build.js";
import { trackDeps } from "./fixture.js";

const PRIYA = { name: "Priya Raman", email: "priya@example.org" };
const ROBOT = { name: "kernel test robot", email: "lkp@intel.com" };
const CORE = "drivers/dma-buf/dma-buf.c";
const SOB = "Signed-off-by: Jane Dev <jane.dev@example.org>";

async function trackLatest(specs: readonly MailSpec[], latest: string): Promise<Tracker> {
  const all = [...groupSeries(specs.map(mail)).series];
  const r = trackSeries(all.find((s) => s.id === latest)!, all, await trackDeps());
  if (r.kind !== "tracked") throw new Error(r.reason);
  return r.tracker;
}

/** Two hunks in one function, twenty lines apart: the second carries `tail`. */
function twoHunks(id: string, subject: string, day: number, tail: string, notes = ""): MailSpec {
  const diff = [
    `diff --git a/${CORE} b/${CORE}`,
    "index 1111111..2222222 100644",
    `--- a/${CORE}`,
    `+++ b/${CORE}`,
    "@@ -10,4 +10,5 @@ int dma_buf_frob(struct dma_buf *dmabuf)",
    " {",
    "+\tlist_add(&dmabuf->node, &frob_list);",
    " \tif (!dmabuf)",
    " \t\treturn -EINVAL;",
    " ",
    "@@ -40,4 +41,5 @@ int dma_buf_frob(struct dma_buf *dmabuf)",
    " \tcount++;",
    `+\t${tail}`,
    " \treturn 0;",
    " }",
    " ",
  ].join("\n");
  return { id, subject, day, body: `Frob the buffer.\n\n${SOB}\n---\n${notes}${diff}\n` };
}

const diffOf = (path: string, line: string) => diffOfAll([{ path, line }]);

const reply = (id: string, parent: string, subject: string, from: MailSpec["from"], day: number, body: string): MailSpec => ({ id, subject, parent, from, day, body });

describe("a change in the quoted function after a request", () => {
  const V1 = twoHunks("f1", "[PATCH] dma-buf: frob", 0, "frob_done = 1;");
  const ask = reply("fr", "f1", "Re: [PATCH] dma-buf: frob", PRIYA, 1, "> +\tlist_add(&dmabuf->node, &frob_list);\n\nPlease handle the error path here as well.\n");

  it("is addressed when the function changed away from the quoted lines, and not addressed when it did not", async () => {
    const moved = await trackLatest([V1, ask, twoHunks("f2", "[PATCH v2] dma-buf: frob", 4, "frob_done = count;")], "f2");
    expect(moved.items.map((i) => i.verdict)).toEqual(["addressed"]);
    expect(moved.items[0]!.evidence[0]).toContain("dma_buf_frob() changed elsewhere");
    const same = await trackLatest([V1, ask, twoHunks("f2", "[PATCH v2] dma-buf: frob", 4, "frob_done = 1;")], "f2");
    expect(same.items.map((i) => i.verdict)).toEqual(["not addressed"]);
  });

  it("follows a function the point names when the quote sits elsewhere", async () => {
    // The quote is in dma_buf_frob; the point is about dma_buf_other, which the next revision changes.
    const other = (id: string, subject: string, day: number, line: string): MailSpec => {
      const base = twoHunks(id, subject, day, "frob_done = 1;");
      const extra = ["@@ -80,3 +82,4 @@ static void dma_buf_other(struct dma_buf *dmabuf)", " {", `+\t${line}`, " }", " "].join("\n");
      return { ...base, body: `${base.body!.replace(/\n$/, "")}\n${extra}\n` };
    };
    const named = reply("fn", "f1", "Re: [PATCH] dma-buf: frob", PRIYA, 1, "> +\tlist_add(&dmabuf->node, &frob_list);\n\nIn dma_buf_other() the list needs the lock too, please.\n");
    const t = await trackLatest([other("f1", "[PATCH] dma-buf: frob", 0, "other = 1;"), named, other("f2", "[PATCH v2] dma-buf: frob", 4, "other = 2;")], "f2");
    expect(t.items.map((i) => `${i.verdict}: ${i.evidence[0]}`)).toEqual([expect.stringMatching(/^addressed: .*dma_buf_other\(\) changed elsewhere/)]);
  });
});

describe("replies that are not review by a person", () => {
  it("a build robot's report followed by a changed patch is addressed", async () => {
    const v1: MailSpec = { id: "b1", subject: "[PATCH] dma-buf: gate", changes: [{ path: CORE, line: "gate_t gate;" }] };
    const robot = reply("bot", "b1", "Re: [PATCH] dma-buf: gate", ROBOT, 1, "Hi Jane,\n\nThank you for the patch! Yet something to improve:\n\n[auto build test ERROR on misc/next]\n\ndrivers/dma-buf/dma-buf.c:2:1: error: unknown type name 'gate_t'\n");
    const v2: MailSpec = { id: "b2", subject: "[PATCH v2] dma-buf: gate", day: 3, changes: [{ path: CORE, line: "int gate;" }] };
    const t = await trackLatest([v1, robot, v2], "b2");
    expect(t.items.map((i) => `${i.verdict}: ${i.evidence[0]}`)).toEqual(["addressed: a build report by kernel test robot, and v2 1/1 changed after it"]);
  });

  it("a promise on an unquoted point, then a changed patch, is addressed", async () => {
    const v1: MailSpec = { id: "u1", subject: "[PATCH] dma-buf: gate", changes: [{ path: CORE, line: "int gate;" }] };
    const ask = reply("ur", "u1", "Re: [PATCH] dma-buf: gate", PRIYA, 1, "Please split the gate handling into a helper of its own.\n");
    const yes: MailSpec = { id: "uy", subject: "Re: [PATCH] dma-buf: gate", parent: "ur", refs: ["u1", "ur"], day: 2, body: "> Please split the gate handling into a helper of its own.\n\nWill do in v2.\n" };
    const changed = await trackLatest([v1, ask, yes, { id: "u2", subject: "[PATCH v2] dma-buf: gate", day: 4, changes: [{ path: CORE, line: "static int gate;" }] }], "u2");
    expect(changed.items.map((i) => i.verdict)).toEqual(["addressed"]);
    const kept = await trackLatest([v1, ask, yes, { id: "u2", subject: "[PATCH v2] dma-buf: gate", day: 4, changes: [{ path: CORE, line: "int gate;" }] }], "u2");
    expect(kept.items.map((i) => i.verdict)).toEqual(["not addressed"]);
  });
});

describe("points on the cover letter", () => {
  const patch = (id: string, parent: string, v: string, day: number): MailSpec => ({ id, subject: `[PATCH${v} 1/1] dma-buf: gate`, parent, day, changes: [{ path: CORE, line: "int gate;" }] });
  const cover = (id: string, v: string, day: number, body: string): MailSpec => ({ id, subject: `[PATCH${v} 0/1] dma-buf: a gate`, day, body });
  const V1 = [cover("c1", "", 0, "This adds a gate to the import path.\n"), patch("p1", "c1", "", 0)];
  const ask = reply("cr", "c1", "Re: [PATCH 0/1] dma-buf: a gate", PRIYA, 1, "> This adds a gate to the import path.\n\nPlease describe the use case here, and which platform you tested it on.\n");

  it("is addressed when the next cover takes up its words, not addressed when it only repeats itself", async () => {
    const told = cover("c2", " v2", 4, "This adds a gate to the import path.\n\nThe use case is camera capture into a display plane; tested on a platform with an IOMMU in front of the camera.\n");
    const t = await trackLatest([...V1, ask, told, patch("p2", "c2", " v2", 4)], "c2");
    expect(t.items.map((i) => i.verdict)).toEqual(["addressed"]);
    const same = cover("c2", " v2", 4, "This adds a gate to the import path.\n\nRebased.\n");
    const u = await trackLatest([...V1, ask, same, patch("p2", "c2", " v2", 4)], "c2");
    expect(u.items.map((i) => i.verdict)).toEqual(["not addressed"]);
  });

  it("counts a hyphenated word and its joined spelling as one when the cover takes up the point", async () => {
    const sdp = reply("cs", "c1", "Re: [PATCH 0/1] dma-buf: a gate", PRIYA, 1, "> This adds a gate to the import path.\n\nPlease describe the OP-TEE side and the board it ran on.\n");
    const told = cover("c2", " v2", 4, "This adds a gate to the import path.\n\nThe secure path of OPTEE uses it; it ran on a HiKey board.\n");
    const t = await trackLatest([...V1, sdp, told, patch("p2", "c2", " v2", 4)], "c2");
    expect(t.items.map((i) => i.verdict)).toEqual(["addressed"]);
  });

  it("a cover-letter changelog line answers a cover-letter point", async () => {
    const lint = reply("cl", "c1", "Re: [PATCH 0/1] dma-buf: a gate", PRIYA, 1, "checkpatch --strict still complains about the alignment of the gate, please fix it.\n");
    const v2 = cover("c2", " v2", 4, "This adds a gate to the import path.\n\nChanges in v2:\n- fix the strict checkpatch complaints\n");
    const t = await trackLatest([...V1, lint, v2, patch("p2", "c2", " v2", 4)], "c2");
    expect(t.items.map((i) => `${i.verdict}: ${i.evidence[0]}`)).toEqual(['addressed: changelog v2, cover letter: "fix the strict checkpatch complaints"']);
  });
});

describe("patches that leave", () => {
  const c1: MailSpec = { id: "k0", subject: "[PATCH 0/2] dma-buf: pools" };
  const a1: MailSpec = { id: "k1", subject: "[PATCH 1/2] dma-buf: gate", parent: "k0", changes: [{ path: CORE, line: "int gate;" }] };
  const b1: MailSpec = { id: "k2", subject: "[PATCH 2/2] dma-buf: page pool", parent: "k0", changes: [{ path: "drivers/dma-buf/pool.c", line: "int pool;" }] };

  it("a patch dropped after the reviewer found it not used anywhere is addressed", async () => {
    const q = reply("kr", "k2", "Re: [PATCH 2/2] dma-buf: page pool", PRIYA, 1, "Am I missing something, or is this pool not actually used anywhere?\n");
    const v2: MailSpec[] = [
      { id: "m0", subject: "[PATCH v2 0/1] dma-buf: pools", day: 4 },
      { id: "m1", subject: "[PATCH v2 1/1] dma-buf: gate", parent: "m0", day: 4, changes: [{ path: CORE, line: "int gate;" }] },
    ];
    const t = await trackLatest([c1, a1, b1, q, ...v2], "m0");
    expect(t.items.map((i) => i.verdict)).toEqual(["addressed"]);
  });

  it("one patch re-sent alone leaves the others' points open, not obsolete", async () => {
    const q = reply("kq", "k2", "Re: [PATCH 2/2] dma-buf: page pool", PRIYA, 1, "> +int pool;\n\nWho takes the lock around the pool?\n");
    const why: MailSpec = { id: "ka", subject: "Re: [PATCH 2/2] dma-buf: page pool", parent: "kq", refs: ["k0", "k2", "kq"], day: 2, body: "> Who takes the lock around the pool?\n\nNobody does, and none is needed: the pool is only touched from the single allocation thread, so the sentence just says that again.\n" };
    const alone: MailSpec = { id: "r1", subject: "[PATCH] dma-buf: gate", day: 4, changes: [{ path: CORE, line: "bool gate;" }] };
    const t = await trackLatest([c1, a1, b1, q, why, alone], "r1");
    expect(t.items.map((i) => `${i.verdict}: ${i.evidence[1] ?? ""}`)).toEqual(['answered: v1 2/2 was not re-sent: v2 carries only "dma-buf: gate"']);
  });
});

describe("what the author said, against what the next revision did", () => {
  const v1: MailSpec = { id: "w1", subject: "[PATCH] dma-buf: gate", body: `Add the gate with dma_buf_vmap_unlocked().\n\n${SOB}\n---\n${diffOf(CORE, "int gate;")}\n` };
  const ask = reply("wr", "w1", "Re: [PATCH] dma-buf: gate", PRIYA, 1, "> Add the gate with dma_buf_vmap_unlocked().\n\nThe commit message should name the locked variant, please.\n");
  const answer = (body: string): MailSpec => ({ id: "wa", subject: "Re: [PATCH] dma-buf: gate", parent: "wr", refs: ["w1", "wr"], day: 2, body: `> The commit message should name the locked variant, please.\n\n${body}\n` });
  const v2 = (message: string, line = "int gate;", notes = ""): MailSpec => ({ id: "w2", subject: "[PATCH v2] dma-buf: gate", day: 4, body: `${message}\n\n${SOB}\n---\n${notes}${diffOf(CORE, line)}\n` });

  it("a promise, then the quoted commit message text changed, is addressed; the text kept, not addressed", async () => {
    const done = await trackLatest([v1, ask, answer("Yes, that should go. Thanks for the review!"), v2("Add the gate with dma_buf_vmap().")], "w2");
    expect(done.items.map((i) => i.verdict)).toEqual(["addressed"]);
    const kept = await trackLatest([v1, ask, answer("Yes, that should go. Thanks for the review!"), v2("Add the gate with dma_buf_vmap_unlocked().", "bool gate;")], "w2");
    expect(kept.items.map((i) => i.verdict)).toEqual(["not addressed"]);
  });

  it("a changelog line about the commit message is borne out by the message alone", async () => {
    const t = await trackLatest([v1, ask, v2("Add the gate with dma_buf_vmap().", "int gate;", "v2: name the locked variant in the commit message (Priya)\n")], "w2");
    expect(t.items.map((i) => `${i.verdict}: ${i.evidence[0]}`)).toEqual(['addressed: changelog v2, patch 1/1: "name the locked variant in the commit message (Priya)"']);
  });

  it("a reason against the request, then the change made as asked, is addressed", async () => {
    const p1: MailSpec = { id: "g1", subject: "[PATCH] dma-buf: gate", changes: [{ path: CORE, line: "int gate;" }] };
    const q = reply("gr", "g1", "Re: [PATCH] dma-buf: gate", PRIYA, 1, "> +int gate;\n\nPlease protect the gate with gate_lock.\n");
    const no: MailSpec = { id: "ga", subject: "Re: [PATCH] dma-buf: gate", parent: "gr", refs: ["g1", "gr"], day: 2, body: "> Please protect the gate with gate_lock.\n\nThe gate is only written from the probe path, so nothing races with it there and a lock buys nothing.\n" };
    const p2: MailSpec = { id: "g2", subject: "[PATCH v2] dma-buf: gate", day: 4, changes: [{ path: CORE, line: "int gate; /* under gate_lock */" }] };
    const t = await trackLatest([p1, q, no, p2], "g2");
    expect(t.items.map((i) => i.verdict)).toEqual(["addressed"]);
  });
});

describe("steps numbered as the chain counts them", () => {
  it("an untagged repost's point is named by the revision its notes give, in the step that follows it", async () => {
    const p = (id: string, day: number, line: string, notes = ""): MailSpec => ({ id, subject: "[PATCH] dma-buf: gate", day, changes: [{ path: CORE, line }], ...(notes ? { notes } : {}) });
    const ask = reply("sr", "s2", "Re: [PATCH] dma-buf: gate", PRIYA, 5, "> +long gate;\n\nPlease make the gate a bool.\n");
    const t = await trackLatest([p("s1", 0, "int gate;"), p("s2", 4, "long gate;", "v2: the gate is a long"), ask, p("s3", 8, "bool gate;", "v3: the gate is a bool")], "s3");
    const item = t.items.find((i) => i.source === "sr")!;
    expect(item.evidence.join(" | ")).toContain("v2 1/1 → v3 1/1");
  });
});

describe("code that moved", () => {
  it("a file renamed with the quoted lines rewritten is followed by its function, not called gone", async () => {
    const at = (id: string, subject: string, day: number, path: string, line: string): MailSpec => ({
      id,
      subject,
      day,
      body: [
        "Free the table.",
        "",
        SOB,
        "---",
        `diff --git a/${path} b/${path}`,
        "index 1111111..2222222 100644",
        `--- a/${path}`,
        `+++ b/${path}`,
        "@@ -20,3 +20,4 @@ static void frob_release(struct frob *f)",
        " {",
        `+\t${line}`,
        " \tkfree(f);",
        " }",
        "",
      ].join("\n"),
    });
    const v1 = at("r1", "[PATCH] dma-buf: frob release", 0, "drivers/dma-buf/frob-old.c", "sg_free_table(f->sgt);");
    const ask = reply("rr", "r1", "Re: [PATCH] dma-buf: frob release", PRIYA, 1, "> +\tsg_free_table(f->sgt);\n\nPlease restore the entry count before freeing the table.\n");
    const v2 = at("r2", "[PATCH v2] dma-buf: frob release", 4, "drivers/dma-buf/frob.c", "f->sgt->orig_nents = f->count; sg_free_table(f->sgt);");
    const t = await trackLatest([v1, ask, v2], "r2");
    expect(t.items.map((i) => `${i.verdict}: ${i.evidence[0]}`)).toEqual([expect.stringMatching(/^addressed: .*frob_release.*now drivers\/dma-buf\/frob\.c/)]);
  });
});
