import { join } from "node:path";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { findArchiveBundle, openArchive, projectRoot, type Archive } from "../../eval/archive.js";
import { readDevset } from "../../eval/devset.js";
import { loadPipeline, reviewLabelled } from "../../eval/eval.js";
import { GIVE_UP_SECONDS, PatchworkPublisher } from "../../src/channels/patchwork.js";
import { retryDelaySeconds } from "../../src/publish/retry.js";
import { loadConfig } from "../../src/config/config.js";
import { PatchworkApi } from "../../src/publish/patchwork/api.js";
import type { SeriesReview } from "../../src/review/review-series.js";
import { PatchworkChecks } from "../../src/state/patchwork-checks.js";
import { Store } from "../../src/state/store.js";
import { reviewPath } from "../helpers/review.js";
import { startPatchworkStandin, type PatchworkStandin } from "../peers/patchwork-standin.js";
import { PeerInbox } from "../peers/public-inbox.js";
import { fixtureMessages, idOf, mailEnv } from "./mail-setup.js";

const TOKEN = "0123abcd";
const PAGES = "https://review.example.org";

let pw: PatchworkStandin;
let store: Store;
let clock: Date;
let fixture: SeriesReview;

beforeAll(async () => {
  fixture = (await reviewPath("fixtures/series/dma-coherent-v1.mbox")).series[0]!;
});
beforeEach(async () => {
  pw = await startPatchworkStandin({ project: "dri-devel", tokens: { [TOKEN]: "bot", other: "someone" }, maintainers: ["bot"] });
  store = Store.open(":memory:");
  clock = new Date("2026-12-05T12:00:00Z");
});
afterEach(async () => {
  store.close();
  await pw.close();
});

function publisher(token = TOKEN, held?: string): PatchworkPublisher {
  return new PatchworkPublisher(new PatchworkChecks(store.db), new PatchworkApi({ url: pw.url, project: "dri-devel" }, token), {
    context: "dmabuf-review",
    ...(held ? { held } : {}),
    publicUrl: PAGES,
    log: pino({ level: "silent" }),
    clock: () => clock,
  });
}

const ids = (r: SeriesReview) => r.patches.filter((p) => !p.outOfScope).map((p) => p.message.messageId);
const posts = () => pw.requests.filter((r) => r.method === "POST");

/** Every call as patchwork documents it: API 1.2 or later, the token header, JSON with the check's fields. */
function expectDocumentedCalls(linked = true): void {
  for (const r of pw.requests) {
    expect(r.path).toMatch(/^\/api\/1\.[2-9]\//);
    expect(r.headers["authorization"]).toBe(`Token ${TOKEN}`);
    if (r.method === "GET" && r.path.endsWith("/patches/")) expect(r.query).toEqual({ project: "dri-devel", msgid: expect.not.stringMatching(/^<|>$/) });
    if (r.method === "POST") {
      expect(r.path).toMatch(/^\/api\/1\.\d\/patches\/\d+\/checks\/$/);
      expect(r.headers["content-type"]).toBe("application/json");
      expect(Object.keys(r.body).sort()).toEqual(["context", "description", "state", ...(linked ? ["target_url"] : [])]);
      expect(["success", "warning", "fail"]).toContain(r.body.state);
      expect(r.body.description).not.toContain("\n");
    }
  }
}

describe("patchwork checks: one per reviewed patch, posted once, updated by a new review", () => {
  it("posts a check for each reviewed patch of the fixture series, linked to its review page", async () => {
    for (const id of ids(fixture)) pw.addPatch(id);
    const p = publisher();
    expect(p.intend(fixture)).toBe(ids(fixture).length);
    expect(await p.flush()).toEqual({ posted: ids(fixture).length, waiting: 0, refused: 0 });
    expectDocumentedCalls();
    expect(pw.checks.map((c) => c.context)).toEqual(ids(fixture).map(() => "dmabuf-review"));
    const first = pw.newest(fixture.patches[0]!.message.messageId, "dmabuf-review")!;
    expect(first.state).not.toBe("success");
    expect(first.target_url).toBe(`${PAGES}/reviews/${encodeURIComponent(fixture.patches[0]!.message.messageId)}#patch-1`);
    // The same review again (a restart, a re-read thread): nothing more goes to patchwork.
    const before = pw.requests.length;
    expect(p.intend(fixture)).toBe(0);
    expect(await p.flush()).toEqual({ posted: 0, waiting: 0, refused: 0 });
    expect(pw.requests.length).toBe(before);
  });

  it("posts again under the same context when a new review changes the result, and patchwork shows the new one", async () => {
    for (const id of ids(fixture)) pw.addPatch(id);
    const p = publisher();
    p.intend(fixture);
    await p.flush();
    const msgid = fixture.patches[0]!.message.messageId;
    // The next review of the same patch finds nothing (say, the rule was fixed).
    const cleared: SeriesReview = { ...fixture, patches: fixture.patches.map((x) => ({ ...x, findings: [] })) };
    expect(p.intend(cleared)).toBe(fixture.patches.filter((x) => !x.outOfScope && x.findings.length > 0).length);
    await p.flush();
    expect(pw.newest(msgid, "dmabuf-review")!.state).toBe("success");
    expect(pw.checks.filter((c) => c.patch === pw.checks.find((k) => k.state !== "success")!.patch)).toHaveLength(2);
  });

  it("waits for a patch patchwork has not parsed yet, then posts it once", async () => {
    const p = publisher();
    p.intend(fixture);
    expect(await p.flush()).toEqual({ posted: 0, waiting: ids(fixture).length, refused: 0 });
    expect(posts()).toEqual([]);
    for (const id of ids(fixture)) pw.addPatch(id);
    // Not due yet: nothing is asked.
    const asked = pw.requests.length;
    expect(await p.flush()).toEqual({ posted: 0, waiting: 0, refused: 0 });
    expect(pw.requests.length).toBe(asked);
    clock = new Date(clock.getTime() + 61_000);
    expect(await p.flush()).toEqual({ posted: ids(fixture).length, waiting: 0, refused: 0 });
    expect(pw.checks).toHaveLength(ids(fixture).length);
    expectDocumentedCalls();
  });

  it("retries a 5xx and keeps exactly one check", async () => {
    for (const id of ids(fixture)) pw.addPatch(id);
    const p = publisher();
    p.intend(fixture);
    pw.fail(100, 503, true);
    const first = await p.flush();
    expect(first.waiting).toBe(ids(fixture).length);
    const row = new PatchworkChecks(store.db).row(`${pw.url}/api/1.2 dri-devel`, ids(fixture)[0]!, "dmabuf-review")!;
    expect(row.status).toBe("pending");
    expect(row.last_error).toContain("HTTP 503");
    pw.fail(0, 503);
    clock = new Date(clock.getTime() + 61_000);
    expect((await p.flush()).posted).toBe(ids(fixture).length);
    expect(pw.checks).toHaveLength(ids(fixture).length);
  });

  it("waits between rounds as every ledger-keeping publisher does (publish/retry.ts), and gives up after four days", async () => {
    const p = publisher();
    p.intend(fixture);
    const n = ids(fixture).length;
    const flushAfter = async (seconds: number) => {
      clock = new Date(clock.getTime() + seconds * 1000);
      return p.flush();
    };
    expect((await p.flush()).waiting).toBe(n);
    // Tries 1, 2, 3 wait retryDelaySeconds(1..3): 60, 120, 240 s; a second less is not yet due.
    for (const tries of [1, 2, 3]) {
      const asked = pw.requests.length;
      expect(await flushAfter(retryDelaySeconds(tries) - 1)).toEqual({ posted: 0, waiting: 0, refused: 0 });
      expect(pw.requests.length).toBe(asked);
      expect((await flushAfter(1)).waiting).toBe(n);
    }
    // The patch never appears: past four days after the review, the check is given up with its reason.
    clock = new Date(clock.getTime() + GIVE_UP_SECONDS * 1000);
    expect(await p.flush()).toEqual({ posted: 0, waiting: 0, refused: n });
    const row = new PatchworkChecks(store.db).row(`${pw.url}/api/1.2 dri-devel`, ids(fixture)[0]!, "dmabuf-review")!;
    expect(row.status).toBe("refused");
    expect(row.last_error).toMatch(/no patch <.*> in dri-devel yet/);
  });

  it("does not post twice when patchwork stored a check but its answer was lost", async () => {
    for (const id of ids(fixture)) pw.addPatch(id);
    const p = publisher();
    p.intend(fixture);
    pw.fail(1, "drop");
    const first = await p.flush();
    expect(first.waiting).toBe(1);
    expect(pw.checks).toHaveLength(ids(fixture).length);
    clock = new Date(clock.getTime() + 61_000);
    expect((await p.flush()).posted).toBe(1);
    expect(pw.checks).toHaveLength(ids(fixture).length);
    expect(pw.requests.filter((r) => r.method === "GET" && r.path.endsWith("/checks/"))).toHaveLength(1);
  });

  it("keeps the checks while no token is set, and posts them once a token is there", async () => {
    for (const id of ids(fixture)) pw.addPatch(id);
    const waiting = publisher("", "DMABUF_REVIEW_PATCHWORK_TOKEN is not set");
    waiting.intend(fixture);
    expect(await waiting.flush()).toEqual({ posted: 0, waiting: ids(fixture).length, refused: 0 });
    expect(pw.requests).toEqual([]);
    expect(await publisher().flush()).toEqual({ posted: ids(fixture).length, waiting: 0, refused: 0 });
  });

  it("records a refusal (a token that may not post checks) with its reason and does not retry it", async () => {
    for (const id of ids(fixture)) pw.addPatch(id);
    const p = publisher("other");
    p.intend(fixture);
    expect(await p.flush()).toEqual({ posted: 0, waiting: 0, refused: ids(fixture).length });
    const row = new PatchworkChecks(store.db).row(`${pw.url}/api/1.2 dri-devel`, ids(fixture)[0]!, "dmabuf-review")!;
    expect(row.status).toBe("refused");
    expect(row.last_error).toContain("HTTP 403");
    clock = new Date(clock.getTime() + 86_400_000);
    const asked = pw.requests.length;
    await p.flush();
    expect(pw.requests.length).toBe(asked);
  });
});

describe("patchwork checks from the mail channel", () => {
  it("posts a check per reviewed patch of a mirror in shadow mode, mails nothing, and posts nothing more on the next pass", async () => {
    const inbox = new PeerInbox();
    const series = fixtureMessages("series/dma-coherent-v1.mbox");
    for (const m of series) inbox.add(m);
    const patches = series.slice(1, 4).map(idOf);
    for (const id of patches) pw.addPatch(id);
    const patchwork = { url: pw.url, project: "dri-devel", context: "dmabuf-review", token: TOKEN };
    const e = await mailEnv(inbox.dir, { mirror: { mode: "shadow", patchwork } });
    try {
      await e.engine.pass({ reply: "new" });
      expect(e.mails()).toEqual([]);
      expect(pw.checks.map((c) => c.patch).sort()).toEqual([1000, 1001, 1002]);
      // No public-url configured: the checks carry no link rather than a wrong one.
      expectDocumentedCalls(false);
      const asked = pw.requests.length;
      await e.engine.pass({ reply: "new" });
      expect(pw.requests.length).toBe(asked);
    } finally {
      await e.close();
    }
  });
});

describe("patchwork configuration", () => {
  it("is per mirror, with the token from the environment", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const file = join(mkdtempSync(join(tmpdir(), "pwcfg-")), "c.yaml");
    writeFileSync(file, "public-url: https://review.example.org\nmail:\n  mirrors:\n    - name: dri-devel\n      inbox: /srv/dri-devel\n      patchwork: { url: https://patchwork.freedesktop.org, project: dri-devel }\n");
    const c = await loadConfig(file, { DMABUF_REVIEW_PATCHWORK_TOKEN: "t" });
    expect(c.mail.mirrors[0]!.patchwork).toEqual({ url: "https://patchwork.freedesktop.org", project: "dri-devel", context: "dmabuf-review", token: "t" });
    expect(c.publicUrl).toBe("https://review.example.org");
    expect((await loadConfig(file, {})).mail.mirrors[0]!.patchwork!.token).toBeUndefined();
  });
});

// The real linaro-mm-sig archive, read from ../shared at test time and never copied here.
const BUNDLE = findArchiveBundle();
const why = BUNDLE ? "" : " (skipped: ../shared/archives/linaro-mm-sig-2019-2022.bundle is not there)";

describe.skipIf(!BUNDLE)(`patchwork checks for the real 2022 dma_coherent series${why}`, () => {
  let archive: Archive;
  let real: SeriesReview;
  beforeAll(async () => {
    archive = openArchive(BUNDLE!);
    const s = readDevset(join(projectRoot(), "eval", "devset")).find((l) => l.id === "dma-coherent-flag-2022")!;
    real = (await reviewLabelled(s, archive, await loadPipeline())).reviews.find((r) => r.series.revision === 1)!;
  });
  afterAll(() => archive?.close());

  it("posts, updates and links a check for each of its patches", async () => {
    for (const id of ids(real)) pw.addPatch(id);
    const p = publisher();
    p.intend(real);
    expect((await p.flush()).posted).toBe(ids(real).length);
    expectDocumentedCalls();
    const gate = pw.newest("20221020121316.3946-2-christian.koenig@amd.com", "dmabuf-review")!;
    expect(gate.state).not.toBe("success");
    expect(gate.description).toMatch(/^\d+ (error|warning)s?/);
    expect(gate.target_url).toBe(`${PAGES}/reviews/${encodeURIComponent("20221020121316.3946-2-christian.koenig@amd.com")}#patch-1`);
    const cleared: SeriesReview = { ...real, patches: real.patches.map((x) => ({ ...x, findings: [] })) };
    p.intend(cleared);
    await p.flush();
    expect(pw.newest("20221020121316.3946-2-christian.koenig@amd.com", "dmabuf-review")!.state).toBe("success");
  });
});
