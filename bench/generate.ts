/**
 * A generated mbox of mixed list traffic for the benchmark: dma-buf exporter and importer
 * patches, out-of-scope driver patches, cover letters and replies, with varied hunks and
 * encodings. Deterministic (seeded), so runs compare.
 */

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const DRIVERS = ["foo", "bar", "baz", "qux", "vcodec", "isp", "disp", "npu"];

function hunk(start: number, context: string[], added: string[], removed: string[], heading: string): string {
  const pre = context.length + removed.length;
  const post = context.length + added.length;
  const half = Math.floor(context.length / 2);
  const lines = [
    ...context.slice(0, half).map((l) => ` ${l}`),
    ...removed.map((l) => `-${l}`),
    ...added.map((l) => `+${l}`),
    ...context.slice(half).map((l) => ` ${l}`),
  ];
  return `@@ -${start},${pre} +${start},${post} @@ ${heading}\n${lines.join("\n")}\n`;
}

function dmaBufPatch(r: () => number, n: number): { subject: string; diff: string } {
  const d = DRIVERS[Math.floor(r() * DRIVERS.length)]!;
  const path = `drivers/gpu/drm/${d}/${d}_dmabuf.c`;
  const start = 40 + Math.floor(r() * 800);
  const variant = n % 4;
  let h: string;
  if (variant === 0) {
    h = hunk(start, ["\t.map_dma_buf = " + d + "_map_dma_buf,", "\t.unmap_dma_buf = " + d + "_unmap_dma_buf,", "\t.release = " + d + "_release,", "};"], [], ["\t.begin_cpu_access = " + d + "_begin_cpu_access,"], `static const struct dma_buf_ops ${d}_dmabuf_ops = {`);
  } else if (variant === 1) {
    h = hunk(start, ["\tstruct sg_table *sgt = a->table;", "\tint ret;", "", "\tif (ret)", "\t\treturn ERR_PTR(ret);"], ["\tret = dma_map_sgtable(attach->dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);"], ["\tret = dma_map_sgtable(attach->dev, sgt, dir, 0);"], `static struct sg_table *${d}_map_dma_buf(struct dma_buf_attachment *attach,`);
  } else if (variant === 2) {
    h = hunk(start, ["\tstruct " + d + "_buffer *buf = dmabuf->priv;", "", "\tmutex_lock(&buf->lock);", "\tmutex_unlock(&buf->lock);", "\treturn 0;"], ["\tlist_for_each_entry(a, &buf->attachments, list)", "\t\tdma_sync_sgtable_for_cpu(a->dev, a->table, dir);"], [], `static int ${d}_begin_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir)`);
  } else {
    h = hunk(start, ["\tstruct iosys_map map;", "\tint ret;", "", "\tif (ret)", "\t\treturn ret;"], ["\tret = dma_buf_vmap_unlocked(obj->import_attach->dmabuf, &map);"], [], `static int ${d}_gem_prime_vmap(struct drm_gem_object *obj)`);
  }
  return {
    subject: `drm/${d}: ${["stop syncing", "skip cpu sync on map", "sync every attachment", "vmap imported buffers"][variant]} (${n})`,
    diff: `diff --git a/${path} b/${path}\nindex 1111111..2222222 100644\n--- a/${path}\n+++ b/${path}\n${h}`,
  };
}

function otherPatch(r: () => number, n: number): { subject: string; diff: string } {
  const path = `drivers/net/ethernet/acme/acme_main.c`;
  const start = 100 + Math.floor(r() * 2000);
  const h = hunk(start, ["\tstruct acme_ring *ring = priv->rx;", "\tunsigned int len;", "", "\tlen = desc->len;", "\tskb_put(skb, len);"], ["\tdma_sync_single_for_cpu(priv->dev, desc->addr, len, DMA_FROM_DEVICE);"], [], "static int acme_rx_poll(struct napi_struct *napi, int budget)");
  return { subject: `net: acme: sync rx buffers before reading (${n})`, diff: `diff --git a/${path} b/${path}\nindex 3333333..4444444 100644\n--- a/${path}\n+++ b/${path}\n${h}` };
}

function mail(headers: Record<string, string>, body: string, base64: boolean): string {
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");
  const enc = base64 ? Buffer.from(body).toString("base64").replace(/(.{76})/g, "$1\n") : body.replace(/^(>*From )/gm, ">$1");
  return `From bench@z Thu Jan  1 00:00:00 1970\n${head}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: ${base64 ? "base64" : "8bit"}\n\n${enc}\n\n`;
}

export function generateMbox(count: number, seed = 1): string {
  const r = rng(seed);
  const parts: string[] = [];
  let lastPatchId = "";
  let lastSubject = "";
  for (let n = 0; n < count; n++) {
    const id = `<bench-${seed}-${n}@example.org>`;
    const date = new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toUTCString();
    const kind = r();
    if (kind < 0.2 && lastPatchId) {
      parts.push(
        mail(
          { From: "Reviewer <rev@example.org>", Date: date, Subject: `Re: ${lastSubject}`, "Message-ID": id, "In-Reply-To": lastPatchId, References: lastPatchId },
          `On Mon, someone wrote:\n> +\tret = dma_map_sgtable(attach->dev, sgt, dir, 0);\n\nWhy is this needed?\n\nReviewed-by: Reviewer <rev@example.org>\n`,
          r() < 0.5,
        ),
      );
      continue;
    }
    const p = kind < 0.6 ? dmaBufPatch(r, n) : otherPatch(r, n);
    const subject = `[PATCH] ${p.subject}`;
    const body = `Explain the change in a few words for patch ${n}.\n\nSigned-off-by: Dev ${n % 50} <dev${n % 50}@example.org>\n---\n ${p.diff.split("\n")[2]!.slice(6)} | 2 +-\n 1 file changed\n\n${p.diff}-- \n2.43.0\n`;
    parts.push(mail({ From: `Dev ${n % 50} <dev${n % 50}@example.org>`, Date: date, Subject: subject, "Message-ID": id }, body, r() < 0.5));
    lastPatchId = id;
    lastSubject = subject;
  }
  return parts.join("");
}

/**
 * One patch to a dma-buf heap whose single hunk has `lines` lines: functions of ordinary C with a
 * cache-maintenance call in every tenth line, a rewritten line (removed and added) in every
 * twentieth. What a generated or vendored file looks like to the review: large and mostly plain.
 */
export function largeHunkPatch(lines: number): string {
  const body: string[] = [];
  for (let fn = 0; body.length < lines; fn++) {
    body.push(`+static int foo_sync_range_${fn}(struct foo_buffer *buf, struct device *dev, enum dma_data_direction dir)`, "+{", "+\tint ret = 0;");
    for (let k = 0; k < 16; k++) {
      if (k % 10 === 3) body.push(`+\tdma_sync_sgtable_for_cpu(dev, buf->sgt[${k}], dir);`);
      else if (k % 10 === 7) body.push(`-\tret += buf->table[${fn} + ${k}];`, `+\tret += buf->table[${fn} + ${k}] * 2;`);
      else body.push(` \tret += buf->table[${fn} + ${k}];`);
    }
    body.push("+\treturn ret;", "+}");
  }
  // Cut at exactly `lines`: a hunk may well end inside a function.
  body.length = lines;
  const oldCount = body.filter((l) => !l.startsWith("+")).length;
  const newCount = body.filter((l) => !l.startsWith("-")).length;
  const path = "drivers/dma-buf/heaps/foo_heap.c";
  return [
    "From: Jane Dev <jane.dev@example.org>",
    `Subject: [PATCH] dma-buf: heaps: foo: sync ranges (${lines} lines)`,
    `Message-ID: <large-hunk-${lines}@example.org>`,
    "Date: Thu, 01 Jan 2026 00:00:00 +0000",
    "",
    "Generated range helpers.",
    "",
    "Signed-off-by: Jane Dev <jane.dev@example.org>",
    "---",
    `diff --git a/${path} b/${path}`,
    "index 1111111..2222222 100644",
    `--- a/${path}`,
    `+++ b/${path}`,
    `@@ -10,${oldCount} +10,${newCount} @@ static int foo_heap_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *a)`,
    ...body,
    "",
  ].join("\n");
}

/** One patch whose single hunk is an `else if` chain `lines` long: a tree as deep as the hunk is long. */
export function elseIfChainPatch(lines: number): string {
  const body = ["+\tif (idx == 0)", "+\t\tdma_sync_sgtable_for_cpu(dev, sgt, dir);"];
  for (let i = 1; body.length < lines; i++) body.push(`+\telse if (idx == ${i})`, `+\t\tret = ${i};`);
  body.length = lines;
  const path = "drivers/dma-buf/heaps/foo_heap.c";
  return [
    "From: Jane Dev <jane.dev@example.org>",
    `Subject: [PATCH] dma-buf: heaps: foo: decode the index (${lines} lines)`,
    `Message-ID: <else-if-${lines}@example.org>`,
    "Date: Thu, 01 Jan 2026 00:00:00 +0000",
    "",
    "Generated decoder.",
    "",
    "Signed-off-by: Jane Dev <jane.dev@example.org>",
    "---",
    `diff --git a/${path} b/${path}`,
    `--- a/${path}`,
    `+++ b/${path}`,
    `@@ -40,0 +41,${lines} @@ static int foo_heap_begin_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir)`,
    ...body,
    "",
  ].join("\n");
}
