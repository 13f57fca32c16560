import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findArchiveBundle, openArchive, projectRoot, type Archive } from "../../eval/archive.js";
import { readDevset } from "../../eval/devset.js";
import { splitMbox } from "../../src/ingest/mbox/reader.js";
import { assertBuilt, cliBatch, runCli, ROOT } from "../helpers/cli.js";

interface B4Result {
  readonly tool: string;
  readonly status: string;
  readonly summary: string;
  readonly url: string;
  readonly details: string;
}

/**
 * What b4's _run_external_cmd (src/b4/review/checks.py) makes of a run: it needs JSON on stdout
 * (an empty stdout with a non-zero exit is an execution error), takes a list (or one object),
 * drops entries that are not objects, and reads a status outside pass/warn/fail as fail. We ask
 * for more than b4 tolerates: exactly the fields the protocol names, and a one-line summary.
 */
function asB4Reads(run: { code: number | null; stdout: string; stderr: string }): B4Result[] {
  expect(run.stdout.trim(), `stderr: ${run.stderr}`).not.toBe("");
  const data = JSON.parse(run.stdout) as unknown;
  expect(Array.isArray(data)).toBe(true);
  return (data as Record<string, unknown>[]).map((e) => {
    expect(Object.keys(e).every((k) => ["tool", "status", "summary", "url", "details"].includes(k))).toBe(true);
    expect(["pass", "warn", "fail"]).toContain(e["status"]);
    for (const v of Object.values(e)) expect(typeof v).toBe("string");
    expect(String(e["summary"])).not.toContain("\n");
    return { tool: String(e["tool"]), status: String(e["status"]), summary: String(e["summary"] ?? ""), url: String(e["url"] ?? ""), details: String(e["details"] ?? "") };
  });
}

const GATE = "fixtures/rules/attach/attach-error-reaches-userspace/fires-core-coherency-gate.patch";
const SERIES = "fixtures/series/dma-coherent-v1.mbox";
const COVER_ID = "20221020121316.3946-1-christian.koenig@amd.com";
const PATCH1_ID = "20221020121316.3946-2-christian.koenig@amd.com";

const PATCH = readFileSync(join(ROOT, GATE));
const COVER = splitMbox(readFileSync(join(ROOT, SERIES)), SERIES)[0]!.bytes;
const NET = splitMbox(readFileSync(join(ROOT, "fixtures/broken/middle-truncated.reviewable.mbox")), "x")
  .find((m) => m.bytes.toString("latin1").includes("net: acme"))!.bytes;
// Runs without an environment of their own share one process of the built CLI.
const batch = cliBatch();
const gate = batch.add(["check"], PATCH);
const gateLinked = batch.add(["check", "--url", "https://review.example.org/"], PATCH);
const net = batch.add(["check"], NET);
const garbage = batch.add(["check"], "hello\n");
const empty = batch.add(["check"], Buffer.alloc(0));
const reply = batch.add(["check"], "From: a@b\nSubject: Re: [PATCH] x\nMessage-ID: <r@b>\nIn-Reply-To: <p@b>\n\nlooks fine\n");
const badOption = batch.add(["check", "--no-such-option"], PATCH);
const coverAlone = batch.add(["check", "--series"], COVER);
const patch1Alone = batch.add(["check", "--url", "https://review.example.org"], splitMbox(readFileSync(join(ROOT, SERIES)), SERIES)[1]!.bytes);

let dir: string;
beforeAll(() => {
  assertBuilt();
  batch.start();
  dir = mkdtempSync(join(tmpdir(), "check-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What b4 leaves for a check command: a repository holding the thread blob, and a tracking file naming it. */
function b4Checkout(name: string, mbox: Buffer): string {
  const repo = join(dir, name);
  execFileSync("git", ["init", "-q", repo]);
  const blob = execFileSync("git", ["-C", repo, "hash-object", "-w", "--stdin"], { input: mbox }).toString().trim();
  const tracking = join(repo, "tracking.json");
  writeFileSync(tracking, JSON.stringify({ series: { "thread-blob": blob, "change-id": "x" } }));
  return tracking;
}

describe("check: one message in, b4's JSON array out", () => {
  it("gives one patch's findings as a failed check with a one-line summary and plain-text details", async () => {
    const run = await gate();
    expect(run.code).toBe(0);
    const [r, ...rest] = asB4Reads(run);
    expect(rest).toEqual([]);
    expect(r!.tool).toBe("dmabuf-review");
    expect(r!.status).toBe("fail");
    expect(r!.summary).toMatch(/^1 error, \d warnings?; first: attach\/attach-error-reaches-userspace at drivers\/dma-buf\/dma-buf\.c:\d+$/);
    expect(r!.details).toContain("[error] attach/attach-error-reaches-userspace");
    expect(r!.details).not.toMatch(/^[[{]/);
    expect(r!.url).toBe("");
  });

  it("links the review page when the service URL is configured, by option or environment", async () => {
    const [byOption, byEnv] = await Promise.all([gateLinked(), runCli(["check"], PATCH, [], { DMABUF_REVIEW_URL: "https://review.example.org" })]);
    const a = asB4Reads(byOption)[0]!;
    expect(a.url).toMatch(/^https:\/\/review\.example\.org\/reviews\/[^/]+#patch-1$/);
    expect(asB4Reads(byEnv)[0]!.url).toBe(a.url);
  });

  it("links a patch handed alone to its series' page, named by the cover letter it answers", async () => {
    const r = asB4Reads(await patch1Alone())[0]!;
    expect(r.url).toBe(`https://review.example.org/reviews/${encodeURIComponent(PATCH1_ID)}#patch-1`);
  });

  it("passes a patch outside the dma-buf surface and says it was not reviewed", async () => {
    const r = asB4Reads(await net())[0]!;
    expect(r.status).toBe("pass");
    expect(r.summary).toBe("outside the dma-buf surface: not reviewed");
  });

  it.each([
    ["garbage", garbage, "not checked: not-a-patch: "],
    ["an empty stdin", empty, "not checked: empty-input: "],
    ["a reply", reply, "not checked: not-a-patch: <r@b>"],
  ])("answers %s with a failed result that names its reason, exit 0, no stack", async (_what, result, summary) => {
    const run = await result();
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain("    at ");
    const [r] = asB4Reads(run);
    expect(r!.status).toBe("fail");
    expect(r!.summary.startsWith(summary)).toBe(true);
  });

  it("refuses a bad option with exit 2 before reading anything", async () => {
    const run = await badOption();
    expect(run.code).toBe(2);
  });
});

describe("check --series: the cover letter in, the series out through b4's cached thread", () => {
  it("reviews the whole series named by B4_TRACKING_FILE's thread-blob", async () => {
    const tracking = b4Checkout("fixture", readFileSync(join(ROOT, SERIES)));
    // b4 runs the command in the repository's top directory; GIT_DIR points git there the same way.
    const run = await runCli(["check", "--series"], COVER, [], { B4_TRACKING_FILE: tracking, GIT_DIR: join(dir, "fixture", ".git") });
    const [r] = asB4Reads(run);
    expect(r!.summary).toMatch(/; first: /);
    expect(r!.details).toMatch(/^patch 1: drivers\/dma-buf\/dma-buf\.c:\d+/);
    expect(r!.status).not.toBe("pass");
  });

  it("says the patches are not at hand when b4 has no thread for the series", async () => {
    const [r] = asB4Reads(await coverAlone());
    expect(r!.status).toBe("warn");
    expect(r!.summary).toBe('not checked: none of the 3 patches of "Try to address the DMA-buf coherency problem" is at hand (no thread from b4 or --thread)');
  });

  it("ignores a tracking file whose blob git no longer has, and says so the same way", async () => {
    const tracking = join(dir, "gone.json");
    writeFileSync(tracking, JSON.stringify({ series: { "thread-blob": "0123456789abcdef0123456789abcdef01234567" } }));
    const [r] = asB4Reads(await runCli(["check", "--series"], COVER, [], { B4_TRACKING_FILE: tracking }));
    expect(r!.status).toBe("warn");
  });
});

// The real linaro-mm-sig archive, read from ../shared at test time and never copied here.
const BUNDLE = findArchiveBundle();
const why = BUNDLE ? "" : " (skipped: ../shared/archives/linaro-mm-sig-2019-2022.bundle is not there)";

describe.skipIf(!BUNDLE)(`check on the real 2022 dma_coherent series${why}`, () => {
  let archive: Archive;
  let messages: { index: number; bytes: Buffer }[];
  beforeAll(async () => {
    archive = openArchive(BUNDLE!);
    const s = readDevset(join(projectRoot(), "eval", "devset")).find((l) => l.id === "dma-coherent-flag-2022")!;
    const v1 = s.messages.filter((m) => m.version === 1 && m.index !== undefined);
    const bytes = await archive.read(v1.map((m) => m.commit));
    messages = v1.map((m) => ({ index: m.index!, bytes: bytes.get(m.commit)! })).sort((a, b) => a.index - b.index);
  });
  afterAll(() => archive?.close());

  // mboxrd, as b4 stores its thread blob: a body line starting with (>*)From gains one more >.
  const mboxOf = (ms: readonly { bytes: Buffer }[]) =>
    Buffer.concat(ms.flatMap((m) => [Buffer.from("From mboxrd@z Thu Jan  1 00:00:00 1970\n"), Buffer.from(m.bytes.toString("latin1").replace(/^(>*From )/gm, ">$1"), "latin1"), Buffer.from("\n")]));

  it("flags patch 1's attach gate, as the list's reviewers did, with the thread for context", async () => {
    const thread = join(dir, "real.mbox");
    writeFileSync(thread, mboxOf(messages));
    const r = asB4Reads(await runCli(["check", "--thread", thread, "--url", "https://review.example.org"], messages.find((m) => m.index === 1)!.bytes))[0]!;
    expect(r.status).not.toBe("pass");
    expect(r.details).toMatch(/^drivers\/dma-buf\/dma-buf\.c:\d+ in dma_buf_dynamic_attach\(\)/m);
    expect(r.details).toContain("attach/device-coherency-gate");
    expect(r.url).toBe(`https://review.example.org/reviews/${encodeURIComponent(PATCH1_ID)}#patch-1`);
  });

  it("reviews the series from its untagged cover letter and b4's thread blob", async () => {
    const tracking = b4Checkout("real", mboxOf(messages));
    const cover = messages.find((m) => m.index === 0)!;
    const run = await runCli(["check", "--series"], cover.bytes, [], { B4_TRACKING_FILE: tracking, GIT_DIR: join(dir, "real", ".git") });
    const [r] = asB4Reads(run);
    expect(r!.details).toMatch(/^patch 1: drivers\/dma-buf\/dma-buf\.c:\d+ in dma_buf_dynamic_attach\(\)/m);
    expect(r!.summary).not.toContain("missing");
  });
});
