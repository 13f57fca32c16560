import { readFileSync } from "node:fs";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InputError, MAX_SERIES_PATCHES } from "../../../src/errors.js";
import { loadMessages, loadOne } from "../../../src/ingest/mbox/messages.js";
import { fixture } from "../../helpers/mail.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("loadOne", () => {
  it("turns an input problem into a Skip naming source, Message-ID and reason", async () => {
    const r = await loadOne({ bytes: readFileSync(fixture("broken/wrong-encoding.eml")), source: "x.eml" });
    expect(r).toEqual({
      source: "x.eml",
      messageId: "20261103090000.7-1-jane.dev@example.org",
      reason: "bad-encoding",
      detail: "1 diff line holds bytes that are not valid UTF-8",
    });
  });
});

describe("loadMessages", () => {
  it("skips the truncated middle message of an mbox and keeps the other two", async () => {
    const path = fixture("broken/middle-truncated.mbox");
    const { messages, skipped } = await loadMessages(path);
    expect(messages.map((m) => m.messageId)).toEqual(["20261113-a@example.org", "20261113-c@example.org"]);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ source: `${path}#2`, messageId: "20261113-b@example.org", reason: "truncated-diff" });
  });

  it("keeps reading past a message whose attachment has an empty Content-Type", async () => {
    // mailparser gives such a part a content type of `false`; whether the decoder reads it or
    // fails on it, the message is accounted for and the two around it are read.
    const path = fixture("broken/middle-empty-content-type.mbox");
    const { messages, skipped } = await loadMessages(path);
    const ids = messages.map((m) => m.messageId);
    expect(ids.filter((id) => id !== "20261113-e@example.org")).toEqual(["20261113-a@example.org", "20261113-c@example.org"]);
    expect(messages.length + skipped.length).toBe(3);
    for (const k of skipped) expect(k).toMatchObject({ source: `${path}#2`, reason: "malformed-mime" });
  });

  it("skips a patch numbered as one of four billion, over MAX_SERIES_PATCHES", async () => {
    const path = fixture("broken/middle-huge-series-total.mbox");
    const { messages, skipped } = await loadMessages(path);
    expect(messages.map((m) => m.messageId)).toEqual(["20261113-a@example.org", "20261113-c@example.org"]);
    expect(skipped).toEqual([
      {
        source: `${path}#2`,
        messageId: "20261113-n@example.org",
        reason: "too-large",
        detail: `numbered 1/4294967295: more than ${MAX_SERIES_PATCHES} patches`,
      },
    ]);
  });

  it("throws the problem of a single-message input, with its source: there is no run to continue", async () => {
    const path = fixture("broken/truncated-diff.patch");
    try {
      await loadMessages(path);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      expect(err).toMatchObject({ reason: "truncated-diff", source: path });
    }
  });

  it("skips bad files of a directory one by one", async () => {
    const d = await mkdtemp(join(tmpdir(), "dmabuf-review-load-"));
    dirs.push(d);
    await copyFile(fixture("messages/changelog-diffstat.eml"), join(d, "1-good.eml"));
    await copyFile(fixture("broken/junk.bin"), join(d, "2-junk.bin"));
    await copyFile(fixture("broken/binary-only.patch"), join(d, "3-binary.patch"));
    const { messages, skipped } = await loadMessages(d);
    expect(messages).toHaveLength(1);
    expect(skipped.map((s) => [s.source, s.reason])).toEqual([
      [join(d, "2-junk.bin"), "not-a-patch"],
      [join(d, "3-binary.patch"), "binary-diff"],
    ]);
  });
});
