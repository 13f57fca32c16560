import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/channels/server.js";
import { reviewPageUrl } from "../../src/publish/pages/url.js";
import { splitMbox } from "../../src/ingest/mbox/reader.js";
import { fixture } from "../helpers/mail.js";
import { PeerInbox } from "../peers/public-inbox.js";
import { mailEnv, type Env } from "./mail-setup.js";

/**
 * The review pages as a browser shows them: Debian's chromium (installed by .ci/run) driven by
 * playwright-core, against the service on loopback after the mail channel reviewed a list.
 * A screenshot of each page goes to test-artifacts/pages/.
 */
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const repo = resolve(import.meta.dirname, "..", "..");
const ARTIFACTS = join(repo, "test-artifacts", "pages");
const bundle = ["../shared", "../../shared"].map((up) => join(repo, up, "archives", "linaro-mm-sig-2019-2022.bundle")).find((p) => existsSync(p));

const HOSTILE = `dma-buf: <script>window.pwned=1</script> & "<img src=x onerror=window.pwned=2>"`;
const HOSTILE_ID = "hostile-1@example.org";
const V2_COVER = "20221110-dma-coherent-v2-0-9e8d7c6b5a41@example.com";
// The 2022 RFC as the list delivered it: cover letter (no [PATCH 0/N]) and patches 1/3..3/3.
const REAL = ["b4e46baedbbf59cda743e0a7ede7cabc771ad05a", "8139d478d563e503ad3ad053705ad3ff01a46acf", "74b4d3be980d2ff1708bcf6f08f7c2604bfb0ea7", "9950490c9e1a35e3d39d0cedd1942815c61e47f0"];
// Patch 1/3: the link a check posts for a patch leads to its series page.
const REAL_ID = "20221020121316.3946-2-christian.koenig@amd.com";
const REAL_COVER = "20221020121316.3946-1-christian.koenig@amd.com";

/** The udmabuf fixture patch under a subject no page may run or mangle. */
function hostilePatch(): Buffer {
  const text = readFileSync(fixture("model/udmabuf-skip-cpu-sync.patch"), "utf8")
    .replace(/^From [0-9a-f]{40} .*\n/, "")
    .replace(/^Subject: .*$/m, `Subject: [PATCH] ${HOSTILE}\nMessage-ID: <${HOSTILE_ID}>`);
  return Buffer.from(text);
}

const why = CHROMIUM ? "" : " (skipped: chromium is not installed; .ci/run installs Debian's package where it can)";

describe.skipIf(!CHROMIUM)(`review pages in headless Chromium${why}`, () => {
  let env: Env;
  let server: RunningServer;
  let browser: Browser;
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "dmabuf-review-pages-"));
    const inbox = new PeerInbox(join(work, "inbox"));
    for (const r of splitMbox(readFileSync(fixture("feedback/dma-coherent/v1-v2.mbox")), "v1-v2.mbox")) inbox.add(r.bytes);
    inbox.add(hostilePatch());
    if (bundle) {
      const git = join(work, "archive.git");
      execFileSync("git", ["clone", "-q", "--bare", bundle, git]);
      for (const c of REAL) inbox.add(execFileSync("git", ["--git-dir", git, "show", `${c}:m`]));
    }
    env = await mailEnv(inbox.dir, { mirror: { name: "linaro-mm-sig" }, dir: work });
    await env.engine.pass({ reply: "new" });
    const ctx = { ...env.ctx, config: { ...env.ctx.config, http: { ...env.ctx.config.http, host: "127.0.0.1", port: 0 } } };
    server = await startServer(ctx, { reviewWorkers: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await env?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function open(path: string, shot: string): Promise<{ page: Page; status: number | undefined }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const res = await page.goto(`${server.url}${path}`);
    await page.screenshot({ path: join(ARTIFACTS, `${shot}.png`), fullPage: shot !== "real-2022-dma-coherent" });
    return { page, status: res?.status() };
  }

  it("lists the reviewed series newest first and filters them by verdict", async () => {
    const { page } = await open("/reviews", "list");
    const rows = await page.locator("table.list tbody tr").evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset["series"]));
    expect(rows).toContain(HOSTILE_ID);
    expect(rows).toContain(V2_COVER);
    const dates = await page.locator("table.list tbody tr td:first-child").allTextContents();
    expect([...dates].sort().reverse()).toEqual(dates);
    const clean = await open("/reviews?verdict=clean", "list-clean");
    expect(await clean.page.locator("table.list tbody tr").evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset["series"]))).not.toContain(HOSTILE_ID);
  });

  it("shows a hostile subject as text and runs none of it", async () => {
    const { page, status } = await open(new URL(reviewPageUrl("http://x", HOSTILE_ID)).pathname, "hostile-subject");
    expect(status).toBe(200);
    expect(await page.locator("h1").textContent()).toContain(HOSTILE);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator("img").count()).toBe(0);
    expect(await page.locator("script").evaluateAll((s) => s.map((e) => (e as HTMLScriptElement).getAttribute("src")))).toEqual(["/reviews/assets/page.js"]);
    // The model's grid: the two new hazards the fixture expects, coloured before ok, after broken.
    const cell = page.locator('table.grid[data-platform="arm64"][data-pattern="device-write-cpu-read"] button.cell[data-after="lost-write"]');
    await expect.poll(() => cell.count()).toBeGreaterThan(0);
    expect(await cell.first().getAttribute("data-before")).toBe("ok");
    const colours = await cell.first().locator("span").evaluateAll((ss) => ss.map((s) => getComputedStyle(s).backgroundColor));
    expect(colours[0]).not.toBe(colours[1]);
    await cell.first().click();
    expect(await page.locator("#trace").isVisible()).toBe(true);
    expect(await page.locator("#trace").textContent()).toMatch(/udmabuf → soc-gpu-noncoherent on arm64, device-write-cpu-read: ok → lost-write/);
  });

  it("places findings on the diff line they name, and tracks feedback across revisions", async () => {
    const { page } = await open(new URL(reviewPageUrl("http://x", V2_COVER)).pathname, "fixture-v2-tracker");
    const finding = page.locator("table.diff tr.finding").first();
    expect(await finding.count()).toBe(1);
    // The row above a finding is the added or context line it names.
    const line = await finding.evaluate((tr) => (tr.previousElementSibling as HTMLElement).querySelectorAll("td")[1]!.textContent);
    const named = await finding.locator("td").textContent();
    expect(named).toContain(`:${line}`);
    const head = await page.locator("table.tracker tr").first().locator("th").allTextContents();
    expect(head.slice(-2)).toEqual(["v1", "v2"]);
    expect(await page.locator("table.tracker tr").count()).toBeGreaterThan(2);
  });

  it.skipIf(!bundle)("renders the real 2022 dma_coherent RFC with its model grid", async () => {
    const { page, status } = await open(new URL(reviewPageUrl("http://x", REAL_ID)).pathname, "real-2022-dma-coherent");
    expect(status).toBe(200);
    // Reached by patch 1/3's Message-ID, the page is the series', named by its untagged cover letter.
    expect(await page.locator("h1").textContent()).toContain("Try to address the DMA-buf coherency problem");
    expect((await fetch(`${server.url}${new URL(reviewPageUrl("http://x", REAL_COVER)).pathname}`)).status).toBe(200);
    expect(await page.locator("table.grid").count()).toBeGreaterThan(1);
    // attachments the flag refuses although they work today: ok before, rejected after
    const refused = page.locator('button.cell[data-before="ok"][data-after="rejected"]');
    expect(await refused.count()).toBeGreaterThan(10);
    await refused.first().scrollIntoViewIfNeeded();
    await page.locator("table.grid").first().screenshot({ path: join(ARTIFACTS, "real-2022-grid.png") });
    await refused.first().click();
    expect(await page.locator("#trace").textContent()).toMatch(/dma_buf_attach -> -EINVAL/);
    await page.locator("#trace").screenshot({ path: join(ARTIFACTS, "real-2022-trace.png") });
    await page.screenshot({ path: join(ARTIFACTS, "real-2022-dma-coherent-full.png"), fullPage: true });
  });
});
