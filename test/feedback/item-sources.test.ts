import { describe, expect, it } from "vitest";
import { classify, extractItems, personName } from "../../src/feedback/items.js";
import { quotedMessage, segmentReply } from "../../src/feedback/reply-text.js";
import { groupSeries } from "../../src/patch/series.js";
import { JANE, mail, type MailSpec } from "./build.js";

// Where review points hide in real threads, rebuilt with our own words: a reviewer only known
// through the author's quote, an author's self-review, a request in the imperative, a point
// signed with the reviewer's name.

const PRIYA = { name: "Priya Raman", email: "priya@example.org" };
const OLEK = { name: "Olek Nowak", email: "olek@example.com" };

function thread(replies: MailSpec[]) {
  const g = groupSeries([
    mail({ id: "p", subject: "[PATCH 1/2] dma-buf: require a pfnmap vma", changes: [{ path: "drivers/dma-buf/dma-buf.c", line: "int gate;" }] }),
    ...replies.map(mail),
  ]);
  return g.series.find((s) => s.id === "p")!;
}

const PATCH_QUOTE = ["> > Require a pfnmap vma on every mmap.", "> >", "> > @@ -1,2 +1,3 @@", "> >  #include <linux/dma-buf.h>", "> > +int gate;"];

describe("a reviewer whose mail is not in the input", () => {
  it("is read back out of the author's reply quoting them: their words are items, attributed to them", () => {
    const body = [
      "On Tue, Mar 3, 2026 at 9:12 AM Priya Raman (Corp)",
      "<priya@example.org> wrote:",
      ">",
      "> On 3/2/26 10:00 AM, Jane Dev wrote:",
      ...PATCH_QUOTE,
      ">",
      "> With a pfnmap requirement we also need to refuse private mappings, since",
      "> they cannot work without special ptes.",
      "",
      "Hm, I thought everyone maps these shared anyway. How would we enforce it?",
      "-Jane",
    ].join("\n");
    const s = thread([{ id: "a1", subject: "Re: [PATCH 1/2] dma-buf: require a pfnmap vma", parent: "absent@example.org", refs: ["p", "absent@example.org"], day: 1, body }]);
    const items = extractItems(s, [JANE]);
    expect(items.map((i) => [i.source, i.author.name, i.author.email, i.kind])).toEqual([["a1", "Priya Raman", "priya@example.org", "change requested"]]);
    expect(items[0]!.text).toContain("refuse private mappings");
    expect(items[0]!.anchor.quoted).toContain("+int gate;");
  });

  it("gives nothing when the quoted mail is in the input (its own items count) or when the author quotes themself", () => {
    const review = { id: "r1", subject: "Re: [PATCH 1/2] dma-buf: require a pfnmap vma", parent: "p", from: PRIYA, day: 1, body: "> +int gate;\n\nPlease also refuse private mappings.\n" };
    const answer = { id: "a1", subject: "Re: [PATCH 1/2] dma-buf: require a pfnmap vma", parent: "r1", refs: ["p", "r1"], day: 2, body: "On Tue, Priya Raman wrote:\n> Please also refuse private mappings.\n\nWill do.\n" };
    expect(extractItems(thread([review, answer]), [JANE]).map((i) => `${i.source} ${i.author.name}`)).toEqual(["r1 Priya Raman"]);
    const self = { id: "a2", subject: "Re: [PATCH 1/2] dma-buf: require a pfnmap vma", parent: "gone@example.org", refs: ["p", "gone@example.org"], day: 2, body: "On Tue, Jane Dev wrote:\n> We should also refuse private mappings.\n\nSelf-reply.\n" };
    expect(extractItems(thread([self]), [JANE])).toEqual([]);
  });

  it("names the quoted writer from the usual attribution lines", () => {
    expect(quotedMessage("On 28.04.2026 16:27, Olek Nowak wrote:\n> Will that leak?\n")).toMatchObject({ name: "Olek Nowak", email: undefined, body: "Will that leak?" });
    expect(quotedMessage("Am 15.01.26 um 13:22 schrieb Olek Nowak:\n> x\n")?.name).toBe("Olek Nowak");
    expect(quotedMessage("On Wed, 2026-01-13 at 14:06 +0200 Olek Nowak <olek@example.com> wrote:\n> x\n")).toMatchObject({ name: "Olek Nowak", email: "olek@example.com" });
    expect(quotedMessage("> x\n")).toBeUndefined();
  });
});

describe("an author's own replies", () => {
  const own = (body: string): MailSpec => ({ id: "a1", subject: "Re: [PATCH 1/2] dma-buf: require a pfnmap vma", parent: "p", day: 1, body });

  it("a self-review naming a slip in the patch is an item", () => {
    const items = extractItems(thread([own("> +int gate;\n\nArgh, please ignore the VM_IO part of the description, the patch never touches it. I'll fix that in the next revision.\n")]), [JANE]);
    expect(items.map((i) => `${i.author.name} ${i.kind}`)).toEqual(["Jane Dev change requested"]);
  });

  it("a ping, a note for the maintainer or withdrawing the patch is not", () => {
    for (const body of ["Any more comments on this one?\n", "Please ignore this patch, I'll fix it in the next version.\n", "Please take this through the drm-misc tree.\n"]) {
      expect(extractItems(thread([own(body)]), [JANE])).toEqual([]);
    }
  });

  it("an author answering from another address is still the author", () => {
    expect(personName("Dev, Jane")).toBe(personName("Jane Dev"));
    expect(personName("Jürgen Köhler")).toBe(personName("Juergen Koehler"));
    const other = { ...own("> +int gate;\n\nShould I rename this?\n"), from: { name: "Dev, Jane", email: "jane@home.example" } };
    expect(extractItems(thread([other]), [JANE])).toEqual([]);
  });
});

describe("intent from structure and words", () => {
  it.each([
    ["Take your other patch as the model for this one.", "change requested"],
    ["Split this per callback.", "change requested"],
    ["Take care.", undefined],
  ])("%s -> %s", (text, kind) => {
    expect(classify(text)).toBe(kind);
  });

  it("a reviewer's sign-off is no mention of their earlier point: a new point on another patch is its own item", () => {
    const g = groupSeries([
      mail({ id: "c", subject: "[PATCH 0/2] dma-buf: locking" }),
      mail({ id: "p1", subject: "[PATCH 1/2] dma-buf: take the lock", parent: "c" }),
      mail({ id: "p2", subject: "[PATCH 2/2] dma-buf: convert users", parent: "c" }),
      mail({ id: "r1", subject: "Re: [PATCH 1/2] dma-buf: take the lock", parent: "p1", from: OLEK, day: 1, body: "> +/* p1 */\n\nPlease keep the _unlocked suffix for now.\n\nRegards,\nOlek\n" }),
      mail({
        id: "r2",
        subject: "Re: [PATCH 2/2] dma-buf: convert users",
        parent: "p2",
        from: OLEK,
        day: 2,
        body: "> It also converts vmap and attach.\n\nTake patch 1 as the model: one callback at a time, documentation last.\n\nRegards,\nOlek\n\n> Thanks for the review.\n",
      }),
    ]).series[0]!;
    const items = extractItems(g, [JANE]);
    expect(items.map((i) => `${i.source} ${i.restatedIn.length}`)).toEqual(["r1 0", "r2 0"]);
    expect(items[1]!.text).not.toMatch(/Regards|Olek/);
  });

  it("reviewers answering each other: a remark on their words is discussion; a point on the quoted code or an objection is an item", () => {
    const review = { id: "r1", subject: "Re: [PATCH 1/2] dma-buf: require a pfnmap vma", parent: "p", from: PRIYA, day: 1, body: "> +int gate;\n\nShould this also refuse private mappings?\n" };
    const aside = { id: "r2", subject: "Re: [PATCH 1/2] dma-buf: require a pfnmap vma", parent: "r1", refs: ["p", "r1"], from: OLEK, day: 2, body: "> Should this also refuse private mappings?\n\nWhy would anyone map these privately?\n" };
    const onCode = { id: "r3", subject: "Re: [PATCH 1/2] dma-buf: require a pfnmap vma", parent: "r1", refs: ["p", "r1"], from: OLEK, day: 3, body: "> > @@ -1,2 +1,3 @@\n> >  #include <linux/dma-buf.h>\n> > +int gate;\n\nThe gate should be a bool.\n" };
    const nak = { id: "r4", subject: "Re: [PATCH 1/2] dma-buf: require a pfnmap vma", parent: "r1", refs: ["p", "r1"], from: OLEK, day: 4, body: "> Should this also refuse private mappings?\n\nNAK, that breaks userspace which maps them privately.\n" };
    expect(extractItems(thread([review, aside, onCode, nak]), [JANE]).map((i) => `${i.source} ${i.kind}`)).toEqual(["r1 change requested", "r3 change requested", "r4 objection"]);
  });

  it("a closing above old text quoted below it is frame, not words", () => {
    const blocks = segmentReply("> q\n\nDo it per callback.\n\nRegards,\nOlek.\n\n> old text\n");
    expect(blocks.flatMap((b) => (b.kind === "own" ? b.paragraphs.map((p) => p.join(" ")) : []))).toEqual(["Do it per callback."]);
  });
});
