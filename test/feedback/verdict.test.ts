import { describe, expect, it } from "vitest";
import { trackSeries, type Tracker } from "../../src/feedback/track.js";
import { groupSeries } from "../../src/patch/series.js";
import { mail, type MailSpec } from "./build.js";
import { trackDeps } from "./fixture.js";

const SAM = { name: "Sam Okafor", email: "sam@example.net" };
const PRIYA = { name: "Priya Raman", email: "priya@example.org" };
const CORE = "drivers/dma-buf/dma-buf.c";
const HEAP = "drivers/dma-buf/heaps/system_heap.c";

const DIFF_QUOTE = (line: string) => ["> @@ -1,2 +1,3 @@", ">  #include <linux/dma-buf.h>", `> +${line}`].join("\n");

const V1: MailSpec[] = [
  { id: "c1", subject: "[PATCH 0/2] dma-buf: two things" },
  { id: "a1", subject: "[PATCH 1/2] dma-buf: gate", parent: "c1", changes: [{ path: CORE, line: "int gate; /* why */" }] },
  { id: "b1", subject: "[PATCH 2/2] dma-buf: heaps: flag", parent: "c1", changes: [{ path: HEAP, line: "int flag;" }] },
  { id: "r1", subject: "Re: [PATCH 1/2] dma-buf: gate", parent: "a1", from: SAM, day: 1, body: "Reviewed-by: Sam Okafor <sam@example.net>\n" },
  { id: "r2", subject: "Re: [PATCH 2/2] dma-buf: heaps: flag", parent: "b1", from: PRIYA, day: 1, body: "Acked-by: Priya Raman <priya@example.org>\n" },
  { id: "r3", subject: "Re: [PATCH 1/2] dma-buf: gate", parent: "a1", from: PRIYA, day: 2, body: `${DIFF_QUOTE("int gate; /* why */")}\n\nWhy is the gate an int?\n` },
  { id: "r4", subject: "Re: [PATCH 1/2] dma-buf: gate", parent: "a1", from: PRIYA, day: 2, body: `${DIFF_QUOTE("int gate; /* why */")}\n\nPlease make the gate a bool.\n` },
];

async function track(v2: MailSpec[], extra: MailSpec[] = []): Promise<Tracker> {
  const all = groupSeries([...V1, ...v2, ...extra].map(mail)).series;
  const latest = all.find((s) => s.revision === 2)!;
  const r = trackSeries(latest, all, await trackDeps());
  if (r.kind !== "tracked") throw new Error(r.reason);
  return r.tracker;
}

const v2 = (gate: string, opts: { sam?: boolean; notes?: string; heap?: boolean } = {}): MailSpec[] => [
  { id: "c2", subject: `[PATCH v2 0/${opts.heap === false ? 1 : 2}] dma-buf: two things`, day: 5 },
  {
    id: "a2",
    subject: `[PATCH v2 1/${opts.heap === false ? 1 : 2}] dma-buf: gate`,
    parent: "c2",
    day: 5,
    changes: [{ path: CORE, line: gate }],
    ...(opts.sam === false ? {} : { trailers: ["Reviewed-by: Sam Okafor <sam@example.net>"] }),
    ...(opts.notes ? { notes: opts.notes } : {}),
  },
  ...(opts.heap === false ? [] : [{ id: "b2", subject: "[PATCH v2 2/2] dma-buf: heaps: flag", parent: "c2", day: 5, changes: [{ path: HEAP, line: "int flag;" }] }]),
];

const verdicts = (t: Tracker) => t.items.map((i) => `${i.id} ${i.kind} ${i.verdict}: ${i.evidence.join(" | ")}`);

describe("verdicts on a small series", () => {
  it("an unchanged patch: tag carried is addressed, tag not carried is noted, unanswered points are not addressed", async () => {
    const t = await track(v2("int gate; /* why */", { heap: true }));
    expect(verdicts(t)).toEqual([
      "1.1 ack addressed: Reviewed-by: Sam Okafor <sam@example.net> given in <r1> on v1 1/2 is carried into v2 1/2; the patch is unchanged",
      "1.2 ack not addressed: Acked-by: Priya Raman <priya@example.org> given in <r2> on v1 2/2 is not carried into v2 2/2 although the patch is unchanged",
      "1.3 question not addressed: no answer from the author in the thread, and nothing in v2's changelog | interdiff v1 1/2 → v2 1/2: the quoted lines are unchanged, now at drivers/dma-buf/dma-buf.c:2",
      "1.4 change requested not addressed: interdiff v1 1/2 → v2 1/2: the quoted lines are unchanged, now at drivers/dma-buf/dma-buf.c:2 | nothing in the changelog or the thread says why",
    ]);
  });

  it("a remark on unchanged quoted code is unclear, not passed over: it asked for nothing in so many words", async () => {
    const remark: MailSpec = { id: "r5", subject: "Re: [PATCH 1/2] dma-buf: gate", parent: "a1", from: SAM, day: 2, body: `${DIFF_QUOTE("int gate; /* why */")}\n\nThis one is read by the exporter, not the importer.\n` };
    const t = await track(v2("int gate; /* why */"), [remark]);
    expect(verdicts(t).filter((v) => v.includes(" remark ") || v.includes(" change requested "))).toEqual([
      "1.4 change requested not addressed: interdiff v1 1/2 → v2 1/2: the quoted lines are unchanged, now at drivers/dma-buf/dma-buf.c:2 | nothing in the changelog or the thread says why",
      "1.5 remark unclear: interdiff v1 1/2 → v2 1/2: the quoted lines are unchanged, now at drivers/dma-buf/dma-buf.c:2 | nothing in the changelog or the thread says why | the point asks for no change in so many words",
    ]);
  });

  it("a comment-only change keeps the tag; the request done and said in the notes is addressed; a reason given while the quoted code changed anyway is unclear", async () => {
    const answer: MailSpec = {
      id: "ans",
      subject: "Re: [PATCH 1/2] dma-buf: gate",
      parent: "r3",
      refs: ["a1", "r3"],
      day: 3,
      body: "> Why is the gate an int?\n\nBecause the callers compare it with counters, and a bool would hide an overflow.\n",
    };
    const t = await track(v2("bool gate; /* why */", { notes: "v2: the gate is a bool now (Priya)" }), [answer]);
    expect(verdicts(t)).toEqual([
      "1.1 ack addressed: Reviewed-by: Sam Okafor <sam@example.net> given in <r1> on v1 1/2 is carried into v2 1/2; the patch is changed only in comments or a line or two",
      "1.2 ack not addressed: Acked-by: Priya Raman <priya@example.org> given in <r2> on v1 2/2 is not carried into v2 2/2 although the patch is unchanged",
      '1.3 question unclear: interdiff v1 1/2 → v2 1/2: the quoted lines changed in drivers/dma-buf/dma-buf.c: v1 "+int gate; /* why */", v2 "+bool gate; /* why */" | the changelog does not mention it | reply <ans> from Jane Dev, 2026-11-05: "Because the callers compare it with counters, and a bool would hide an overflow."',
      '1.4 change requested addressed: changelog v2, patch 1/2: "the gate is a bool now (Priya)" | interdiff v1 1/2 → v2 1/2: the quoted lines changed in drivers/dma-buf/dma-buf.c: v1 "+int gate; /* why */", v2 "+bool gate; /* why */"',
    ]);
  });

  it("a dropped patch makes its ack obsolete; code changed without a word in the changelog is unclear", async () => {
    const t = await track(v2("unsigned int gate;", { heap: false, sam: false }));
    expect(verdicts(t)).toEqual([
      "1.1 ack not addressed: Reviewed-by: Sam Okafor <sam@example.net> given in <r1> on v1 1/2 is not carried into v2 1/1",
      '1.2 ack obsolete: Acked-by: Priya Raman <priya@example.org> given in <r2>; v1 2/2 "dma-buf: heaps: flag" has no counterpart in v2',
      '1.3 question unclear: interdiff v1 1/2 → v2 1/1: the quoted lines changed in drivers/dma-buf/dma-buf.c: v1 "+int gate; /* why */", v2 "+unsigned int gate;" | the changelog does not mention it',
      '1.4 change requested unclear: interdiff v1 1/2 → v2 1/1: the quoted lines changed in drivers/dma-buf/dma-buf.c: v1 "+int gate; /* why */", v2 "+unsigned int gate;" | the changelog does not mention it | the new lines lack the code the point asked for',
    ]);
  });

  it("a Tested-by for the whole series carried onto an unchanged patch holds, onto a new patch it is flagged", async () => {
    const tested: MailSpec = { id: "t1", subject: "Re: [PATCH 0/2] dma-buf: two things", parent: "c1", from: SAM, day: 1, body: "Tested-by: Sam Okafor <sam@example.net>\n" };
    const tag = ["Tested-by: Sam Okafor <sam@example.net>"];
    const t = await track(
      [
        { id: "c2", subject: "[PATCH v2 0/3] dma-buf: two things", day: 5 },
        { id: "a2", subject: "[PATCH v2 1/3] dma-buf: gate", parent: "c2", day: 5, changes: [{ path: CORE, line: "int gate; /* why */" }], trailers: tag },
        { id: "b2", subject: "[PATCH v2 2/3] dma-buf: heaps: flag", parent: "c2", day: 5, changes: [{ path: HEAP, line: "int flag;" }] },
        { id: "n2", subject: "[PATCH v2 3/3] dma-buf: udmabuf: new", parent: "c2", day: 5, changes: [{ path: "drivers/dma-buf/udmabuf.c", line: "int x;" }], trailers: tag },
      ],
      [tested],
    );
    const item = t.items.find((i) => i.source === "t1")!;
    expect(item.verdict).toBe("unclear");
    expect(item.evidence).toEqual([
      "Tested-by: Sam Okafor <sam@example.net> given in <t1> for the whole series is carried into v2 1/3; the patch is unchanged",
      "Tested-by: Sam Okafor <sam@example.net> given in <t1> for the whole series is carried into v2 3/3, which is a new patch",
    ]);
  });

  it("single patches without cover letters, with a RESEND between: points from both threads, judged against v2", async () => {
    const quote = DIFF_QUOTE("int gate;");
    const all = groupSeries(
      [
        { id: "o", subject: "[PATCH] dma-buf: gate", changes: [{ path: CORE, line: "int gate;" }] },
        { id: "x1", subject: "Re: [PATCH] dma-buf: gate", parent: "o", from: PRIYA, day: 1, body: `${quote}\n\nPlease make the gate a bool.\n` },
        { id: "r", subject: "[RESEND PATCH] dma-buf: gate", day: 3, changes: [{ path: CORE, line: "int gate;" }] },
        { id: "x2", subject: "Re: [RESEND PATCH] dma-buf: gate", parent: "r", from: SAM, day: 4, body: `${quote}\n\nWhy is this in the core?\n` },
        { id: "v2", subject: "[PATCH v2] dma-buf: gate", day: 6, changes: [{ path: CORE, line: "bool gate;" }], notes: "v2: bool (Priya)" },
      ].map(mail),
    ).series;
    const r = trackSeries(all.find((s) => s.id === "v2")!, all, await trackDeps());
    if (r.kind !== "tracked") throw new Error(r.reason);
    expect(r.tracker.revisions.map((s) => s.id)).toEqual(["o", "r", "v2"]);
    expect(r.tracker.links.map((l) => `${l.previous.id}->${l.series.id} ${l.how}${l.resend ? " resend" : ""}`)).toEqual(["o->r subject resend", "r->v2 subject"]);
    expect(verdicts(r.tracker)).toEqual([
      '1.1 change requested addressed: changelog v2, patch 1/1: "bool (Priya)" | interdiff v1 1/1 → v2 1/1: the quoted lines changed in drivers/dma-buf/dma-buf.c: v1 "+int gate;", v2 "+bool gate;"',
      // The code the question is about changed, with no word on it: maybe the change is the answer.
      '1.2 question unclear: interdiff v1 1/1 → v2 1/1: the quoted lines changed in drivers/dma-buf/dma-buf.c: v1 "+int gate;", v2 "+bool gate;" | the changelog does not mention it',

    ]);
  });
});
