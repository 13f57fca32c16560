import { describe, expect, it } from "vitest";
import { classify, extractItems, keySentence } from "../../src/feedback/items.js";
import { groupSeries } from "../../src/patch/series.js";
import { JANE, mail } from "./build.js";

const PRIYA = { name: "Priya Raman", email: "priya@example.org" };
const SAM = { name: "Sam Okafor", email: "sam@example.net" };
const NADIA = { name: "Nadia Leclerc", email: "nadia@example.ca" };

describe("classify and keySentence", () => {
  it.each([
    ["NAK for the videobuf2 part. It breaks capture.", "objection"],
    ["That is a regression for userspace that works today.", "objection"],
    ["How about letting the exporter override the flag?", "suggestion"],
    ["Nit: the comment has a typo.", "suggestion"],
    ["Could the decision be made per attachment instead?", "change requested"],
    ["Please spell out who may clear it.", "change requested"],
    ["Why does vmalloc always set the flag?", "question"],
    ["Looks good to me.", "ack"],
    ["Ran it on my laptop, nothing was refused.", undefined],
    ["The GPU driver doesn't need to allocate system memory for HMM.", undefined],
    ["There is no need to touch this code.", undefined],
    ["Ah, needs to be earlier :)", "change requested"],
    ["Pls add a link to the enum.", "change requested"],
    ["s/ure/sure/", "change requested"],
  ])("%s -> %s", (text, kind) => {
    expect(classify(text)).toBe(kind);
  });

  it("picks the sentence that asks, and keeps the antecedent of a short one opening on a pronoun", () => {
    expect(keySentence("The exporter knows more. Could the decision be made per attachment instead?", "change requested")).toBe(
      "Could the decision be made per attachment instead?",
    );
    expect(keySentence("Swapping roles is not generic. Please don't present it as the way out.", "change requested")).toBe(
      "Swapping roles is not generic. Please don't present it as the way out.",
    );
    expect(keySentence("The memory is written by the CPU. Why is it coherent? I don't see it.", "question")).toBe(
      "The memory is written by the CPU. Why is it coherent?",
    );
    expect(keySentence("Why does vmalloc set the flag? The CPU writes it.", "question")).toBe("Why does vmalloc set the flag?");
  });
});

const DIFF_QUOTE = ["> @@ -1,2 +1,3 @@", ">  #include <linux/dma-buf.h>", "> +int gate;"].join("\n");

function thread(replies: Parameters<typeof mail>[0][]) {
  const g = groupSeries([
    mail({ id: "c", subject: "[PATCH 0/1] dma-buf: a gate" , body: "Userspace can copy through the CPU.\n" }),
    mail({ id: "p", subject: "[PATCH 1/1] dma-buf: add a gate", parent: "c", changes: [{ path: "drivers/dma-buf/dma-buf.c", line: "int gate;" }] }),
    ...replies.map(mail),
  ]);
  return g.series[0]!;
}

describe("extractItems", () => {
  it("anchors a point under a quoted diff line, numbers by date, ignores the author's own replies, records trailers as acks", () => {
    const s = thread([
      { id: "r2", subject: "Re: [PATCH 1/1] dma-buf: add a gate", parent: "p", from: SAM, day: 2, body: "Reviewed-by: Sam Okafor <sam@example.net>\n" },
      { id: "r1", subject: "Re: [PATCH 1/1] dma-buf: add a gate", parent: "p", from: PRIYA, day: 1, body: `${DIFF_QUOTE}\n\nThis gives false positives.\n` },
      { id: "a1", subject: "Re: [PATCH 1/1] dma-buf: add a gate", parent: "r1", refs: ["p", "r1"], from: JANE, day: 3, body: "> This gives false positives.\n\nIt does not, because nobody snoops there.\n" },
    ]);
    const items = extractItems(s, [JANE]);
    expect(items.map((i) => [i.id, i.author.name, i.kind, i.source, i.patch.index, i.anchor.kind, i.anchor.file, i.anchor.line, i.text])).toEqual([
      ["1.1", "Priya Raman", "remark", "r1", 1, "code", "drivers/dma-buf/dma-buf.c", 2, "This gives false positives."],
      ["1.2", "Sam Okafor", "ack", "r2", 1, "none", undefined, undefined, "Reviewed-by: Sam Okafor <sam@example.net>"],
    ]);
    expect(items[0]!.anchor.quoted).toEqual(["+int gate;"]);
  });

  it("makes no item of a remark with nothing in it, and reads a sed-style correction or a typo note as a request", () => {
    const under = (id: string, day: number, body: string, from = PRIYA) => ({ id, subject: "Re: [PATCH 1/1] dma-buf: add a gate", parent: "p", from, day, body: `${DIFF_QUOTE}\n\n${body}\n` });
    const s = thread([
      under("e1", 1, "Ok."),
      under("e2", 1, "Yes, that works."),
      under("e3", 1, "... snip"),
      under("e4", 1, "Priya"),
      under("e5", 1, "ack. I misread it.", SAM),
      under("k1", 2, "s/gate/gates/"),
      under("k2", 2, "^^^^ Typo", SAM),
      under("k3", 2, "It's 2022 :-)"),
      under("k4", 2, "Same here."),
      under("k5", 2, "Didn't check you didn't slip in a typo or so :-)"),
    ]);
    expect(extractItems(s, [JANE]).map((i) => `${i.source} ${i.kind}`)).toEqual(["k1 change requested", "k2 change requested", "k3 remark", "k4 remark", "k5 remark"]);
  });

  it("merges a '+1' under another reviewer's quoted words, and a numbered summary naming the reviewer", () => {
    const s = thread([
      { id: "r1", subject: "Re: [PATCH 1/1] dma-buf: add a gate", parent: "p", from: PRIYA, day: 1, body: `${DIFF_QUOTE}\n\nThe whole device gets one answer from dev_is_dma_coherent(), so please decide per attachment instead.\n` },
      {
        id: "r2",
        subject: "Re: [PATCH 1/1] dma-buf: add a gate",
        parent: "r1",
        refs: ["p", "r1"],
        from: SAM,
        day: 2,
        body: "> The whole device gets one answer from dev_is_dma_coherent(), so please\n> decide per attachment instead.\n\n+1, same on our hardware.\n",
      },
      {
        id: "r3",
        subject: "Re: [PATCH 0/1] dma-buf: a gate",
        parent: "c",
        from: NADIA,
        day: 4,
        body: "To sum up, for v2:\n\n1. Priya wants a per-attachment answer, not dev_is_dma_coherent() per device.\n2. Please also document the gate.\n",
      },
    ]);
    const items = extractItems(s, [JANE]);
    expect(items.map((i) => [i.id, i.author.name, i.text, i.restatedIn.map((r) => r.source)])).toEqual([
      ["1.1", "Priya Raman", "The whole device gets one answer from dev_is_dma_coherent(), so please decide per attachment instead.", ["r2", "r3"]],
      ["1.2", "Nadia Leclerc", "Please also document the gate.", []],
    ]);
  });

  it("reads the replies of a RESEND with those of the revision it repeats", () => {
    const g = groupSeries([
      mail({ id: "o", subject: "[PATCH] dma-buf: fix" }),
      mail({ id: "r", subject: "[RESEND PATCH] dma-buf: fix", day: 5 }),
      mail({ id: "x1", subject: "Re: [PATCH] dma-buf: fix", parent: "o", from: PRIYA, day: 1, body: "Why is this needed?\n" }),
      mail({ id: "x2", subject: "Re: [RESEND PATCH] dma-buf: fix", parent: "r", from: SAM, day: 6, body: "Please add a Fixes: tag.\n" }),
    ]).series;
    const items = extractItems(g, [JANE]);
    expect(items.map((i) => `${i.id} ${i.source} ${i.kind}`)).toEqual(["1.1 x1 question", "1.2 x2 change requested"]);
  });

  it("a reviewer coming back to their own point after the author's answer restates it", () => {
    const s = thread([
      { id: "r1", subject: "Re: [PATCH 1/1] dma-buf: add a gate", parent: "p", from: PRIYA, day: 1, body: `${DIFF_QUOTE}\n\nThis refuses imports that work today, a regression for userspace.\n` },
      { id: "a1", subject: "Re: [PATCH 1/1] dma-buf: add a gate", parent: "r1", refs: ["p", "r1"], from: JANE, day: 2, body: "> a regression for userspace.\n\nThey only work by luck, so the check stays.\n" },
      {
        id: "r2",
        subject: "Re: [PATCH 1/1] dma-buf: add a gate",
        parent: "a1",
        refs: ["p", "r1", "a1"],
        from: PRIYA,
        day: 3,
        body: "> They only work by luck, so the check stays.\n\nThey work with bracketed access, and breaking userspace that works today is a regression.\n",
      },
    ]);
    const items = extractItems(s, [JANE]);
    expect(items.map((i) => `${i.id} ${i.kind} ${i.source} <- ${i.restatedIn.map((r) => r.source).join(",")}`)).toEqual(["1.1 objection r1 <- r2"]);
  });
});
