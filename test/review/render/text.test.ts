import { describe, expect, it } from "vitest";
import { renderText } from "../../../src/review/render/text.js";
import { fixture } from "../../helpers/mail.js";
import { reviewPath } from "../../helpers/review.js";

describe("renderText", () => {
  it("renders a patch of more lines than one call takes as arguments", async () => {
    const review = await reviewPath(fixture("model/udmabuf-skip-cpu-sync.patch"));
    const s = review.series[0]!;
    const p = s.patches[0]!;
    const quote = Array.from({ length: 300_000 }, (_, i) => `+\tx[${i}] = 0;`);
    const text = renderText({ ...review, series: [{ ...s, patches: [{ ...p, findings: [{ ...p.findings[0]!, quote }] }] }] });
    expect(text.split("\n").filter((l) => l.startsWith("> +\tx["))).toHaveLength(300_000);
  });
});
