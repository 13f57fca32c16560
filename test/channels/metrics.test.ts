import { beforeAll, describe, expect, it } from "vitest";
import { reviewPageUrl } from "../../src/publish/pages/url.js";
import { gitlabForgeEachTest, reviewDeps } from "../peers/forge-server.js";
import { pushFromMbox, type Push } from "../peers/forge-series.js";
import { deliverGitlab, IID, mergeRequestHook, PROJECT } from "../peers/gitlab-hooks.js";

/** The Prometheus text as name{labels} → value. */
function scrape(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe("GET /metrics and the forge's review page", () => {
  const forge = gitlabForgeEachTest();
  let v1: Push;

  beforeAll(async () => {
    v1 = await pushFromMbox();
    await reviewDeps();
  });


  it("counts deliveries, rejections and review durations in the Prometheus text format", async () => {
    const before = await fetch(`${forge.fs.server.url}/metrics`);
    expect(before.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const m0 = scrape(await before.text());
    expect(m0.get("dmabuf_review_review_duration_seconds_count")).toBe(0);
    expect(m0.get('dmabuf_review_channel_on{channel="gitlab"}')).toBe(1);
    expect(m0.get('dmabuf_review_channel_on{channel="github"}')).toBe(0);

    forge.gl.push(PROJECT.id, PROJECT.path, IID, v1);
    expect((await deliverGitlab(forge.fs.server.url, mergeRequestHook("open", v1))).status).toBe(200);
    expect((await deliverGitlab(forge.fs.server.url, mergeRequestHook("open", v1), { token: "wrong" })).status).toBe(401);

    const text = await (await fetch(`${forge.fs.server.url}/metrics`)).text();
    expect(text).toContain("# TYPE dmabuf_review_review_duration_seconds histogram");
    const m = scrape(text);
    expect(m.get('dmabuf_review_channel_events_total{channel="gitlab",event="received"}')).toBe(2);
    expect(m.get('dmabuf_review_channel_events_total{channel="gitlab",event="reviewed"}')).toBe(1);
    expect(m.get('dmabuf_review_channel_events_total{channel="gitlab",event="rejected"}')).toBe(1);
    expect(m.get("dmabuf_review_review_duration_seconds_count")).toBe(1);
    expect(m.get('dmabuf_review_review_duration_seconds_bucket{le="+Inf"}')).toBe(1);
    expect(m.get("dmabuf_review_review_duration_seconds_sum")).toBeGreaterThan(0);
    expect(m.get("dmabuf_review_review_queue_length")).toBe(0);
    // The same counters /healthz reports.
    const health = (await (await fetch(`${forge.fs.server.url}/healthz`)).json()) as { counters: { gitlab: Record<string, number> } };
    expect(m.get('dmabuf_review_channel_events_total{channel="gitlab",event="posted"}')).toBe(health.counters.gitlab["posted"]);
  });

  it("the merge request's review gets a page, listed under its forge", async () => {
    forge.gl.push(PROJECT.id, PROJECT.path, IID, v1);
    expect((await deliverGitlab(forge.fs.server.url, mergeRequestHook("open", v1))).status).toBe(200);
    const list = await (await fetch(`${forge.fs.server.url}/reviews?forge=gitlab`)).text();
    const id = /data-series="([^"]+)"/.exec(list)?.[1];
    expect(id).toBeDefined();
    expect(list).toContain(`gitlab: ${PROJECT.path}`);
    expect(await (await fetch(`${forge.fs.server.url}/reviews?forge=mail`)).text()).not.toContain("data-series=");
    const page = await fetch(reviewPageUrl(forge.fs.server.url, id!.replace(/&amp;/g, "&")));
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await page.text()).toContain('class="grid"');
  });
});
