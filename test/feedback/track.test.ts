import { describe, expect, it } from "vitest";
import { trackAll, trackSeries, type Tracker } from "../../src/feedback/track.js";
import type { JudgedItem } from "../../src/feedback/verdict.js";
import { revisionChain } from "../../src/patch/revision-link.js";
import { renderTrackerText } from "../../src/review/render/tracker.js";
import { CHANGE_ID, dropMessage, editAfter, seriesOf, trackDeps, V1_COVER, V2_COVER } from "./fixture.js";

function tracked(results: Awaited<ReturnType<typeof trackAll>>): Tracker {
  expect(results).toHaveLength(1);
  const r = results[0]!;
  if (r.kind !== "tracked") throw new Error(`not tracked: ${r.reason}`);
  return r.tracker;
}

const byId = (t: Tracker, id: string): JudgedItem => t.items.find((i) => i.id === id)!;
const row = (i: JudgedItem) =>
  `${i.id} ${i.verdict} | ${i.kind} | ${i.author.name} | v${i.version} ${i.patch.index}/${i.patch.total} | ${i.anchor.kind} ${i.anchor.file ?? "-"}:${i.anchor.line ?? "-"} ${i.anchor.function ?? "-"} | ${i.source}`;

const UNCHANGED_GATE = "interdiff v1 1/3 → v2 1/3: the quoted lines are unchanged, now at drivers/dma-buf/dma-buf.c:219 in dma_buf_dynamic_attach()";
const STILL_PER_DEVICE =
  "v2 1/3 still decides per device: drivers/dma-buf/dma-buf.c:219 in dma_buf_dynamic_attach(): if (dmabuf->dma_coherent && !dev_is_dma_coherent(dev)) → -EINVAL";
const MODEL_PER_ATTACHMENT =
  "model, re-run on v2: 12 configurations that work today with correct SYNC are still refused only because coherency is decided per attachment (v1: 24); e.g. amdgpu-gtt -> soc-gpu-per-buffer (arm64), cpu-fill-device-read: ok today, rejected with v2";
const STILL_FAILS =
  "v2 1/3 still adds a failure userspace imports reach: drivers/dma-buf/dma-buf.c:219 in dma_buf_dynamic_attach(): if (dmabuf->dma_coherent && !dev_is_dma_coherent(dev)) → -EINVAL";
const MODEL_USERSPACE =
  "model, re-run on v2: 20 exporter/importer/platform attachments that import today fail (v1: 34); e.g. amdgpu-gtt -> soc-gpu-per-buffer (arm64): ok today, rejected with v2, seen by userspace as a failed DRM_IOCTL_PRIME_FD_TO_HANDLE or EGL_EXT_image_dma_buf_import";
const ANSWER =
  'reply <YWxleC1hbnN3ZXItam9uYXM@example.com> from Alex Moreau, 2022-10-27: "Those imports work by luck: nothing guarantees that the display controller sees what the CPU wrote, and when the timing changes the corruption is back. I\'d rather have the import fail loudly than have the kernel hand out buffers it..."';
const OVERRIDE_EVIDENCE = [
  'changelog v2, cover letter: "New helper drm_gem_prime_clear_coherent(), used by amdgpu for USWC buffers, so that exporters can override the flag (Mei)"',
  'changelog v2, patch 2/3: "add drm_gem_prime_clear_coherent() so that drivers can override the device default (Mei)"',
  "v2 2/3 lets the exporter clear the flag: drivers/gpu/drm/drm_prime.c:111 in drm_gem_prime_clear_coherent(): dma_buf->dma_coherent = false",
  "v2 3/3 uses it: drivers/gpu/drm/amd/amdgpu/amdgpu_dma_buf.c:85 in amdgpu_gem_prime_export(): drm_gem_prime_clear_coherent(buf);",
  "the review of v2 no longer finds attach/gate-without-override (v1: drivers/dma-buf/dma-buf.c:219)",
  // The kernel-doc added above the export is in the quoted region: said, but not mistaken for code.
      'interdiff v1 2/3 → v2 2/3: the quoted lines stay, the comments around them in drm_gem_prime_export() changed: v2 "+/**"',
  'promised in <YWxleC1hbnN3ZXItbWVp@example.com> from Alex Moreau, 2022-10-27: "Good idea, I\'ll add a helper to clear it after export in v2."',
];

describe("tracking the dma_coherent v1 review into v2", async () => {
  const deps = await trackDeps();
  const t = tracked(trackAll(await seriesOf(), deps));

  it("links v2 to v1 by change-id although the series was renamed", () => {
    expect(t.series.id).toBe(V2_COVER);
    expect(t.revisions.map((r) => `v${r.revision} ${r.id}`)).toEqual([`v1 ${V1_COVER}`, `v2 ${V2_COVER}`]);
    expect(t.links.map((l) => `${l.how}: ${l.detail}`)).toEqual([`change-id: change-id ${CHANGE_ID}`]);
    expect(t.replies).toBe(8);
    expect(t.restatements).toBe(3);
  });

  it("finds each point once, with who, where and what kind", () => {
    expect(t.items.map(row)).toEqual([
      "1.1 not addressed | change requested | Priya Raman | v1 1/3 | code drivers/dma-buf/dma-buf.c:219 dma_buf_dynamic_attach | Y1JtQ2xwcml5YQ@example.org",
      "1.2 addressed | change requested | Priya Raman | v1 1/3 | code include/linux/dma-buf.h:77 struct dma_buf | Y1JtQ2xwcml5YQ@example.org",
      "1.3 unclear | ack | Sam Okafor | v1 2/3 | prose -:- - | c2FtLXJldmlld2Vk@example.net",
      "1.4 answered | objection | Jonas Weber | v1 1/3 | code drivers/dma-buf/dma-buf.c:219 dma_buf_dynamic_attach | am9uYXMtdXNlcnNwYWNl.camel@example.de",
      "1.5 addressed | suggestion | Mei Tanaka | v1 2/3 | code drivers/gpu/drm/drm_prime.c:93 drm_gem_prime_export | bWVpLW92ZXJyaWRl@example.jp",
      "1.6 obsolete | question | Tomas Lindgren | v1 3/3 | code drivers/media/common/videobuf2/videobuf2-vmalloc.c:69 vb2_vmalloc_get_dmabuf | dG9tYXMtcXVlc3Rpb24@example.se",
      "1.7 addressed | objection | Hana Novak | v1 3/3 | prose -:- - | aGFuYS1uYWs@example.cz",
      "1.8 not addressed | ack | Ravi Kumar | v1 0/3 | prose -:- - | cmF2aS10ZXN0ZWQ@example.in",
      "1.9 unclear | change requested | Nadia Leclerc | v1 0/3 | prose -:- - | bmFkaWEtc3VtbWFyeQ@example.ca",
    ]);
    expect(byId(t, "1.1").text).toBe("Could the decision be made per attachment instead, with the exporter and the importer both having a say, rather than per device?");
    expect(byId(t, "1.1").anchor.quoted).toEqual(["+\tif (dmabuf->dma_coherent && !dev_is_dma_coherent(dev))", "+\t\treturn ERR_PTR(-EINVAL);"]);
    expect(byId(t, "1.4").text).toBe("That is a regression for userspace that works today; I don't think we can take the series in this form.");
    expect(byId(t, "1.7").text).toBe("NAK for the videobuf2 part.");
    expect(byId(t, "1.3").trailer).toMatchObject({ key: "Reviewed-by", email: "sam.okafor@example.net" });
    expect(byId(t, "1.8").trailer).toMatchObject({ key: "Tested-by", email: "ravi.kumar@example.in" });
    expect(t.items.map((i) => i.concern ?? "-")).toEqual(["per-attachment", "-", "-", "userspace-regression", "exporter-override", "-", "-", "-", "-"]);
  });

  it("merges the numbered summary into the three points it restates instead of counting them again", () => {
    const restated = t.items.filter((i) => i.restatedIn.length > 0).map((i) => `${i.id} <- ${i.restatedIn.map((r) => `${r.author.name} ${r.source}`).join(", ")}`);
    expect(restated).toEqual([
      "1.1 <- Nadia Leclerc bmFkaWEtc3VtbWFyeQ@example.ca",
      "1.4 <- Nadia Leclerc bmFkaWEtc3VtbWFyeQ@example.ca",
      "1.5 <- Nadia Leclerc bmFkaWEtc3VtbWFyeQ@example.ca",
    ]);
    expect(t.items.filter((i) => i.author.name === "Nadia Leclerc").map((i) => i.id)).toEqual(["1.9"]);
  });

  it("per-device check kept: not addressed, with the unchanged gate and the model re-run on v2", () => {
    expect(byId(t, "1.1").evidence).toEqual([UNCHANGED_GATE, STILL_PER_DEVICE, MODEL_PER_ATTACHMENT]);
  });

  it("kernel-doc reworded and said so in the changelog: addressed", () => {
    expect(byId(t, "1.2").evidence).toEqual([
      'changelog v2, cover letter: "Reworded the kernel-doc of dma_buf.dma_coherent (Priya)"',
      'changelog v2, patch 1/3: "the kernel-doc of @dma_coherent says what the flag describes and that exporters may clear it (Priya)"',
      'interdiff v1 1/3 → v2 1/3: the quoted lines changed in include/linux/dma-buf.h (struct dma_buf): v1 "+ * True when importing devices must snoop the CPU caches to see the", v2 "+ * True when the memory behind this buffer is cached by the CPU and an"',
    ]);
  });

  it("a Reviewed-by carried onto a patch that changed substantially is flagged", () => {
    expect(byId(t, "1.3").evidence).toEqual([
      "Reviewed-by: Sam Okafor <sam.okafor@example.net> given in <c2FtLXJldmlld2Vk@example.net> on v1 2/3 is carried into v2 2/3, which changed substantially since it was given",
      "interdiff v1 2/3 → v2 2/3: 16 lines only in the new patch, 0 only in the old (6 of them code; drivers/gpu/drm/drm_prime.c, include/drm/drm_prime.h), e.g. +void drm_gem_prime_clear_coherent(struct dma_buf *dma_buf)",
    ]);
  });

  it("the userspace regression: answered with the author's reason, and the model says imports still fail", () => {
    expect(byId(t, "1.4").evidence).toEqual([ANSWER, STILL_FAILS, MODEL_USERSPACE, UNCHANGED_GATE]);
  });

  it("exporter override: addressed by the new helper and its user, the changelog and the promise agree", () => {
    expect(byId(t, "1.5").evidence).toEqual(OVERRIDE_EVIDENCE);
  });

  it("a question on the dropped videobuf2 patch is obsolete; its NAK, dropped as the changelog says, is addressed; the Tested-by not carried is noted", () => {
    expect(byId(t, "1.6").evidence).toEqual(['v1 3/3 "media: videobuf2: set dma_coherent flag for DMA-buf" has no counterpart in v2']);
    expect(byId(t, "1.7").evidence).toEqual([
      'v1 3/3 "media: videobuf2: set dma_coherent flag for DMA-buf" has no counterpart in v2',
      'changelog v2, cover letter: "Dropped the videobuf2 patch: vb2 devices and CPU-written buffers need a different answer (Tomas, Hana)"',
    ]);
    expect(byId(t, "1.8").evidence).toEqual(["Tested-by: Ravi Kumar <ravi.kumar@example.in> given in <cmF2aS10ZXN0ZWQ@example.in> for the whole series is on no patch of v2"]);
  });

  it("a cover-letter point whose text is gone but not mentioned is unclear", () => {
    expect(byId(t, "1.9").text).toBe(
      "Swapping exporter and importer is not something userspace can do in general: a camera feeding several consumers has no single importer to swap with. Please don't present it as the way out.",
    );
    expect(byId(t, "1.9").evidence).toEqual(["the quoted cover letter text is no longer in the cover letter of v2", "the changelog does not mention it"]);
  });

  it("selects the series by change-id or by either revision's Message-ID", async () => {
    const all = await seriesOf();
    for (const sel of [CHANGE_ID, `<${V1_COVER}>`, V2_COVER]) {
      expect(trackAll(all, deps, sel).map((r) => r.series.id)).toEqual([V2_COVER]);
    }
    expect(trackAll(all, deps, "nothing@example.com")).toEqual([]);
  });
});

describe("tracking variants of the thread", async () => {
  const deps = await trackDeps();

  it("a v2 with no v1 known says so and tracks nothing", async () => {
    const all = (await seriesOf()).filter((s) => s.revision === 2);
    const r = trackSeries(all[0]!, all, { ...deps, place: "the store" });
    expect(r).toEqual({ kind: "no-previous", series: all[0], reason: "no earlier revision of this series in the store; nothing to track" });
  });

  it("tracks along a chain found beforehand as along the one it finds, and finds none of its own", async () => {
    const all = await seriesOf();
    const v2 = all.find((s) => s.id === V2_COVER)!;
    expect(trackSeries(v2, all, deps, revisionChain(v2, all))).toEqual(trackSeries(v2, all, deps));
    expect(trackSeries(v2, all, deps, { revisions: [v2], links: [] }).kind).toBe("no-previous");
  });

  it("without the author's reply, the userspace objection is not addressed, for the same reasons", async () => {
    const t = tracked(trackAll(await seriesOf((s) => dropMessage(s, "YWxleC1hbnN3ZXItam9uYXM@example.com")), deps));
    expect(byId(t, "1.4").verdict).toBe("not addressed");
    expect(byId(t, "1.4").evidence).toEqual([UNCHANGED_GATE, STILL_FAILS, MODEL_USERSPACE]);
    expect(t.items.map((i) => i.verdict)).toEqual(["not addressed", "addressed", "unclear", "not addressed", "addressed", "obsolete", "addressed", "not addressed", "unclear"]);
  });

  it("a v1 whose text carries v2's changelog (a forge keeps one description for every push) still has its changelog read", async () => {
    const edit = (s: string) => editAfter(s, `Message-ID: <${V1_COVER}>`, "roles of exporter and importer.\n", "roles of exporter and importer.\n\nChanges in v2:\n- Reworded the kernel-doc (Priya)\n");
    const t = tracked(trackAll(await seriesOf(edit), deps));
    expect(byId(t, "1.7").evidence).toContain('changelog v2, cover letter: "Dropped the videobuf2 patch: vb2 devices and CPU-written buffers need a different answer (Tomas, Hana)"');
    expect(byId(t, "1.2").evidence.filter((e) => e.startsWith("changelog v2"))).not.toEqual([]);
  });

  it("a changelog that claims the per-attachment point while the code still asks the device is unclear", async () => {
    const t = tracked(
      trackAll(await seriesOf((s) => editAfter(s, `Message-ID: <${V2_COVER}>`, "- Reworded the kernel-doc", "- Decide per attachment whether a device may attach (Priya)\n- Reworded the kernel-doc")), deps),
    );
    expect(byId(t, "1.1").verdict).toBe("unclear");
    expect(byId(t, "1.1").evidence).toEqual([
      UNCHANGED_GATE,
      STILL_PER_DEVICE,
      MODEL_PER_ATTACHMENT,
      'changelog v2, cover letter: "Decide per attachment whether a device may attach (Priya)"',
    ]);
    expect(byId(t, "1.2").verdict).toBe("addressed");
  });

  it("a v2 whose check asks the exporter about the attachment addresses the per-attachment point, and says the model cannot evaluate it", async () => {
    const edit = (s: string) =>
      editAfter(s, `Message-ID: <${V2_COVER}>`, "+\tif (dmabuf->dma_coherent && !dev_is_dma_coherent(dev))", "+\tif (dmabuf->dma_coherent && !dmabuf->ops->attach_coherent(dmabuf, dev))");
    const t = tracked(trackAll(await seriesOf(edit), deps));
    const unmodelled =
      'model: the check at drivers/dma-buf/dma-buf.c:219 in dma_buf_dynamic_attach() is not modelled (the gate depends on "dmabuf->ops->attach_coherent(dmabuf, dev)", which the model does not know), so its configurations are judged by the code alone';
    const changed =
      'interdiff v1 1/3 → v2 1/3: the quoted lines changed in drivers/dma-buf/dma-buf.c (dma_buf_dynamic_attach): v1 "+ if (dmabuf->dma_coherent && !dev_is_dma_coherent(dev))", v2 "+ if (dmabuf->dma_coherent && !dmabuf->ops->attach_coherent(dmabuf, dev))"';
    expect(byId(t, "1.1").verdict).toBe("addressed");
    expect(byId(t, "1.1").evidence).toEqual(["v2 no longer asks dev_is_dma_coherent() at attach time", unmodelled, changed]);
    // Still answered: the check still fails imports, and the model cannot count them.
    expect(byId(t, "1.4").verdict).toBe("answered");
    expect(byId(t, "1.4").evidence).toEqual([
      ANSWER,
      "v2 1/3 still adds a failure userspace imports reach: drivers/dma-buf/dma-buf.c:219 in dma_buf_dynamic_attach(): if (dmabuf->dma_coherent && !dmabuf->ops->attach_coherent(dmabuf, dev)) → -EINVAL",
      unmodelled,
      changed,
    ]);
    expect(byId(t, "1.5").evidence).toContain(
      "v2 1/3 lets the exporter decide at attach time: drivers/dma-buf/dma-buf.c:219 in dma_buf_dynamic_attach(): if (dmabuf->dma_coherent && !dmabuf->ops->attach_coherent(dmabuf, dev)) → -EINVAL",
    );
  });

  it("replies to v2 are counted as pending, and the author's answer there still answers a v1 point", async () => {
    const reply = (id: string, from: string, parent: string, body: string) =>
      [
        "From mboxrd@z Thu Jan  1 00:00:00 1970",
        `Message-ID: <${id}>`,
        `From: ${from}`,
        "Date: Fri, 11 Nov 2022 10:00:00 +0100",
        "Subject: Re: [PATCH v2 0/3] dma-buf: coherency flag with an exporter override",
        `In-Reply-To: <${parent}>`,
        `References: <${V2_COVER}>${parent === V2_COVER ? "" : ` <${parent}>`}`,
        "",
        body,
        "",
      ].join("\n");
    const edit = (s: string) =>
      `${dropMessage(s, "YWxleC1hbnN3ZXItam9uYXM@example.com")}\n${reply("v2-priya@example.org", "Priya Raman <priya.raman@example.org>", V2_COVER, "This still asks the device. Please look at the attachment instead.")}\n${reply(
        "v2-alex@example.com",
        "Alex Moreau <alex.moreau@example.com>",
        V2_COVER,
        "Jonas, on the regression you raised on v1: the check stays, because an import that works today only by luck is worse than one that fails.",
      )}`;
    const t = tracked(trackAll(await seriesOf(edit), deps));
    expect(t.pending).toBe(1);
    expect(byId(t, "1.4").verdict).toBe("answered");
    expect(byId(t, "1.4").evidence[0]).toBe(
      'reply <v2-alex@example.com> from Alex Moreau, 2022-11-11: "Jonas, on the regression you raised on v1: the check stays, because an import that works today only by luck is worse than one that fails."',
    );
    expect(renderTrackerText(t).split("\n").slice(4, 7)).toEqual([
      "  9 points from 8 replies to v1 (3 restatements merged): 3 addressed, 2",
      "  not addressed, 1 answered, 1 obsolete, 2 unclear. 1 reply to v2 so",
      "  far, judged against the next revision.",
    ]);
  });

  it("replies from ignored addresses (the bot's own, back from the list) are not review", async () => {
    const t = tracked(trackAll(await seriesOf(), { ...deps, ignore: ["Priya.Raman@example.org"] }));
    expect(t.items.map((i) => i.author.name)).not.toContain("Priya Raman");
    // Nadia's first summary point restated Priya's: with Priya's gone, it stands on its own.
    expect(t.items.filter((i) => i.author.name === "Nadia Leclerc").map((i) => i.text)).toEqual([
      "Priya showed that coherency is not uniform within one device, so a per-device dev_is_dma_coherent() check refuses imports that work; she asked for a per-attachment answer instead.",
      "Swapping exporter and importer is not something userspace can do in general: a camera feeding several consumers has no single importer to swap with. Please don't present it as the way out.",
    ]);
    expect(t.items).toHaveLength(8);
    expect(t.replies).toBe(7);
  });
});
