import { describe, expect, it } from "vitest";
import { CParser } from "../../src/patch/c-source.js";
import { checkFunction, compareFunctions, userspaceFunctions, type UserspaceFunction } from "../../src/analysis/userspace.js";

// Small userspace sources in the shape of compositor, camera and media code, each with a
// version the analysis must flag and one it must leave alone.

let parser: CParser | undefined;

async function functions(source: string, path = "src/buffer.c"): Promise<UserspaceFunction[]> {
  parser ??= await CParser.load();
  const frag = parser.forPath(path).parseFragment(source.split("\n"), "");
  try {
    return userspaceFunctions(frag);
  } finally {
    frag.tree.delete();
  }
}

async function problems(source: string, path?: string): Promise<string[]> {
  return (await functions(source, path)).flatMap((fn) => checkFunction(fn).map((p) => `${p.function}:${p.problem}`));
}

async function compared(before: string, after: string): Promise<string[]> {
  return compareFunctions(await functions(before), await functions(after)).map((p) => `${p.function}:${p.problem}`);
}

const IMPORT_HEAD = `static int
plane_import(struct plane *p, int dmabuf_fd, uint32_t *handle)
{
\tint ret;

\tret = drmPrimeFDToHandle(p->drm_fd, dmabuf_fd, handle);`;

describe("userspace: an import failure handed to the caller is not 'without fallback'", () => {
  it("abort() on a failed import is flagged", async () => {
    const src = `${IMPORT_HEAD}
\tif (ret) {
\t\tfprintf(stderr, "prime import failed\\n");
\t\tabort();
\t}
\treturn 0;
}`;
    expect(await problems(src)).toEqual(["plane_import:import-no-fallback"]);
  });

  it("a failed import that jumps to the error path is not", async () => {
    const src = `${IMPORT_HEAD}
\tif (ret) {
\t\tweston_log("prime import failed\\n");
\t\tgoto err_close;
\t}
\treturn 0;
err_close:
\tclose(dmabuf_fd);
\treturn ret;
}`;
    expect(await problems(src)).toEqual([]);
  });

  it("a failed import returned to the caller is not", async () => {
    const src = `static int
plane_import(struct plane *p, int dmabuf_fd, uint32_t *handle)
{
\treturn drmPrimeFDToHandle(p->drm_fd, dmabuf_fd, handle);
}`;
    expect(await problems(src)).toEqual([]);
  });

  it("a Vulkan import wrapped in a checking macro is not; the same import ignored is", async () => {
    const body = (call: string) => `static VkResult
import_frame(struct renderer *r, int fd, VkDeviceMemory *mem)
{
\tVkImportMemoryFdInfoKHR import = { .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR, .fd = fd };
\tVkMemoryAllocateInfo info = { .pNext = &import };
\t${call};
\treturn VK_SUCCESS;
}`;
    expect(await problems(body("VK_CHECK_RESULT(vkAllocateMemory(r->dev, &info, NULL, mem))"))).toEqual([]);
    expect(await problems(body("vkAllocateMemory(r->dev, &info, NULL, mem)"))).toEqual(["import_frame:import-unchecked"]);
  });
});

describe("userspace: an mmap of something that is no dma-buf earns no unbracketed access", () => {
  it("a Wayland keymap fd read without SYNC is not flagged", async () => {
    const src = `static void
keyboard_keymap(void *data, struct wl_keyboard *kbd, uint32_t format, int32_t fd, uint32_t size)
{
\tstruct seat *s = data;
\tchar *text;

\tif (format != WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1)
\t\treturn;
\ttext = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
\ts->first = text[0];
\tmunmap(text, size);
\tclose(fd);
}`;
    expect(await problems(src, "clients/input.c")).toEqual([]);
  });

  it("a shader file opened by the function and read is not; a dma-heap buffer read the same way is", async () => {
    const src = (path: string) => `static int
load_blob(struct ctx *c, size_t size)
{
\tint fd;
\tuint8_t *blob;

\tfd = open("${path}", O_RDONLY | O_CLOEXEC);
\tblob = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
\tc->magic = blob[0];
\treturn 0;
}`;
    expect(await problems(src("/usr/share/app/shader.spv"))).toEqual([]);
    expect(await problems(src("/dev/dma_heap/system"))).toEqual(["load_blob:unbracketed-read"]);
  });
});

describe("userspace: a map function that only keeps the pointer earns no unbracketed access", () => {
  it("storing the mapping in a list is not flagged; filling it is", async () => {
    const src = (use: string) => `int MappedFrameBuffer::map(const FrameBuffer::Plane &plane)
{
\tvoid *address = mmap(nullptr, plane.length, PROT_READ | PROT_WRITE, MAP_SHARED, plane.fd.get(), 0);
\tif (address == MAP_FAILED)
\t\treturn -errno;
\t${use};
\treturn 0;
}`;
    expect(await problems(src("maps_.emplace_back(address, plane.length)"), "src/libcamera/mapped_framebuffer.cpp")).toEqual([]);
    expect(await problems(src("memset(address, 0, plane.length)"), "src/libcamera/mapped_framebuffer.cpp")).toEqual([
      "MappedFrameBuffer::map:unbracketed-write",
    ]);
  });
});

describe("userspace: SYNC moved into a helper the file defines is not 'sync-bracketing-removed'", () => {
  const before = `static void
fill_frame(struct pw_buffer *b, int fd, uint8_t *map, const uint8_t *src, size_t size)
{
\tstruct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE };

\tioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
\tmemcpy(map, src, size);
\tsync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
\tioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
}`;

  it("the caller calling the helper around the copy is not flagged", async () => {
    const after = `static int
frame_sync_begin(int fd)
{
\tstruct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE };
\treturn ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
}

static void
fill_frame(struct pw_buffer *b, int fd, uint8_t *map, const uint8_t *src, size_t size)
{
\tframe_sync_begin(fd);
\tmemcpy(map, src, size);
\tframe_sync_end(fd);
}`;
    expect(await compared(before, after)).toEqual([]);
  });

  it("the SYNC dropped with no helper is flagged", async () => {
    const after = `static void
fill_frame(struct pw_buffer *b, int fd, uint8_t *map, const uint8_t *src, size_t size)
{
\tmemcpy(map, src, size);
}`;
    expect(await compared(before, after)).toEqual(["fill_frame:sync-removed"]);
  });
});
