import { describe, expect, it } from "vitest";
import { CParser } from "../../src/patch/c-source.js";
import { checkFunction, userspaceFunctions, type UserspaceFunction } from "../../src/analysis/userspace.js";

let parser: CParser | undefined;

async function functions(source: string): Promise<UserspaceFunction[]> {
  parser ??= await CParser.load();
  const frag = parser.forPath("src/export.c").parseFragment(source.split("\n"), "");
  try {
    return userspaceFunctions(frag);
  } finally {
    frag.tree.delete();
  }
}

const sources = async (src: string) =>
  (await functions(src)).flatMap((fn) => fn.events.flatMap((e) => (e.kind === "fd-source" ? [`${fn.name}:${e.source}`] : [])));

describe("userspace: where a dma-buf fd comes from", () => {
  it("VIDIOC_EXPBUF through an object's ioctl pointer (GStreamer's obj->ioctl)", async () => {
    expect(
      await sources(`static gboolean
export_plane(GstV4l2Object *obj, struct v4l2_exportbuffer *expbuf)
{
  if (obj->ioctl (obj->video_fd, VIDIOC_EXPBUF, expbuf) < 0)
    return FALSE;
  return TRUE;
}`),
    ).toEqual(["export_plane:v4l2-expbuf"]);
  });

  it("gbm_bo_get_fd and eglExportDMABUFImageMESA are PRIME exports", async () => {
    expect(
      await sources(`static int
export_gbm(struct gbm_bo *bo)
{
\treturn gbm_bo_get_fd(bo);
}

static int
export_egl(EGLDisplay dpy, EGLImage img, int *fds, EGLint *strides, EGLint *offsets)
{
\treturn eglExportDMABUFImageMESA(dpy, img, fds, strides, offsets) ? fds[0] : -1;
}`),
    ).toEqual(["export_gbm:drm-prime", "export_egl:drm-prime"]);
  });

  it("/dev/dma_heap names choose the heap", async () => {
    expect(
      await sources(`static void
open_heaps(int *fds)
{
\tfds[0] = open("/dev/dma_heap/system", O_RDWR);
\tfds[1] = open("/dev/dma_heap/linux,cma", O_RDWR);
\tfds[2] = open("/dev/dma_heap/protected", O_RDWR);
}`),
    ).toEqual(["open_heaps:dma-heap-system", "open_heaps:dma-heap-cma", "open_heaps:dma-heap"]);
  });
});

describe("userspace: a body with a macro loop is still a whole function", () => {
  it("an unbracketed read after a spa_list_for_each-style loop is flagged", async () => {
    const fns = await functions(`static void
render(struct data *d, int fd, size_t size)
{
\tstruct item *it;
\tuint8_t *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);

\tspa_list_for_each(it, &d->items, link) {
\t\tit->seen = true;
\t}
\tmemcpy(d->out, map, size);
\tmunmap(map, size);
}`);
    expect(fns.flatMap((fn) => checkFunction(fn).map((p) => `${p.function}:${p.problem}`))).toEqual(["render:unbracketed-read"]);
  });
});
