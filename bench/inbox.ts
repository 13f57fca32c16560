/**
 * A generated public-inbox archive that looks like dri-devel: mostly DRM driver series, reviews
 * quoting diffs, discussions and pull requests, about 2% of series touching dma-buf, some spam,
 * a fifth of bodies quoted-printable and a tenth base64, list headers and Received lines, and a
 * few broken messages (junk bytes, a multipart without its boundary, one of 20 MB, a removal).
 * Deterministic (seeded), so runs compare.
 */
import type { ArchivedMessage } from "../src/ingest/public-inbox/writer.js";

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const DRIVERS = ["amdgpu", "i915", "msm", "nouveau", "panfrost", "etnaviv", "vc4", "rockchip", "mediatek", "xe", "v3d", "lima", "tegra", "imx", "sun4i", "meson"];
const WORDS = ["fix", "handle", "drop", "rework", "split", "clean up", "convert", "add", "use", "simplify", "document", "move", "stop", "allow", "check"];
const THINGS = ["the vblank counter", "plane state", "the DSI bridge", "runtime PM", "the fence timeout", "CRTC gamma", "the scheduler", "HPD handling", "the GMU", "connector probing", "the ring buffer", "clock gating", "error paths", "the debugfs entries", "mode validation"];
const CODE = [
  "\tret = pm_runtime_resume_and_get(dev);",
  "\tif (ret < 0)",
  "\t\treturn ret;",
  "\tspin_lock_irqsave(&priv->lock, flags);",
  "\tspin_unlock_irqrestore(&priv->lock, flags);",
  "\tval = readl(priv->base + REG_CTRL);",
  "\twritel(val | CTRL_ENABLE, priv->base + REG_CTRL);",
  "\tdrm_dbg_kms(dev, \"enabling crtc %d\\n\", crtc->index);",
  "\tfor (i = 0; i < priv->num_planes; i++) {",
  "\t\tstruct drm_plane *plane = priv->planes[i];",
  "\t}",
  "\tmutex_lock(&priv->mutex);",
  "\tmutex_unlock(&priv->mutex);",
  "\tkfree(state);",
  "\treturn 0;",
  "\tstate = kzalloc(sizeof(*state), GFP_KERNEL);",
  "\tif (!state)",
  "\t\treturn -ENOMEM;",
  "\tdrm_atomic_helper_commit_hw_done(old_state);",
  "\tclk_disable_unprepare(priv->clk);",
];

export interface GeneratedInbox {
  readonly messages: ArchivedMessage[];
  readonly dmaBufSeries: number;
  readonly series: number;
}

interface Person {
  readonly name: string;
  readonly email: string;
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

function qp(text: string): string {
  return text
    .split("\n")
    .map((line) => {
      let out = "";
      let len = 0;
      for (const ch of Buffer.from(line, "utf8")) {
        const c = ch === 61 || ch > 126 || (ch < 32 && ch !== 9) ? `=${ch.toString(16).toUpperCase().padStart(2, "0")}` : String.fromCharCode(ch);
        if (len + c.length > 75) {
          out += "=\n";
          len = 0;
        }
        out += c;
        len += c.length;
      }
      return out;
    })
    .join("\n");
}

function hunk(r: () => number, heading: string, removed: string[], added: string[]): string {
  const before = [pick(r, CODE), pick(r, CODE), pick(r, CODE)];
  const after = [pick(r, CODE), pick(r, CODE), pick(r, CODE)];
  const start = 20 + Math.floor(r() * 1500);
  const lines = [...before.map((l) => ` ${l}`), ...removed.map((l) => `-${l}`), ...added.map((l) => `+${l}`), ...after.map((l) => ` ${l}`)];
  return `@@ -${start},${6 + removed.length} +${start},${6 + added.length} @@ ${heading}\n${lines.join("\n")}\n`;
}

function fileDiff(path: string, hunks: string[]): string {
  return `diff --git a/${path} b/${path}\nindex 1a2b3c4..5d6e7f8 100644\n--- a/${path}\n+++ b/${path}\n${hunks.join("")}`;
}

/** A DRM driver change with no dma-buf code: what most of dri-devel is. */
function driverDiff(r: () => number, drv: string): string {
  const files: string[] = [];
  const n = 1 + Math.floor(r() * 3);
  for (let f = 0; f < n; f++) {
    const kind = r();
    if (kind < 0.08) {
      files.push(fileDiff(`Documentation/gpu/${drv}.rst`, [`@@ -10,3 +10,4 @@ Overview\n ${drv} is a DRM driver.\n+It also handles ${pick(r, THINGS)}.\n \n More text.\n`]));
    } else if (kind < 0.14) {
      files.push(fileDiff(`arch/arm64/boot/dts/vendor/${drv}-board.dts`, [`@@ -40,3 +40,4 @@ &gpu {\n \tstatus = "okay";\n+\tclocks = <&clk 12>;\n \tpower-domains = <&pd 3>;\n };\n`]));
    } else {
      const hunks: string[] = [];
      for (let h = 0; h < 1 + Math.floor(r() * 3); h++) {
        const removed = Array.from({ length: Math.floor(r() * 3) }, () => pick(r, CODE));
        const added = Array.from({ length: 1 + Math.floor(r() * 5) }, () => pick(r, CODE));
        hunks.push(hunk(r, `static int ${drv}_${pick(r, ["crtc_enable", "plane_update", "probe", "bind", "irq_handler", "commit_tail"])}(struct ${drv}_device *priv)`, removed, added));
      }
      files.push(fileDiff(`drivers/gpu/drm/${drv}/${drv}_${pick(r, ["drv", "kms", "crtc", "plane", "gem", "irq"])}.c`, hunks));
    }
  }
  return files.join("");
}

/** A hunk from its lines (" ", "-", "+" prefixed), the counts in its header computed. */
function counted(start: number, heading: string, lines: string[]): string {
  const old = lines.filter((l) => !l.startsWith("+")).length;
  const now = lines.filter((l) => !l.startsWith("-")).length;
  return `@@ -${start},${old} +${start},${now} @@ ${heading}\n${lines.join("\n")}\n`;
}

/** A change on the dma-buf surface, in the shapes the rules know. */
function dmaBufDiff(r: () => number, drv: string, n: number): string {
  const path = `drivers/gpu/drm/${drv}/${drv}_dmabuf.c`;
  const at = 40 + Math.floor(r() * 400);
  switch (n % 4) {
    case 0:
      return fileDiff(path, [
        counted(at, `static const struct dma_buf_ops ${drv}_dmabuf_ops = {`, [` \t.map_dma_buf = ${drv}_map_dma_buf,`, ` \t.unmap_dma_buf = ${drv}_unmap_dma_buf,`, `-\t.begin_cpu_access = ${drv}_begin_cpu_access,`, ` \t.end_cpu_access = ${drv}_end_cpu_access,`, ` \t.release = ${drv}_release,`, " };"]),
      ]);
    case 1:
      return fileDiff(path, [
        counted(at, `static struct sg_table *${drv}_map_dma_buf(struct dma_buf_attachment *attach,`, [" \tstruct sg_table *sgt = a->table;", " \tint ret;", " ", "-\tret = dma_map_sgtable(attach->dev, sgt, dir, 0);", "+\tret = dma_map_sgtable(attach->dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);", " \tif (ret)", " \t\treturn ERR_PTR(ret);"]),
      ]);
    case 2:
      return fileDiff(path, [
        counted(at, `static int ${drv}_begin_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir)`, [` \tstruct ${drv}_buffer *buf = dmabuf->priv;`, " ", " \tmutex_lock(&buf->lock);", "+\tlist_for_each_entry(a, &buf->attachments, list)", "+\t\tdma_sync_sgtable_for_cpu(a->dev, a->table, dir);", " \tmutex_unlock(&buf->lock);", " \treturn 0;"]),
      ]);
    default:
      return fileDiff(path, [
        counted(at, `static int ${drv}_gem_prime_vmap(struct drm_gem_object *obj, struct iosys_map *map)`, [` \tstruct ${drv}_bo *bo = to_${drv}_bo(obj);`, " \tint ret;", " ", "+\tret = dma_buf_vmap_unlocked(obj->import_attach->dmabuf, map);", " \tif (ret)", " \t\treturn ret;"]),
      ]);
  }
}

function headers(r: () => number, h: Record<string, string | undefined>, n: number): string {
  const received = Array.from(
    { length: 2 + Math.floor(r() * 3) },
    (_, i) => `Received: from mx${i}.example.net (mx${i}.example.net [192.0.2.${(n + i) % 250}])\n\tby gabe.freedesktop.org (Postfix) with ESMTPS id ${(n * 7919 + i).toString(16).toUpperCase()}\n\tfor <dri-devel@lists.freedesktop.org>; ${h["Date"]}`,
  );
  const lines = [
    `Return-Path: <dri-devel-bounces@lists.freedesktop.org>`,
    ...received,
    ...Object.entries(h).flatMap(([k, v]) => (v === undefined ? [] : [`${k}: ${v}`])),
    `List-Id: Direct Rendering Infrastructure - Development <dri-devel.lists.freedesktop.org>`,
    `List-Unsubscribe: <https://lists.freedesktop.org/mailman/options/dri-devel>,\n <mailto:dri-devel-request@lists.freedesktop.org?subject=unsubscribe>`,
    `Errors-To: dri-devel-bounces@lists.freedesktop.org`,
    `Sender: "dri-devel" <dri-devel-bounces@lists.freedesktop.org>`,
  ];
  return lines.join("\n");
}

function encode(r: () => number, body: string): { cte: string; body: string } {
  const x = r();
  if (x < 0.1) return { cte: "base64", body: Buffer.from(body, "utf8").toString("base64").replace(/(.{76})/g, "$1\n") };
  if (x < 0.3) return { cte: "quoted-printable", body: qp(body) };
  return { cte: "8bit", body };
}

const FOOTER = "\n_______________________________________________\ndri-devel mailing list\ndri-devel@lists.freedesktop.org\nhttps://lists.freedesktop.org/mailman/listinfo/dri-devel\n";

/** `count` messages of list traffic, in arrival order, 20 s apart. */
export function generateInbox(count: number, seed = 7): GeneratedInbox {
  const r = rng(seed);
  const people: Person[] = Array.from({ length: 300 }, (_, i) => ({ name: `Dev${i} Hacker${i % 17}`, email: `dev${i}@${pick(r, ["amd.com", "intel.com", "linaro.org", "collabora.com", "redhat.com", "kernel.org"])}` }));
  const messages: ArchivedMessage[] = [];
  const start = Date.UTC(2025, 0, 1);
  const recent: { id: string; subject: string; refs: string[]; quote: string[]; author: Person }[] = [];
  let series = 0;
  let dmaBufSeries = 0;
  let n = 0;
  const push = (h: Record<string, string | undefined>, text: string, extra?: (bytes: string) => string) => {
    const time = new Date(start + n * 20_000);
    const { cte, body } = encode(r, text + (r() < 0.8 ? FOOTER : ""));
    let raw = `${headers(r, { ...h, Date: time.toUTCString().replace("GMT", "+0000") }, n)}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: ${cte}\n\n${body}\n`;
    if (extra) raw = extra(raw);
    messages.push({ bytes: Buffer.from(raw, "utf8"), time });
    n++;
  };
  while (n < count) {
    const x = r();
    const id = (k: number) => `20250101${n.toString().padStart(7, "0")}.${k}-${seed}@example.org`;
    if (x < 0.45) {
      // A series: cover letter (for more than one patch), then the patches answering it.
      series++;
      const dmaBuf = r() < 0.02;
      if (dmaBuf) dmaBufSeries++;
      const author = pick(r, people);
      const drv = pick(r, DRIVERS);
      const total = r() < 0.4 ? 1 : 2 + Math.floor(r() * 7);
      const rev = r() < 0.7 ? 1 : 2 + Math.floor(r() * 3);
      const v = rev > 1 ? ` v${rev}` : "";
      const cc = Array.from({ length: 2 + Math.floor(r() * 4) }, () => pick(r, people)).map((p) => `${p.name} <${p.email}>`).join(",\n    ");
      const coverId = total > 1 ? id(0) : undefined;
      const title = `${pick(r, WORDS)} ${pick(r, THINGS)}`;
      if (coverId) {
        push(
          { From: `${author.name} <${author.email}>`, To: "dri-devel@lists.freedesktop.org", Cc: cc, Subject: `[PATCH${v} 0/${total}] drm/${drv}: ${title}`, "Message-ID": `<${coverId}>` },
          `Hi,\n\nThis series ${title} in ${drv}.\n\n${"It has been tested on several boards and survives a full IGT run. ".repeat(3)}\n\n${author.name} (${total}):\n${Array.from({ length: total }, (_, i) => `  drm/${drv}: part ${i + 1}`).join("\n")}\n\n -- \n2.47.0\n`,
        );
      }
      for (let i = 1; i <= total && n < count; i++) {
        const pid = id(i);
        const diff = dmaBuf && (i === 1 || r() < 0.5) ? dmaBufDiff(r, drv, n) : driverDiff(r, drv);
        const subject = `[PATCH${v}${total > 1 ? ` ${i}/${total}` : ""}] drm/${drv}: ${pick(r, WORDS)} ${pick(r, THINGS)}`;
        const body = `${"Explain why the change is needed and what it does, in a few sentences. ".repeat(2 + Math.floor(r() * 4))}\n\nSigned-off-by: ${author.name} <${author.email}>\n---\n drivers/gpu/drm/${drv}/${drv}.c | 4 ++--\n 1 file changed\n\n${diff}-- \n2.47.0\n`;
        push(
          {
            From: `${author.name} <${author.email}>`,
            To: "dri-devel@lists.freedesktop.org",
            Cc: cc,
            Subject: subject,
            "Message-ID": `<${pid}>`,
            "In-Reply-To": coverId ? `<${coverId}>` : undefined,
            References: coverId ? `<${coverId}>` : undefined,
          },
          body,
        );
        recent.push({ id: pid, subject, refs: coverId ? [coverId] : [], quote: diff.split("\n").filter((l) => l.startsWith("+")).slice(1, 4), author });
        if (recent.length > 200) recent.shift();
      }
    } else if (x < 0.85 && recent.length > 0) {
      // A review: quotes a few lines of the patch, comments, maybe a trailer.
      const to = recent[Math.floor(recent.length * (1 - r() * r()))] ?? recent[recent.length - 1]!;
      const me = pick(r, people);
      push(
        {
          From: `${me.name} <${me.email}>`,
          To: `${to.author.name} <${to.author.email}>`,
          Cc: "dri-devel@lists.freedesktop.org",
          Subject: `Re: ${to.subject}`,
          "Message-ID": `<${id(9)}>`,
          "In-Reply-To": `<${to.id}>`,
          References: [...to.refs, to.id].map((x) => `<${x}>`).join(" "),
        },
        `On Mon, ${to.author.name} wrote:\n${to.quote.map((l) => `> ${l}`).join("\n")}\n\n${"Why is this needed here? The caller already holds the lock, so this looks redundant to me. ".repeat(1 + Math.floor(r() * 3))}\n\n${r() < 0.4 ? `Reviewed-by: ${me.name} <${me.email}>\n` : ""}\nThanks,\n${me.name}\n`,
      );
    } else if (x < 0.97) {
      const me = pick(r, people);
      const pull = r() < 0.3;
      push(
        { From: `${me.name} <${me.email}>`, To: "dri-devel@lists.freedesktop.org", Subject: pull ? `[PULL] drm-misc-next` : `Question about ${pick(r, THINGS)} on ${pick(r, DRIVERS)}`, "Message-ID": `<${id(7)}>` },
        `Hi all,\n\n${"I am looking at how this works and would like to understand the locking rules before sending patches. ".repeat(2 + Math.floor(r() * 5))}\n\nThanks,\n${me.name}\n`,
      );
    } else if (x < 0.998) {
      push({ From: `Prize Office <win${n}@spam.example>`, To: "dri-devel@lists.freedesktop.org", Subject: "You have won", "Message-ID": `<${id(5)}>` }, "Claim your prize now.\n".repeat(20));
    } else {
      // Broken input, as real archives hold it now and then.
      const which = Math.floor(r() * 3);
      if (which === 0) {
        messages.push({ bytes: Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, ...Buffer.from(`junk ${n}`)]), time: new Date(start + n * 20_000) });
        n++;
      } else if (which === 1) {
        push({ From: `Broken <broken${n}@example.org>`, To: "dri-devel@lists.freedesktop.org", Subject: `[PATCH] drm: broken mime ${n}`, "Message-ID": `<${id(3)}>` }, "body", (raw) =>
          raw.replace("Content-Type: text/plain; charset=UTF-8", 'Content-Type: multipart/mixed; boundary="never-there"'),
        );
      } else if (recent.length > 0) {
        messages.push({ bytes: Buffer.from(`Message-ID: <${recent[recent.length - 1]!.id}>\n\nremoved\n`), time: new Date(start + n * 20_000), remove: true });
        n++;
      }
    }
  }
  // One 20 MB message (a log dump): read past, recorded as too large.
  const big = Math.floor(count / 2);
  if (messages[big]) {
    messages[big] = { bytes: Buffer.concat([Buffer.from(`From: Log <log@example.org>\nSubject: full dmesg\nMessage-ID: <big-${seed}@example.org>\n\n`), Buffer.alloc(20 * 1024 * 1024, "x")]), time: messages[big]!.time! };
  }
  return { messages: messages.slice(0, count), dmaBufSeries, series };
}
