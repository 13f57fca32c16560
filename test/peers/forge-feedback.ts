import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { splitMbox } from "../../src/ingest/mbox/reader.js";
import { parseMime } from "../../src/ingest/mime.js";
import { buildMessage } from "../../src/patch/message.js";
import { groupSeries, type Series } from "../../src/patch/series.js";
import { diffLines, hunkText, type Push, type PushedFile } from "./forge-series.js";

/**
 * The dma_coherent review thread (fixtures/feedback/dma-coherent) as it would happen on a forge:
 * v1 and v2 of the series pushed to one pull or merge request, and the reviewers' points made
 * as line comments, conversation comments and replies in threads instead of mail.
 */
export const FEEDBACK_MBOX = fileURLToPath(new URL("../../fixtures/feedback/dma-coherent/v1-v2.mbox", import.meta.url));

const sha = (s: string) => createHash("sha1").update(s).digest("hex");

function pushOf(s: Series, base: string): Push {
  const files: PushedFile[] = [];
  for (const p of s.slots) {
    for (const f of p?.files ?? []) {
      if (files.some((g) => (g.newPath ?? g.oldPath) === f.path)) throw new Error(`${f.path} is changed by two patches of v${s.revision}`);
      const lines = f.hunks.flatMap((h) => h.lines);
      files.push({
        oldPath: f.oldPath,
        newPath: f.newPath,
        status: f.status,
        hunks: f.hunks.map(hunkText).join("\n"),
        additions: lines.filter((l) => l.type === "+").length,
        deletions: lines.filter((l) => l.type === "-").length,
      });
    }
  }
  return {
    headSha: sha(`feedback head v${s.revision}`),
    baseSha: base,
    title: s.cover?.parsedSubject.title ?? s.title,
    files,
    commits: s.slots.flatMap((p) => (p ? [{ sha: sha(`commit\0${p.messageId}`), title: p.parsedSubject.title, message: p.commitMessage }] : [])),
  };
}

export interface FeedbackPushes {
  readonly v1: Push;
  readonly v2: Push;
  /** The v2 cover letter: what the author writes as the description when pushing v2 ("Changes in v2: ..."). */
  readonly v2Description: string;
  readonly v1Description: string;
}

export async function feedbackPushes(): Promise<FeedbackPushes> {
  const text = readFileSync(FEEDBACK_MBOX);
  const messages = await Promise.all(splitMbox(text, FEEDBACK_MBOX).map(async (raw) => buildMessage(await parseMime(raw))));
  const { series } = groupSeries(messages);
  const base = sha("feedback base v6.1-rc1");
  const v1 = series.find((s) => s.revision === 1)!;
  const v2 = series.find((s) => s.revision === 2)!;
  return { v1: pushOf(v1, base), v2: pushOf(v2, base), v1Description: v1.cover!.commitMessage, v2Description: v2.cover!.commitMessage };
}

/** The new-file line of an added line of the push, found by its text (tabs as in the source). */
export function lineOf(push: Push, path: string, text: string): number {
  const file = push.files.find((f) => f.newPath === path)!;
  const body = file.hunks.split("\n").filter((l) => /^[-+ ]/.test(l) && !l.startsWith("@@"));
  const lines = diffLines(file.hunks);
  const at = body.findIndex((l) => l === `+${text}`);
  if (at < 0) throw new Error(`+${text} is not in ${path}`);
  return lines[at]!.newLine!;
}

/** The people of the thread, as forge users. The author pushes the change. */
export const PEOPLE = {
  author: { login: "ckoenig", name: "Christian König" },
  priya: { login: "priya", name: "Priya Raman" },
  jonas: { login: "jonas", name: "Jonas Weber" },
  mei: { login: "mei", name: "Mei Tanaka" },
  tomas: { login: "tomas", name: "Tomas Lindgren" },
  hana: { login: "hana", name: "Hana Novak" },
  sam: { login: "sam", name: "Sam Okafor" },
  nadia: { login: "nadia", name: "Nadia Leclerc" },
} as const;

export type Who = keyof typeof PEOPLE;

/** One point, where it is made: on lines of v1 (first..last new-file lines of one file), or in the conversation. */
export interface Said {
  readonly who: Who;
  readonly at: string;
  readonly body: string;
  readonly on?: { readonly path: string; readonly first: string; readonly last?: string };
}

const GATE = "\tif (dmabuf->dma_coherent && !dev_is_dma_coherent(dev))";

/** What the reviewers said on v1, in the words of the mail thread. */
export const SAID_ON_V1: readonly Said[] = [
  {
    who: "priya",
    at: "2022-10-21T07:12:40Z",
    on: { path: "drivers/dma-buf/dma-buf.c", first: GATE },
    body:
      "dev_is_dma_coherent() gives one answer for the whole device, but coherency is not uniform inside a device: the Adreno-class GPUs I work on pick snooped or non-snooped access per buffer, when the buffer is mapped. Such a GPU is not marked dma-coherent, so this check refuses imports that work today, and every one of them is a false positive.\n\nCould the decision be made per attachment instead, with the exporter and the importer both having a say, rather than per device?",
  },
  {
    who: "priya",
    at: "2022-10-21T07:13:10Z",
    on: { path: "include/linux/dma-buf.h", first: "\t/**", last: "\t */" },
    body: "Please spell out in this kernel-doc that the flag describes the memory of this buffer rather than the exporting device, and who may clear it.",
  },
  {
    who: "sam",
    at: "2022-10-21T15:40:05Z",
    body: "Looks good to me.",
  },
  {
    who: "jonas",
    at: "2022-10-24T09:05:00Z",
    on: { path: "drivers/dma-buf/dma-buf.c", first: GATE, last: "\t\treturn ERR_PTR(-EINVAL);" },
    body:
      "On the i.MX-class boards we ship, neither the display controller nor the video decoder is marked dma-coherent, and both import buffers from the GPU every frame today, with userspace bracketing each CPU access through DMA_BUF_IOCTL_SYNC. With this check those imports fail with -EINVAL, and falling back to a CPU copy is beyond the memory bandwidth of these SoCs. That is a regression for userspace that works today; I don't think we can take the series in this form.",
  },
  {
    who: "mei",
    at: "2022-10-24T23:20:31Z",
    on: { path: "drivers/gpu/drm/drm_prime.c", first: "\t\t.coherent = dev_is_dma_coherent(dev->dev)," },
    body:
      "The exporter often knows more than the device does here. amdgpu hands out USWC buffers from a device that snoops, and several exporters clean and invalidate for every attachment in begin/end_cpu_access, so an importer that does not snoop is fine for them.\n\nHow about letting the exporter override the flag, either by clearing it after export or through a dma_buf_ops callback it can implement?",
  },
  {
    who: "tomas",
    at: "2022-10-26T08:02:17Z",
    on: { path: "drivers/media/common/videobuf2/videobuf2-vmalloc.c", first: "\texp_info.coherent = true;" },
    body: "Why does the vmalloc allocator mark its buffers coherent unconditionally? The memory is written by the CPU, and nothing about it tells which device is going to read it.",
  },
  {
    who: "hana",
    at: "2022-10-26T13:47:52Z",
    body: "NAK for the videobuf2 part. Most vb2 devices on ARM are not marked dma-coherent, and the vmalloc-backed ones (UVC cameras among them) get their frames written by the CPU; with this patch, capture to display turns into an error instead of the occasional artifact.",
  },
  {
    who: "nadia",
    at: "2022-11-04T14:03:21Z",
    body:
      "I went through the review so far, and a v2 is clearly needed. As I read the thread, these are the points to address:\n\n1. Priya showed that coherency is not uniform within one device, so a per-device dev_is_dma_coherent() check refuses imports that work; she asked for a per-attachment answer instead.\n2. Jonas expects regressions: imports that work today with bracketed CPU access would start failing, and a CPU copy is no fallback on SoCs short of memory bandwidth.\n3. Mei asked that exporters be able to override the flag, since they know the memory type and whether they do cache maintenance.\n\nSwapping exporter and importer is not something userspace can do in general: a camera feeding several consumers has no single importer to swap with. Please don't present it as the way out.",
  },
];

/** The author's answers on v1: to Mei in her thread (a promise); to Jonas comes later, in the tests. */
export const PROMISE_TO_MEI = { who: "author" as const, at: "2022-10-27T11:41:55Z", body: "Good idea, I'll add a helper to clear it after export in v2." };
export const ANSWER_TO_JONAS = {
  who: "author" as const,
  at: "2022-11-12T09:00:00Z",
  body:
    "Those imports work by luck: nothing guarantees that the display controller sees what the CPU wrote, and when the timing changes the corruption is back. I'd rather have the import fail loudly than have the kernel hand out buffers it knows cannot be coherent, so I'm keeping the check; userspace can fall back to a copy or swap exporter and importer.",
};

/** The table rows of a tracker body, as posted. */
export function tableRows(body: string): string[] {
  return body.split("\n").filter((l) => /^\| \d+\.\d+ \|/.test(l));
}
