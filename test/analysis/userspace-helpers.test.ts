import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { CParser } from "../../src/patch/c-source.js";
import {
  checkFunction,
  compareFunctions,
  syncHelpers,
  userspaceFunctions,
  type SyncHelpers,
  type UserspaceFunction,
} from "../../src/analysis/userspace.js";
import { captureIo } from "../helpers/io.js";

const DIR = join(import.meta.dirname, "..", "..", "fixtures", "userspace");

let parser: CParser | undefined;

async function functions(source: string, heading = "", helpers?: SyncHelpers): Promise<UserspaceFunction[]> {
  parser ??= await CParser.load();
  const frag = parser.forPath("src/frame.c").parseFragment(source.split("\n"), heading);
  try {
    return userspaceFunctions(frag, helpers);
  } finally {
    frag.tree.delete();
  }
}

/** Functions of `source` with the SYNC helpers it defines resolved, as the review reads them. */
async function resolved(source: string): Promise<UserspaceFunction[]> {
  return functions(source, "", syncHelpers(await functions(source)));
}

async function problems(source: string): Promise<string[]> {
  return (await resolved(source)).flatMap((fn) => checkFunction(fn).map((p) => `${p.function}:${p.problem}`));
}

async function compared(before: string, after: string): Promise<string[]> {
  return compareFunctions(await resolved(before), await resolved(after)).map((p) => `${p.function}:${p.problem}`);
}

interface F {
  rule: string;
  line: number;
  function?: string;
  message: string;
  model?: { newHazards: { exporter: string }[] };
}

async function review(name: string) {
  const io = captureIo();
  await main(["review", join(DIR, name), "--format", "json"], io);
  expect(io.err()).toBe("");
  const patch = JSON.parse(io.out()).series[0].patches[0];
  const findings = patch.findings as F[];
  const exporters = [...new Set(findings.flatMap((f) => f.model?.newHazards.map((c) => c.exporter) ?? []))].sort();
  return { patch, findings, exporters, rules: findings.map((f) => `${f.rule}:${f.line}:${f.function ?? "-"}`) };
}

// Helpers named for what the code means, not for "sync": only what they do tells them apart.
const HELPERS = `static int
begin_cpu_read(struct frame *f)
{
\tstruct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };

\treturn ioctl(f->fd, DMA_BUF_IOCTL_SYNC, &s);
}

static void
end_cpu_read(struct frame *f)
{
\tstruct dma_buf_sync s = { .flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ };

\tif (ioctl(f->fd, DMA_BUF_IOCTL_SYNC, &s))
\t\tperror("DMA_BUF_IOCTL_SYNC");
}

static void
frame_acquire(struct frame *f)
{
\tbegin_cpu_read(f);
}

static void
wait_vsync(struct frame *f)
{
\tpoll(&f->pfd, 1, -1);
}
`;

const reader = (open: string, close: string) => `${HELPERS}
static void
frame_copy(struct frame *f, void *out)
{
\tuint8_t *p = mmap(NULL, f->size, PROT_READ, MAP_SHARED, f->fd, 0);

\t${open}
\tmemcpy(out, p, f->size);
\t${close}
\tmunmap(p, f->size);
}`;

const inline = reader(
  "struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };\n\tioctl(f->fd, DMA_BUF_IOCTL_SYNC, &s);",
  "s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;\n\tioctl(f->fd, DMA_BUF_IOCTL_SYNC, &s);",
);

describe("userspace: a SYNC helper is known by what it does, whatever its name", () => {
  it("finds the START and END helpers of a file, one call level up as well", async () => {
    const h = syncHelpers(await functions(HELPERS));
    expect(Object.fromEntries(h.byName)).toEqual({
      begin_cpu_read: { phase: "START", flags: "READ" },
      end_cpu_read: { phase: "END", flags: "READ" },
      frame_acquire: { phase: "START", flags: "READ" },
    });
  });

  it("a read between begin_cpu_read() and end_cpu_read() is bracketed", async () => {
    expect(await problems(reader("begin_cpu_read(f);", "end_cpu_read(f);"))).toEqual([]);
  });

  it("a read after a helper two levels from the ioctl is bracketed", async () => {
    expect(await problems(reader("frame_acquire(f);", "end_cpu_read(f);"))).toEqual([]);
  });

  it("returning when begin_cpu_read() fails leaves no bracket open", async () => {
    expect(await problems(reader("if (begin_cpu_read(f) < 0)\n\t\treturn;", "end_cpu_read(f);"))).toEqual([]);
    expect(await problems(reader("if (f->size == 0)\n\t\treturn;\n\tbegin_cpu_read(f);\n\tif (f->broken)\n\t\treturn;", "end_cpu_read(f);"))).toEqual([
      "frame_copy:region-left-open",
    ]);
  });

  it("a read after a function of the file that issues no SYNC is not", async () => {
    expect(await problems(reader("wait_vsync(f);", ""))).toEqual(["frame_copy:unbracketed-read"]);
  });

  it("inline SYNC moved into begin_cpu_read()/end_cpu_read() is not a removal", async () => {
    expect(await compared(inline, reader("begin_cpu_read(f);", "end_cpu_read(f);"))).toEqual([]);
  });

  it("inline SYNC replaced by wait_vsync(), which the file shows issues none, is a removal despite its name", async () => {
    expect(await compared(inline, reader("wait_vsync(f);", ""))).toEqual(["frame_copy:sync-removed"]);
  });

  it("a helper whose flags differ from the inline SYNC it replaces is a flag change", async () => {
    const writeHelpers = inline.replace("static void\nframe_copy", `static void
begin_cpu_write(struct frame *f)
{
\tstruct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE };

\tioctl(f->fd, DMA_BUF_IOCTL_SYNC, &s);
}

static void
frame_copy`);
    const after = writeHelpers.replace(
      "struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };\n\tioctl(f->fd, DMA_BUF_IOCTL_SYNC, &s);\n\tmemcpy",
      "begin_cpu_write(f);\n\tmemcpy",
    );
    expect(await compared(writeHelpers, after)).toEqual(["frame_copy:sync-flags-changed"]);
  });

  it("a map hook that only opens the bracket, removed whole, takes the bracket from its callers", async () => {
    const hook = `static void *
frame_map(struct frame *f)
{
\tstruct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
\tvoid *p = f->ops->map(f);

\tif (p && ioctl(f->fd, DMA_BUF_IOCTL_SYNC, &s) < 0)
\t\tperror("DMA_BUF_IOCTL_SYNC");
\treturn p;
}
`;
    const init = "static void\nframe_init(struct frame *f)\n{\n\tf->map = frame_map;\n}\n";
    expect(await compared(hook + init, "static void\nframe_init(struct frame *f)\n{\n}\n")).toEqual(["frame_map:sync-removed"]);
    // Nothing in the old code used it (a helper added for later, taken back): nobody loses a bracket.
    const unused = "static void\nframe_init(struct frame *f)\n{\n}\n";
    expect(await compared(hook + unused, unused)).toEqual([]);
  });

  it("a function that brackets its own access, removed whole, takes nothing from anyone", async () => {
    expect(await compared(inline, HELPERS)).toEqual([]);
  });

  it("a flag chosen by a condition between START and END is no helper's phase", async () => {
    const h = syncHelpers(
      await functions(`static void
set_access(struct frame *f, bool begin)
{
\tstruct dma_buf_sync s = { .flags = begin ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END };

\tioctl(f->fd, DMA_BUF_IOCTL_SYNC, &s);
}`),
    );
    expect([...h.byName.keys()]).toEqual([]);
  });
});

describe("userspace: map and unmap hooks removed in one block", () => {
  it("each hook's bracket is its own finding, though both anchor to the same line", async () => {
    const { rules } = await review("map-hooks-removed.patch");
    expect(rules.filter((r) => r.startsWith("userspace/"))).toEqual([
      "userspace/sync-bracketing-removed:7:frame_mem_map",
      "userspace/sync-bracketing-removed:7:frame_mem_unmap",
    ]);
  });
});

describe("userspace: a finding belongs to the function that holds the line, not the hunk's heading", () => {
  it("a function after the heading's is its own", async () => {
    const fns = await functions(
      ` * Frame analysis.
 */

static uint64_t
frame_luma_sum(int fd, size_t size)
{
\tconst uint8_t *y = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
\tuint64_t sum = 0;

\tfor (size_t i = 0; i < size; i++)
\t\tsum += y[i];
\treturn sum;
}`.replace(/^/, "/*\n"),
      "frame_count(const struct capture *cap)",
    );
    expect(fns.flatMap((fn) => checkFunction(fn).map((p) => `${p.function}:${p.problem}`))).toEqual(["frame_luma_sum:unbracketed-read"]);
  });

  it("in a real diff whose @@ line names frame_count()", async () => {
    const { rules, findings } = await review("heading-names-earlier-function.patch");
    expect(rules).toEqual(["model/userspace-hazard:27:-", "userspace/unbracketed-cpu-read:27:frame_luma_sum"]);
    // The message names the function and the mapping it reads through.
    expect(findings[1]!.message).toMatch(/^frame_luma_sum\(\)? ?reads through y, a mapping of a dma-buf/);
  });
});

describe("userspace: the exporters the code names are the model's", () => {
  it("VIDIOC_EXPBUF: V4L2 videobuf2 exporters", async () => {
    const { rules, exporters, patch } = await review("expbuf-read-unbracketed.patch");
    expect(rules).toEqual(["model/userspace-hazard:32:-", "userspace/unbracketed-cpu-read:32:dump_frame"]);
    expect(exporters.length).toBeGreaterThan(0);
    expect(exporters.every((e) => e.startsWith("vb2-"))).toBe(true);
    expect(patch.touches.some((t: { name: string; value?: string }) => t.name === "fd v4l2-expbuf")).toBe(true);
  });

  it("UDMABUF_CREATE: udmabuf", async () => {
    const { rules, exporters } = await review("udmabuf-fill-unbracketed.patch");
    expect(rules).toEqual(["model/userspace-hazard:31:-", "userspace/unbracketed-cpu-write:31:fill_pattern"]);
    expect(exporters).toEqual(["udmabuf"]);
  });

  it("bracketing removed beside a UDMABUF_CREATE the change leaves alone: still udmabuf only", async () => {
    const { rules, exporters } = await review("udmabuf-sync-removed.patch");
    expect(rules).toEqual(["model/userspace-hazard:22:-", "userspace/sync-bracketing-removed:22:fill_pattern"]);
    expect(exporters).toEqual(["udmabuf"]);
  });

  it("drmPrimeHandleToFD: the PRIME exporters, where the catalog's begin_cpu_access does nothing for SYNC to change", async () => {
    const { rules, patch } = await review("prime-export-read-unbracketed.patch");
    expect(rules).toEqual(["userspace/unbracketed-cpu-read:26:read_back"]);
    expect(patch.touches.some((t: { name: string }) => t.name === "fd drm-prime")).toBe(true);
  });
});
