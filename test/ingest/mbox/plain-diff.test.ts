import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { main } from "../../../src/cli/main.js";
import { loadMessages } from "../../../src/ingest/mbox/messages.js";
import { plainDiffFields } from "../../../src/ingest/mbox/plain-diff.js";
import { captureIo } from "../../helpers/io.js";
import { fixture } from "../../helpers/mail.js";

const DIFF = fixture("messages/plain-git-diff.diff");
const SHOW = fixture("messages/plain-git-show.txt");

interface Json {
  series: { subject: string; author: { email: string }; patches: { files: string[]; findings: { rule: string; file: string; line: number }[] }[] }[];
}

describe("plain git diff / git show output, without mail headers", () => {
  it("reads `git diff` output from a path as one patch", async () => {
    const { messages, skipped } = await loadMessages(DIFF);
    expect(skipped).toEqual([]);
    expect(messages).toHaveLength(1);
    const m = messages[0]!;
    expect(m.kind).toBe("patch");
    expect(m.subject).toBe("plain diff: drivers/dma-buf/heaps/system_heap.c");
    expect(m.files.map((f) => f.path)).toEqual(["drivers/dma-buf/heaps/system_heap.c"]);
  });

  it("takes the author, date and message from `git show` output", async () => {
    const { messages } = await loadMessages(SHOW);
    const m = messages[0]!;
    expect(m).toMatchObject({ kind: "patch", subject: "dma-buf: heaps: system: skip the CPU sync at map time" });
    expect(m.from).toEqual({ name: "Jane Dev", email: "jane.dev@example.org" });
    expect(m.date?.toISOString()).toBe("2026-03-01T09:00:01.000Z");
    expect(m.commitMessage).toContain("The importer brackets its own accesses.");
    expect(m.trailers.map((t) => t.key)).toEqual(["Signed-off-by"]);
    expect(m.files.map((f) => f.path)).toEqual(["drivers/dma-buf/heaps/system_heap.c"]);
  });

  it("reviews `git show` output given on stdin like the same change sent as mail", async () => {
    const io = captureIo(readFileSync(SHOW));
    const code = await main(["review", "-", "--format", "json"], io);
    expect(io.err()).toBe("");
    const doc = JSON.parse(io.out()) as Json;
    expect(doc.series).toHaveLength(1);
    const findings = doc.series[0]!.patches[0]!.findings.map((f) => `${f.rule} ${f.file}:${f.line}`);
    expect(findings).toContain("sync/skip-cpu-sync-added drivers/dma-buf/heaps/system_heap.c:75");
    expect(code).toBe(1);
  });

  it("leaves mail and other text to the mail reader", () => {
    const mail = Buffer.from("From: Jane Dev <jane.dev@example.org>\nSubject: [PATCH] x\n\ndiff --git a/x b/x\n");
    expect(plainDiffFields({ bytes: mail, source: "mail" })).toBeUndefined();
    expect(plainDiffFields({ bytes: Buffer.from("diff -u old new\n"), source: "prose" })).toBeUndefined();
    expect(plainDiffFields({ bytes: Buffer.from("--- a/x\nnot a diff\n"), source: "prose" })).toBeUndefined();
  });
});
