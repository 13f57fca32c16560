import { describe, expect, it } from "vitest";
import { InputError } from "../../../src/errors.js";
import { toForgeFile } from "../../../src/ingest/gitlab/merge-request.js";
import { readGitlabEvent } from "../../../src/ingest/gitlab/merge-request-event.js";
import { verifyGitlabToken } from "../../../src/ingest/gitlab/verify-token.js";
import { pushFromMbox } from "../../peers/forge-series.js";
import { mergeRequestHook } from "../../peers/gitlab-hooks.js";

describe("readGitlabEvent", () => {
  it("reviews opened and reopened merge requests and updates that bring commits", async () => {
    const push = await pushFromMbox();
    const open = readGitlabEvent("Merge Request Hook", mergeRequestHook("open", push), "k");
    expect(open).toEqual({
      kind: "review",
      event: {
        action: "open",
        projectId: 42,
        projectPath: "mesa/kernel",
        iid: 7,
        headSha: push.headSha,
        title: push.title,
        description: "Reconstruction of the 2022 dma_coherent series.",
        author: { name: "Christian König", email: "[REDACTED]" },
        url: "https://gitlab.example.org/mesa/kernel/-/merge_requests/7",
      },
    });
    expect(readGitlabEvent("Merge Request Hook", mergeRequestHook("reopen", push), "k").kind).toBe("review");
    expect(readGitlabEvent("Merge Request Hook", mergeRequestHook("update", push, { oldrev: "a".repeat(40) }), "k").kind).toBe("review");
  });

  it("ignores other hooks, other actions and updates without commits, with the reason", async () => {
    const push = await pushFromMbox();
    expect(readGitlabEvent("Push Hook", { object_kind: "push" }, "k")).toEqual({ kind: "ignore", reason: 'event "Push Hook" is not reviewed' });
    expect(readGitlabEvent(undefined, {}, "k")).toEqual({ kind: "ignore", reason: 'event "(none)" is not reviewed' });
    expect(readGitlabEvent("Merge Request Hook", mergeRequestHook("close", push), "k")).toEqual({ kind: "ignore", reason: "merge request action close is not reviewed" });
    expect(readGitlabEvent("Merge Request Hook", mergeRequestHook("update", push), "k")).toEqual({ kind: "ignore", reason: "update without new commits" });
  });

  it("calls a merge request event without what the review needs malformed, naming the delivery", async () => {
    const push = await pushFromMbox();
    const bad = mergeRequestHook("open", push) as any;
    bad.object_attributes.last_commit.id = "HEAD";
    const err = (() => {
      try {
        readGitlabEvent("Merge Request Hook", bad, "key-1");
      } catch (e) {
        return e;
      }
    })() as InputError;
    expect(err).toBeInstanceOf(InputError);
    expect([err.reason, err.source, err.detail]).toEqual(["unknown-event", "key-1", "object_attributes.last_commit.id missing or not a commit id"]);
    expect(() => readGitlabEvent("Merge Request Hook", { object_kind: "issue" }, "k")).toThrow("object_kind issue in a Merge Request Hook");
    expect(() => readGitlabEvent("Merge Request Hook", "text", "k")).toThrow("payload is not a JSON object");
  });
});

describe("toForgeFile (diff version entries)", () => {
  const base = { old_path: "a.c", new_path: "a.c", new_file: false, renamed_file: false, deleted_file: false, diff: "@@ -1 +1 @@\n-a\n+b\n" };
  it("maps new, deleted, renamed, binary and too-large files", () => {
    expect(toForgeFile({ ...base, new_file: true })).toMatchObject({ oldPath: undefined, newPath: "a.c", status: "added" });
    expect(toForgeFile({ ...base, deleted_file: true })).toMatchObject({ oldPath: "a.c", newPath: undefined, status: "deleted" });
    expect(toForgeFile({ ...base, new_path: "b.c", renamed_file: true, diff: "" })).toMatchObject({ oldPath: "a.c", newPath: "b.c", status: "renamed", hunks: undefined, binary: false });
    expect(toForgeFile({ ...base, diff: "Binary files a/a.c and b/a.c differ\n" })).toMatchObject({ binary: true });
    expect(toForgeFile({ ...base, diff: "", too_large: true })).toMatchObject({ tooLarge: true });
  });
});

describe("verifyGitlabToken", () => {
  it("accepts the secret itself and nothing else, whatever the length", () => {
    expect(verifyGitlabToken("secret-token", "secret-token")).toBe(true);
    expect(verifyGitlabToken("secret-tokem", "secret-token")).toBe(false);
    expect(verifyGitlabToken("secret", "secret-token")).toBe(false);
    expect(verifyGitlabToken("secret-token-and-more", "secret-token")).toBe(false);
    expect(verifyGitlabToken(undefined, "secret-token")).toBe(false);
    expect(verifyGitlabToken("", "")).toBe(false);
  });
});
