import { describe, expect, it } from "vitest";
import { classifyAnswer } from "../../src/feedback/answers.js";

describe("classifyAnswer", () => {
  it.each([
    ["I'd rather have the import fail loudly, so I'm keeping the check.", "reason"],
    ["Good point, but the flag has to stay because amdgpu relies on it.", "reason"],
    ["Good idea, I'll add a helper in v2.", "promise"],
    ["Agreed, will fix.", "promise"],
    ["Which hardware is that?", "question"],
    ["Thanks for testing!", undefined],
    ["Hm.", undefined],
    ["The display engine reads through the IOMMU on these boards, which snoops for every access anyway.", "reason"],
  ])("%s -> %s", (text, kind) => {
    expect(classifyAnswer(text)).toBe(kind);
  });
});
