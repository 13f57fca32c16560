import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runCli } from "../helpers/cli.js";
import { fixture } from "../helpers/mail.js";
import { PeerInbox } from "../peers/public-inbox.js";

beforeAll(() => assertBuilt());

interface SeriesJson {
  readonly series: readonly {
    readonly subject: string;
    readonly version: number;
    readonly author: { readonly name: string; readonly email: string };
    readonly cover: unknown;
    readonly patches: readonly { readonly index: number; readonly findings: readonly { readonly rule: string }[] }[];
  }[];
}

// A udmabuf-like exporter, enough for git to diff and for the rules to place the hunks.
const UDMABUF = `// SPDX-License-Identifier: GPL-2.0
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>

static struct sg_table *get_sg_table(struct device *dev, struct dma_buf *buf,
				     enum dma_data_direction direction)
{
	struct udmabuf *ubuf = buf->priv;
	struct sg_table *sg;
	int ret;

	sg = kzalloc(sizeof(*sg), GFP_KERNEL);
	if (!sg)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table_from_pages(sg, ubuf->pages, ubuf->pagecount, 0,
					ubuf->pagecount << PAGE_SHIFT, GFP_KERNEL);
	if (ret < 0)
		goto err_alloc;

	ret = dma_map_sgtable(dev, sg, direction, 0);
	if (ret < 0)
		goto err_map;
	return sg;

err_map:
	sg_free_table(sg);
err_alloc:
	kfree(sg);
	return ERR_PTR(ret);
}

static void put_sg_table(struct device *dev, struct sg_table *sg,
			 enum dma_data_direction direction)
{
	dma_unmap_sgtable(dev, sg, direction, 0);
	sg_free_table(sg);
	kfree(sg);
}
`;

/**
 * A real `git format-patch --cover-letter -v2` series of two patches (the first lines are
 * `From <sha> Mon Sep 17 00:00:00 2001`, no Message-ID, no threading): the directory, and the
 * same series as one `--stdout` stream.
 */
function formatPatchSeries(): { dir: string; stdout: string } {
  const repo = mkdtempSync(join(tmpdir(), "dmabuf-review-format-patch-"));
  const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: repo, GIT_AUTHOR_NAME: "Jane Dev", GIT_AUTHOR_EMAIL: "jane.dev@example.org", GIT_COMMITTER_NAME: "Jane Dev", GIT_COMMITTER_EMAIL: "jane.dev@example.org", GIT_AUTHOR_DATE: "2026-12-01T10:00:00Z", GIT_COMMITTER_DATE: "2026-12-01T10:00:00Z" };
  const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { env, encoding: "utf8" });
  git("init", "-q", "-b", "main");
  mkdirSync(join(repo, "drivers/dma-buf"), { recursive: true });
  const file = join(repo, "drivers/dma-buf/udmabuf.c");
  writeFileSync(file, UDMABUF);
  git("add", ".");
  git("commit", "-q", "-m", "udmabuf: base");
  writeFileSync(file, UDMABUF.replace("dma_map_sgtable(dev, sg, direction, 0)", "dma_map_sgtable(dev, sg, direction, DMA_ATTR_SKIP_CPU_SYNC)"));
  git("commit", "-q", "-am", "dma-buf/udmabuf: map for importers without the CPU sync\n\nThe importer's begin_cpu_access syncs anyway.\n\nSigned-off-by: Jane Dev <jane.dev@example.org>");
  writeFileSync(file, readFileSync(file, "utf8").replace("dma_unmap_sgtable(dev, sg, direction, 0)", "dma_unmap_sgtable(dev, sg, direction, DMA_ATTR_SKIP_CPU_SYNC)"));
  git("commit", "-q", "-am", "dma-buf/udmabuf: unmap without the CPU sync too\n\nSigned-off-by: Jane Dev <jane.dev@example.org>");
  const dir = join(repo, "outgoing");
  git("format-patch", "-q", "--cover-letter", "-v2", "-o", dir, "HEAD~2");
  const stdout = git("format-patch", "--stdout", "--cover-letter", "-v2", "HEAD~2");
  return { dir, stdout };
}

describe("the inputs people have", () => {
  it("reviews a git format-patch directory and the same series on stdin as one series, cover letter first", async () => {
    const { dir, stdout } = formatPatchSeries();
    // How git shortens the names varies with its version; the numbering does not.
    expect(readdirSync(dir).map((n) => n.slice(0, 8))).toEqual(["v2-0000-", "v2-0001-", "v2-0002-"]);
    expect(stdout).toMatch(/^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001\n/);
    const fromDir = await runCli(["review", dir, "--format", "json"]);
    const fromStdin = await runCli(["review", "-", "--format", "json"], stdout);
    for (const run of [fromDir, fromStdin]) {
      expect(run.code, run.stderr).toBe(1);
      const doc = JSON.parse(run.stdout) as SeriesJson;
      expect(doc.series).toHaveLength(1);
      const s = doc.series[0]!;
      expect([s.version, s.author.email, s.cover === null]).toEqual([2, "jane.dev@example.org", false]);
      expect(s.patches.map((p) => p.index)).toEqual([1, 2]);
      expect(s.patches[0]!.findings.length).toBeGreaterThan(0);
    }
  });

  it("reviews and tracks a thread as lore serves it, t.mbox.gz", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-gz-"));
    const gz = join(dir, "t.mbox.gz");
    writeFileSync(gz, gzipSync(readFileSync(fixture("feedback/dma-coherent/v1-v2.mbox"))));
    const tracked = await runCli(["track", gz]);
    expect(tracked.code, tracked.stderr).toBe(0);
    expect(tracked.stdout).toBe(readFileSync(fixture("feedback/dma-coherent/v1-v2.tracker.txt"), "utf8"));
    const series = join(dir, "series.mbox.gz");
    writeFileSync(series, gzipSync(readFileSync(fixture("series/dma-coherent-v1.mbox"))));
    const plain = await runCli(["review", fixture("series/dma-coherent-v1.mbox")]);
    const reviewed = await runCli(["review", series]);
    expect(reviewed.code, reviewed.stderr).toBe(plain.code);
    expect(reviewed.stdout).toBe(plain.stdout);
  });

  it("answers a B4 Relay patch to its author, not to the relay's devnull address", async () => {
    const inbox = new PeerInbox();
    inbox.add(readFileSync(fixture("messages/b4-relay.eml")));
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-relay-"));
    const outbox = join(dir, "outbox");
    // The mirror enabled (mode send), with no age limit: the fixture is dated.
    const config = join(dir, "config.yaml");
    writeFileSync(config, `mail:\n  mirrors:\n    - { name: relay, inbox: ${inbox.dir}, mode: send, max-age: 100000d }\n`);
    const run = await runCli(["backfill", inbox.dir, "--config", config, "--db", join(dir, "state.db"), "--outbox", outbox, "--reply", "--format", "json"]);
    expect(run.code, run.stderr).toBe(0);
    const sent = readdirSync(outbox).map((f) => readFileSync(join(outbox, f), "utf8"));
    expect(sent).toHaveLength(1);
    const head = sent[0]!.slice(0, sent[0]!.indexOf("\n\n")).replace(/\n[ \t]+/g, " ");
    expect(head).toMatch(/^To: Mei Lin <mei\.lin@example\.net>$/m);
    expect(head).not.toContain("devnull");
    expect(sent[0]).toMatch(/^On .*, Mei Lin wrote:$/m);
  });
});
