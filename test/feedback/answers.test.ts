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
    // Not reasoned answers: time asked for, agreement, a concession, a change reported.
    ["Give me some time, folks. I have to rebuild the patch on top of the latest rc first.", "promise"],
    ["That is very much what I had in mind too. It is also why I began reworking the lock helpers some time ago.", "promise"],
    [
      "I expect everything to be merged through one tree anyway, since the later patches need this one. But splitting it out may help the review, so let's do that.",
      "promise",
    ],
    ["Sorry for the resend, but I've reworked it after your comments: the buffers are now protected by default and the CPU cannot map them.", "promise"],
    ["Only secure devices will ever touch these buffers, and the driver will only need the table for the physical address and length.", "reason"],
    ["We never touch the buffer once it is released, so clearing the pointer there is not required at all.", "reason"],
    [
      "I tried the interruptible variant first and had a version using it, but then went back to the plain one for some reason I no longer remember. I'll look at it again.",
      "promise",
    ],
    ["Hm, I see no reason for the driver to need the pages either. How about we split that into two helpers?", "question"],
    ["I am not sure I follow what a moving buffer would be here. The secure side maps the buffer itself, which is done when the call is made.", "reason"],
    ["As before, the driver moves to the new interface first and then it becomes mandatory. I will write a cleanup patch that comes after that.", "reason"],
    ["That is exactly my thinking too. It is the reason I looked at the cursor handling because the old macro was a hack.", "promise"],
    ["Yes, fixed locally.", "promise"],
  ])("%s -> %s", (text, kind) => {
    expect(classifyAnswer(text)).toBe(kind);
  });
});
