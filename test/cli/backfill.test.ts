import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { splitMbox } from "../../src/ingest/mbox/reader.js";
import { assertBuilt, runCli } from "../helpers/cli.js";
import { fixture } from "../helpers/mail.js";
import { mail, PeerInbox } from "../peers/public-inbox.js";

beforeAll(() => assertBuilt());

const series = () => splitMbox(readFileSync(fixture("series/dma-coherent-v1.mbox")), "f").map((r) => r.bytes);

/** Chatter from 2021, the dma_coherent series in 2022, a broken message among them. */
function archive(): PeerInbox {
  const inbox = new PeerInbox();
  for (let i = 0; i < 4; i++) inbox.add(mail({ id: `old-${i}@example.org`, subject: `old question ${i}` }, "?\n"), { time: new Date(Date.UTC(2021, 0, 1 + i)) });
  inbox.add(mail({ id: "mime@example.org", subject: "[PATCH] broken" }, "x\n", ['Content-Type: multipart/mixed; boundary="gone"']), { time: new Date(Date.UTC(2021, 6, 1)) });
  for (const [i, m] of series().entries()) inbox.add(m, { time: new Date(Date.UTC(2022, 9, 20, 12, i)) });
  return inbox;
}

function tmp(): { db: string; outbox: string } {
  const d = mkdtempSync(join(tmpdir(), "dmabuf-review-backfill-"));
  return { db: join(d, "state.db"), outbox: join(d, "outbox") };
}

describe("dmabuf-review backfill", () => {
  it("records and reviews the whole archive, sends nothing, and ends with the JSON summary", async () => {
    const inbox = archive();
    const t = tmp();
    // A progress line for every step (the interval at 0 s), as a log collector would see them.
    const run = await runCli(["backfill", inbox.dir, "--db", t.db, "--outbox", t.outbox, "--format", "json"], undefined, [], {
      DMABUF_REVIEW_PROGRESS: "lines",
      DMABUF_REVIEW_PROGRESS_SECONDS: "0",
    });
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(summary).slice(0, 7)).toEqual(["messages", "patches", "series", "reviewed", "replies", "skipped", "seconds"]);
    expect(summary).toMatchObject({ messages: 10, patches: 3, series: 1, reviewed: 1, replies: 0, skipped: [{ id: "mime@example.org", reason: "malformed-mime" }] });
    expect(typeof summary["seconds"]).toBe("number");
    expect(existsSync(t.outbox)).toBe(false);
    // Progress goes to stderr, with the count so far, and stdout is the summary alone.
    expect(run.stderr).toMatch(/^backfill inbox: epoch 0: 10\/10 messages \(100%\)(?:, [\d,]+ messages\/s)?, \d+ s elapsed$/m);
    expect(run.stderr).toMatch(/^backfill inbox: done in \d+ s$/m);
  });

  it("runs under the heap and stack limits a service is started with (V8 flags a worker thread refuses)", async () => {
    const inbox = archive();
    const t = tmp();
    const run = await runCli(["backfill", inbox.dir, "--db", t.db, "--format", "json"], undefined, ["--max-old-space-size=256", "--stack-size=2000"]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ messages: 10, patches: 3, reviewed: 1 });
  });

  it("--limit reads that many; the next run goes on from the cursor", async () => {
    const inbox = archive();
    const t = tmp();
    const first = JSON.parse((await runCli(["backfill", inbox.dir, "--db", t.db, "--limit", "3", "--format", "json"])).stdout) as { messages: number };
    expect(first.messages).toBe(3);
    const rest = JSON.parse((await runCli(["backfill", inbox.dir, "--db", t.db, "--format", "json"])).stdout) as { messages: number; reviewed: number };
    expect(rest).toMatchObject({ messages: 7, reviewed: 1 });
  });

  it("--since skips what was archived before the date", async () => {
    const inbox = archive();
    const t = tmp();
    const run = await runCli(["backfill", inbox.dir, "--db", t.db, "--since", "2022-01-01", "--format", "json"]);
    expect(JSON.parse(run.stdout)).toMatchObject({ messages: 5, skipped: [], reviewed: 1 });
  });

  it("--reply on a mirror left in shadow mode (the default) sends nothing, and says how to enable it", async () => {
    const inbox = archive();
    const t = tmp();
    const run = await runCli(["backfill", inbox.dir, "--db", t.db, "--outbox", t.outbox, "--reply"]);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(t.outbox)).toBe(false);
    expect(run.stdout).toMatch(/replies sent: 0 \(shadow mode, set mode: send on the mirror to mail: [1-9]\d* withheld\)/);
  });

  it("--reply sends what the reviews earn on a mirror in mode send, to the outbox by default", async () => {
    const inbox = archive();
    const t = tmp();
    // The archive's series is from 2022: older than the default max-age, which a backfill keeps to.
    const config = join(t.db, "..", "config.yaml");
    writeFileSync(config, `mail:\n  mirrors:\n    - { name: lms, inbox: ${inbox.dir}, mode: send, max-age: 100000d }\n`);
    const run = await runCli(["backfill", inbox.dir, "--config", config, "--db", t.db, "--outbox", t.outbox, "--reply"]);
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(t.outbox)).toHaveLength(3);
    expect(run.stdout).toMatch(/^backfill .*inbox: 10 messages \(3 patches\) in [\d.]+ s, [\d,]+ msg\/s\n {2}series: 1, reviewed: 1, replies sent: 3\n {2}skipped: 1 \(malformed-mime 1\); deleted by the archive: 0; already known: 0\n$/);
    // And a second run sends nothing more.
    const again = await runCli(["backfill", inbox.dir, "--config", config, "--db", t.db, "--outbox", t.outbox, "--reply", "--format", "json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ messages: 0, replies: 0 });
    expect(readdirSync(t.outbox)).toHaveLength(3);
  });

  it("--dry-run DIR sends nothing and writes what the policy would send: the .eml files and the report", async () => {
    const inbox = archive();
    const t = tmp();
    const dir = join(t.db, "..", "dry");
    const run = await runCli(["backfill", inbox.dir, "--db", t.db, "--outbox", t.outbox, "--dry-run", dir]);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(t.outbox)).toBe(false);
    expect(existsSync(t.db)).toBe(false);
    expect(readdirSync(join(dir, "eml"))).toHaveLength(3);
    expect(run.stdout).toBe(readFileSync(join(dir, "report.txt"), "utf8"));
    expect(run.stdout).toMatch(/\nmails: 3\nby kind:\n {2}reply +3\n/);
    expect(run.stdout).toMatch(/\nby month:\n {2}2022-10 3\n/);
    // Patch 1's reply also goes to Lucas Stach, who replied to it: 6 recipients, as watch sends it.
    expect(run.stdout).toContain("  [reply, 6] Re: [PATCH 1/3] dma-buf: add dma_coherent flag\n      dma_buf_dynamic_attach() gains a new failure");
    expect(run.stdout).toContain("  [reply, 5] Re: [PATCH 2/3] drm/prime: set the dma_coherent flag for export\n");
  });

  it("refuses what is not an inbox, and a date it cannot read, with one line and exit 2", async () => {
    const t = tmp();
    const notInbox = await runCli(["backfill", fixture("series"), "--db", t.db]);
    expect(notInbox.code).toBe(2);
    expect(notInbox.stderr).toMatch(/^dmabuf-review: .*fixtures\/series: not a public-inbox v2 inbox \(no git\/<n>\.git\) nor an epoch repository\n$/);
    const badDate = await runCli(["backfill", fixture("series"), "--since", "yesterday-ish"]);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toMatch(/not a date: yesterday-ish/);
  });
});
