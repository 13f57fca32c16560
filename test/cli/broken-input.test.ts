import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_MESSAGE_BYTES } from "../../src/errors.js";
import { assertBuilt, cliBatch, runCli, stderrLines, type Run } from "../helpers/cli.js";

const BROKEN = "fixtures/broken";

/** Exit 2, nothing on stdout, exactly one stderr line naming the source and the reason, no stack. */
function expectRefused(run: Run, source: string, reason: string): string {
  expect(run.code).toBe(2);
  expect(run.stdout).toBe("");
  const lines = stderrLines(run);
  expect(lines).toHaveLength(1);
  expect(lines[0]!.startsWith(`dmabuf-review: ${source}: ${reason}: `)).toBe(true);
  expect(run.stderr).not.toContain("    at ");
  expect(run.stderr).not.toContain("internal error");
  return lines[0]!;
}

/**
 * A 20 MB patch mail: one new file of generated register tables, hunk counts exact. Written to
 * a temp dir by the test; far too large to keep in the repository.
 */
function hugePatch(bytes: number): Buffer {
  const row = "+\t0x00000000, 0x00000000, 0x00000000, 0x00000000, /* reserved for the exporter */\n";
  const rows = Math.ceil(bytes / row.length);
  const head = [
    "From: Jane Dev <jane.dev@example.org>",
    "Subject: [PATCH] dma-buf: add the generated register tables",
    "Message-ID: <20261120-huge-1@example.org>",
    "Content-Type: text/plain; charset=UTF-8",
    "",
    "Generated from the vendor's register description.",
    "",
    "Signed-off-by: Jane Dev <jane.dev@example.org>",
    "---",
    "diff --git a/drivers/dma-buf/regs.h b/drivers/dma-buf/regs.h",
    "new file mode 100644",
    "index 0000000..1111111",
    "--- /dev/null",
    "+++ b/drivers/dma-buf/regs.h",
    `@@ -0,0 +1,${rows} @@`,
    "",
  ].join("\n");
  return Buffer.concat([Buffer.from(head), Buffer.from(row.repeat(rows))]);
}

describe("broken input through the built CLI", () => {
  const tmp = mkdtempSync(join(tmpdir(), "dmabuf-review-broken-"));
  // Most cases are short runs of the built CLI's main, all in one process (runCliBatch): a start
  // of the bin for each would cost more than the run. The bin itself is run for the 20 MB inputs.
  const batch = cliBatch();
  beforeAll(() => {
    assertBuilt();
    batch.start();
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  const refused: readonly [file: string, reason: string, detail: RegExp][] = [
    ["truncated-diff.patch", "truncated-diff", /hunk "@@ -68,7 \+69,8 @@ .*" ends after 7 lines, 2 old and 2 new lines missing$/],
    ["truncated-base64.eml", "truncated-diff", /hunk "@@ -68,7 \+69,8 @@ .*" ends after \d+ lines, \d+ old and \d+ new lines missing$/],
    ["header-only-diff.patch", "truncated-diff", /the diff of drivers\/dma-buf\/dma-buf\.c has a file header and no hunk$/],
    ["binary-only.patch", "binary-diff", /every file in the diff is binary \(firmware\/acme\/rx\.bin\)$/],
    ["wrong-encoding.eml", "bad-encoding", /1 diff line holds bytes that are not valid UTF-8$/],
    ["empty.eml", "empty-input", /the file is empty$/],
    ["junk.bin", "not-a-patch", /binary data, not a mail message$/],
    ["not-mail.txt", "not-a-patch", /not a mail message: it does not start with a header line$/],
    ["broken-boundary.eml", "malformed-mime", /the multipart boundary "=-declared-boundary" never appears in the body$/],
  ];
  for (const [file, reason, detail] of refused) {
    const path = `${BROKEN}/${file}`;
    const run = batch.add(["review", path]);
    it(`refuses ${file}: ${reason}`, async () => {
      const line = expectRefused(await run(), path, reason);
      expect(line).toMatch(detail);
    });
  }

  const noPatch = batch.add(["review", `${BROKEN}/no-patch.eml`]);
  it("refuses a mail that is neither patch, cover letter nor reply as not-a-patch", async () => {
    const run = await noPatch();
    expect(run.code).toBe(2);
    expect(stderrLines(run)).toHaveLength(1);
    expect(run.stderr).toMatch(/^dmabuf-review: .*: not-a-patch: /);
    expect(run.stderr).not.toContain("    at ");
  });

  const allBadPath = join(tmp, "all-bad.mbox");
  const sep = "From mboxrd@z Thu Jan  1 00:00:00 1970\n";
  const bad = (file: string) => sep + readFileSync(`${BROKEN}/${file}`, "latin1").replace(/^From [0-9a-f]{40} .*\n/, "") + "\n";
  writeFileSync(allBadPath, Buffer.from(bad("truncated-diff.patch") + bad("wrong-encoding.eml"), "latin1"));
  const allBad = batch.add(["review", allBadPath]);
  it("exits 2 when every message of an mbox is skipped, naming each", async () => {
    const path = allBadPath;
    const run = await allBad();
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    // The format-patch file has no Message-ID; the stable id made from its bytes stands in.
    expect(run.stderr).toMatch(new RegExp(`skipped ${path}#1 <[0-9a-f]{40}@dmabuf-review\\.invalid>: truncated-diff: `));
    expect(run.stderr).toContain(`skipped ${path}#2 <20261103090000.7-1-jane.dev@example.org>: bad-encoding: `);
    expect(run.stderr).not.toContain("    at ");
  });

  it("refuses a 20 MB message as too-large before parsing it", async () => {
    const path = join(tmp, "huge.eml");
    const bytes = hugePatch(20 * 1024 * 1024);
    expect(bytes.length).toBeGreaterThan(MAX_MESSAGE_BYTES);
    await writeFile(path, bytes);
    const line = expectRefused(await runCli(["review", path]), path, "too-large");
    expect(line).toMatch(new RegExp(`: ${bytes.length} bytes, limit ${MAX_MESSAGE_BYTES}$`));
  });

  it("refuses a 20 MB message on stdin the same way", async () => {
    const run = await runCli(["review", "-"], hugePatch(20 * 1024 * 1024));
    expectRefused(run, "stdin", "too-large");
  });

  const noSuchPath = join(tmp, "no-such.mbox");
  const noSuch = ["review", "track"].map((command) => batch.add([command, noSuchPath]));
  it("says 'no such file' for a path that does not exist, in one line naming it", async () => {
    for (const pending of noSuch) {
      const run = await pending();
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toBe(`dmabuf-review: ${noSuchPath}: no such file\n`);
    }
  });

  const latin1 = batch.add(["review", `${BROKEN}/latin1-bytes-in-prose.eml`]);
  it("reviews Latin-1 bytes in the commit message of a UTF-8 mail: only the prose is affected", async () => {
    const run = await latin1();
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("[PATCH] dma-buf: document the pairing of the CPU access calls");
  });

  describe("an mbox whose middle message is truncated", () => {
    const mbox = `${BROKEN}/middle-truncated.mbox`;
    const good = `${BROKEN}/middle-truncated.reviewable.mbox`;
    const json = batch.add(["review", mbox, "--format", "json"]);
    const alone = batch.add(["review", good]);
    const withBroken = batch.add(["review", mbox]);
    const infoAlone = batch.add(["review", good, "--fail-on", "info"]);
    const info = batch.add(["review", mbox, "--fail-on", "info"]);

    it("reviews the other two and names the skipped one on one stderr line", async () => {
      const run = await json();
      const lines = stderrLines(run);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^dmabuf-review: skipped fixtures\/broken\/middle-truncated\.mbox#2 <20261113-b@example\.org>: truncated-diff: hunk "@@ -68,7 \+69,8 @@ /,
      );
      expect(run.stderr).not.toContain("    at ");
      const doc = JSON.parse(run.stdout) as {
        series: { patches: { messageId: string }[] }[];
        skipped: { source: string; reason: string }[];
      };
      expect(doc.series.flatMap((s) => s.patches.map((p) => p.messageId))).toEqual(["20261113-a@example.org", "20261113-c@example.org"]);
      expect(doc.skipped).toMatchObject([{ source: `${mbox}#2`, reason: "truncated-diff" }]);
    });

    it("exits as the review of the two good messages alone does", async () => {
      const [a, w, ia, i] = await Promise.all([alone(), withBroken(), infoAlone(), info()]);
      expect(a.code === 0 || a.code === 1).toBe(true);
      expect(w.code).toBe(a.code);
      expect(i.code).toBe(ia.code);
    });
  });

  describe("stdin", () => {
    const patch = batch.add(["review", "-", "--format", "json"], readFileSync("fixtures/messages/changelog-diffstat.eml"));
    const truncated = batch.add(["review", "-"], readFileSync(`${BROKEN}/truncated-diff.patch`));
    const empty = batch.add(["review", "-"], "");
    const mbox = batch.add(["review", "-"], readFileSync(`${BROKEN}/middle-truncated.mbox`));

    it("reviews a patch read from '-'", async () => {
      const run = await patch();
      expect(run.stderr).toBe("");
      expect(run.code === 0 || run.code === 1).toBe(true);
      const doc = JSON.parse(run.stdout) as { series: { patches: { messageId: string }[] }[] };
      expect(doc.series[0]!.patches[0]!.messageId).toBe("20261102101500.4411-1-jane.dev@example.org");
    });

    it("refuses a truncated patch on stdin, naming stdin", async () => {
      expectRefused(await truncated(), "stdin", "truncated-diff");
    });

    it("refuses empty stdin", async () => {
      expectRefused(await empty(), "stdin", "empty-input");
    });

    it("skips the bad message of an mbox on stdin as stdin#n", async () => {
      const run = await mbox();
      expect(stderrLines(run)).toHaveLength(1);
      expect(run.stderr).toMatch(/^dmabuf-review: skipped stdin#2 <20261113-b@example\.org>: truncated-diff: /);
    });
  });
});
