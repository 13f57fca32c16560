import { describe, expect, it } from "vitest";
import { ownText, segmentReply } from "../../src/feedback/reply-text.js";

describe("segmentReply", () => {
  it("drops the greeting, the attribution, the sign-off and the signature; keeps quotes and own text apart", () => {
    const body = [
      "Hi Jane,",
      "",
      "On Mon, Nov 02, 2026 at 10:00:00AM +0100, Jane Dev wrote:",
      "> +\tif (dmabuf->dma_coherent && !dev_is_dma_coherent(dev))",
      "> +\t\treturn ERR_PTR(-EINVAL);",
      "",
      "This refuses importers that snoop per buffer.",
      "",
      "Please decide per attachment.",
      "",
      "Thanks,",
      "Priya",
      "",
      "-- ",
      "Priya Raman, somewhere",
    ].join("\n");
    expect(segmentReply(body)).toEqual([
      { kind: "quote", depth: 1, lines: ["+\tif (dmabuf->dma_coherent && !dev_is_dma_coherent(dev))", "+\t\treturn ERR_PTR(-EINVAL);"] },
      { kind: "own", paragraphs: [["This refuses importers that snoop per buffer."], ["Please decide per attachment."]] },
    ]);
  });

  it("removes attributions in other languages and wrapped over two lines, and records nested quote depth", () => {
    const body = [
      "Am Donnerstag, dem 20.10.2022 um 14:13 +0200 schrieb Alex Moreau:",
      "> > Userspace can copy.",
      "> That is slow.",
      "Le jeudi 20 octobre 2022 à 14:13 +0200, Alex Moreau",
      "<alex@example.com> a écrit :",
      "> more",
      "Agreed.",
    ].join("\n");
    expect(segmentReply(body)).toEqual([
      { kind: "quote", depth: 2, lines: ["Userspace can copy.", "That is slow."] },
      { kind: "quote", depth: 1, lines: ["more"] },
      { kind: "own", paragraphs: [["Agreed."]] },
    ]);
  });

  it("keeps a last line that is a verdict, not a name", () => {
    expect(ownText("> x\n\nSee above.\n\nNAK\n")).toBe("See above.\n\nNAK");
    expect(ownText("> x\n\nSee above.\n\nMei\n")).toBe("See above.");
  });
});
