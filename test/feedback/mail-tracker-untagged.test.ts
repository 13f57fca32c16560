import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendToInbox } from "../../src/ingest/public-inbox/writer.js";
import { FeedbackStore } from "../../src/state/feedback.js";
import { mailEnv, type Env } from "../channels/mail-setup.js";

// A patch whose author never tags the subject: the second posting says it is v2 only in its
// changelog. The mail channel must still track it, and print the numbers the chain gives.

const AUTHOR = "Jane Dev <jane.dev@example.org>";
const REVIEWER = "Priya Raman <priya@example.org>";
const V1 = "20261102100000.1-1-jane.dev@example.org";
const V2 = "20261110100000.2-1-jane.dev@example.org";
const FILE = "drivers/dma-buf/dma-buf.c";

function raw(id: string, from: string, date: string, subject: string, body: string, parent?: string): { bytes: Buffer; time: Date } {
  const head = [
    `From: ${from}`,
    "To: dri-devel@lists.freedesktop.org",
    `Subject: ${subject}`,
    `Date: ${date}`,
    `Message-ID: <${id}>`,
    ...(parent ? [`In-Reply-To: <${parent}>`, `References: <${parent}>`] : []),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
  ];
  return { bytes: Buffer.from(`${head.join("\n")}\n\n${body}`), time: new Date(date) };
}

function patch(line: string, notes: string): string {
  return [
    "Check the attachment before mapping it.",
    "",
    `Signed-off-by: ${AUTHOR}`,
    "---",
    ...(notes ? [notes, ""] : []),
    `diff --git a/${FILE} b/${FILE}`,
    "index 1111111..2222222 100644",
    `--- a/${FILE}`,
    `+++ b/${FILE}`,
    "@@ -10,2 +10,3 @@ int dma_buf_map(struct dma_buf *buf)",
    " \tint ret;",
    `+\t${line}`,
    " \treturn 0;",
    "",
  ].join("\n");
}

describe("mail tracker: a revision numbered only by its changelog", () => {
  let env: Env;

  beforeAll(async () => {
    const inbox = join(mkdtempSync(join(tmpdir(), "dmabuf-review-untagged-")), "inbox");
    await appendToInbox(inbox, [
      raw(V1, AUTHOR, "Mon, 02 Nov 2026 10:00:00 +0000", "[PATCH] dma-buf: check the attachment", patch("ret = check(buf);", "")),
      raw(
        "r1@example.org",
        REVIEWER,
        "Tue, 03 Nov 2026 10:00:00 +0000",
        "Re: [PATCH] dma-buf: check the attachment",
        `On Mon, Nov 2, 2026, Jane Dev wrote:\n> +\tret = check(buf);\n\nPlease return the error from check() instead of ignoring it.\n`,
        V1,
      ),
      raw(V2, AUTHOR, "Tue, 10 Nov 2026 10:00:00 +0000", "[PATCH] dma-buf: check the attachment", patch("return check(buf);", "v2: return the error from check() (Priya)")),
    ]);
    env = await mailEnv(inbox);
    await env.engine.pass({ reply: "all" });
  });

  afterAll(async () => {
    await env.close();
  });

  it("tracks the untagged v2 against v1 and prints v2, not v1", () => {
    const fb = new FeedbackStore(env.store.db);
    expect(fb.links(V2).map((l) => l.previousId)).toEqual([V1]);
    const body = fb.tracker("mail", V2)?.body ?? "";
    expect(body.split("\n")[0]).toBe("Tracker: dma-buf: check the attachment (v2)");
    expect(body).toContain(`  v1 <${V1}>`);
    expect(body).toContain(`  v2 <${V2}>`);
    expect(body).toContain("v2 follows v1:");
    expect(body).not.toMatch(/v1 follows v1/);
  });
});
