import { sign } from "@octokit/webhooks-methods";
import { describe, expect, it } from "vitest";
import { readPullRequestEvent, toForgeFile } from "../../../src/ingest/github/pull-request.js";
import { verifyGithubSignature } from "../../../src/ingest/github/verify-signature.js";
import { example, prExamples } from "../../peers/github-hooks.js";

describe("readPullRequestEvent", () => {
  it("reads the published opened, synchronize and reopened examples", () => {
    for (const action of ["opened", "synchronize", "reopened"]) {
      const r = readPullRequestEvent(example(action), "d1");
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect(r.value).toMatchObject({ action, owner: "Codertocat", repo: "Hello-World", number: 2, headSha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", installationId: 1 });
    }
  });

  it("refuses other actions and payloads without the fields a review needs, naming the delivery", () => {
    const labeled = readPullRequestEvent(prExamples.find((e) => e.action === "labeled"), "d2");
    expect(labeled.ok).toBe(false);
    if (!labeled.ok) expect([labeled.error.reason, labeled.error.source, labeled.error.detail]).toEqual(["unknown-event", "d2", "pull_request action labeled is not reviewed"]);
    const noHead = example("opened");
    delete noHead.pull_request.head.sha;
    const r = readPullRequestEvent(noHead, "d3");
    expect(r.ok ? "" : r.error.detail).toBe("repository owner/name, number or head sha missing");
    expect(readPullRequestEvent("[]", "d4").ok).toBe(false);
    expect(readPullRequestEvent(null, "d5").ok).toBe(false);
  });
});

describe("toForgeFile (GET /pulls/{n}/files entries)", () => {
  const patch = "@@ -1,1 +1,1 @@\n-a\n+b";
  it("maps GitHub's statuses and paths", () => {
    expect(toForgeFile({ filename: "a.c", status: "added", patch, changes: 2 })).toMatchObject({ oldPath: undefined, newPath: "a.c", status: "added", binary: false, tooLarge: false });
    expect(toForgeFile({ filename: "a.c", status: "removed", patch, changes: 2 })).toMatchObject({ oldPath: "a.c", newPath: undefined, status: "deleted" });
    expect(toForgeFile({ filename: "b.c", previous_filename: "a.c", status: "renamed", changes: 0 })).toMatchObject({ oldPath: "a.c", newPath: "b.c", status: "renamed", hunks: undefined, binary: false, tooLarge: false });
    expect(toForgeFile({ filename: "a.c", status: "changed", changes: 0 })).toMatchObject({ status: "modified", binary: false });
    expect(toForgeFile({ filename: "a.c", status: "unchanged", changes: 0 })).toBeUndefined();
  });

  it("tells a binary file (no patch, no lines) from a diff GitHub left out as too large", () => {
    expect(toForgeFile({ filename: "logo.png", status: "modified", changes: 0 })).toMatchObject({ binary: true, tooLarge: false });
    expect(toForgeFile({ filename: "huge.c", status: "modified", changes: 40_000 })).toMatchObject({ binary: false, tooLarge: true });
  });
});

describe("verifyGithubSignature", () => {
  const body = Buffer.from(JSON.stringify({ action: "opened" }));
  it("accepts the HMAC of the raw body under the secret, and nothing else", async () => {
    const good = await sign("s3cret", body.toString("utf8"));
    expect(verifyGithubSignature(body, good, "s3cret")).toBe(true);
    expect(verifyGithubSignature(body, good.toUpperCase().replace("SHA256=", "sha256="), "s3cret")).toBe(true);
    expect(verifyGithubSignature(body, good, "other")).toBe(false);
    expect(verifyGithubSignature(Buffer.concat([body, Buffer.from(" ")]), good, "s3cret")).toBe(false);
    expect(verifyGithubSignature(body, undefined, "s3cret")).toBe(false);
    expect(verifyGithubSignature(body, "sha1=abc", "s3cret")).toBe(false);
    expect(verifyGithubSignature(body, good.slice(0, -2), "s3cret")).toBe(false);
  });
});
