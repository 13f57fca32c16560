import fc from "fast-check";
import { FRAMEWORK_STRUCTS, OPS_MEMBERS } from "../../../src/analysis/vocabulary.js";

/**
 * C-ish lines around the dma-buf surface: statements the rules look for (calls, gates, flag
 * sets, ops initializers, struct fields), the syntax hunks cut through (unbalanced braces,
 * comments opened in one hunk and closed in another, preprocessor lines, continuations), and
 * token soup. Built from the kernel's own names so the classifier's paths are reached.
 */

const CALLS = [
  "dma_buf_attach", "dma_buf_dynamic_attach", "dma_buf_detach", "dma_buf_map_attachment", "dma_buf_unmap_attachment",
  "dma_buf_begin_cpu_access", "dma_buf_end_cpu_access", "dma_buf_vmap", "dma_buf_vunmap", "dma_buf_mmap", "dma_buf_export",
  "dma_sync_sgtable_for_cpu", "dma_sync_sgtable_for_device", "dma_sync_sg_for_cpu", "dma_sync_single_for_device",
  "dma_map_sgtable", "dma_unmap_sgtable", "dma_map_sg_attrs", "dma_map_page_attrs", "dev_is_dma_coherent",
  "of_dma_is_coherent", "pgprot_writecombine", "pgprot_noncached", "dma_alloc_wc", "dma_mmap_wc", "dma_alloc_coherent",
  "drm_gem_prime_export", "drm_gem_prime_import", "drm_clflush_sg", "dma_resv_lock", "dma_resv_unlock", "kfree",
  "kzalloc", "mutex_lock", "mutex_unlock", "sg_alloc_table", "list_for_each_entry", "WARN_ON", "ERR_PTR", "memcpy",
] as const;
const IDENTS = [
  "dmabuf", "buf", "attach", "a", "att", "sgt", "sg", "dir", "dev", "obj", "priv", "heap", "buffer", "ret", "i", "vaddr",
  "map", "table", "exp_info", "ops", "vma", "dmabuf->priv", "attach->dev", "a->dev", "buffer->lock", "obj->dev",
] as const;
const CONSTANTS = [
  "DMA_ATTR_SKIP_CPU_SYNC", "DMA_ATTR_WRITE_COMBINE", "DMA_BIDIRECTIONAL", "DMA_TO_DEVICE", "DMA_FROM_DEVICE",
  "DMA_BUF_SYNC_START", "DMA_BUF_SYNC_END", "DMA_BUF_SYNC_READ", "DMA_BUF_SYNC_WRITE", "DMA_BUF_IOCTL_SYNC",
  "PAGE_KERNEL", "NULL", "0", "1", "-EINVAL", "-ENOMEM", "-EBUSY", "true", "false", "0x1f", "'\\''", "\"dma\\\"buf\"",
] as const;
const FIELDS = ["dma_coherent", "coherent", "is_coherent", "priv", "size", "vmapping_counter", "ops", "dev", "peer2peer", "sgt"] as const;
const KEYWORDS = ["if", "else", "return", "goto", "for", "while", "do", "switch", "case", "break", "static", "const", "struct", "int", "bool", "void", "unsigned", "enum", "sizeof", "inline"] as const;
const PUNCT = ["{", "}", "(", ")", ";", ",", "=", "==", "!=", "->", ".", "*", "&", "!", "&&", "||", "?", ":", "[", "]", "+", "-", "<<", "#", "\\", "/*", "*/", "//", "\"", "'"] as const;
const FUNCTION_NAMES = [
  "system_heap_dma_buf_begin_cpu_access", "foo_end_cpu_access", "vb2_dc_dmabuf_ops_map", "udmabuf_attach", "map_udmabuf",
  "begin_cpu_udmabuf", "drm_gem_map_attach", "foo_dma_buf_mmap", "foo_heap_vmap", "dma_buf_dynamic_attach", "foo_probe",
] as const;

const ident = fc.constantFrom(...IDENTS);
const call = fc.constantFrom(...CALLS);
const constant = fc.constantFrom(...CONSTANTS);
const field = fc.constantFrom(...FIELDS);
const member = fc.constantFrom(...OPS_MEMBERS);
const struct = fc.constantFrom(...FRAMEWORK_STRUCTS, "sg_table", "device", "foo_buffer");
const fnName = fc.constantFrom(...FUNCTION_NAMES);
const indent = fc.constantFrom("", "\t", "\t\t", "    ", "\t\t\t");
const arg = fc.oneof(ident, constant);
const args = fc.array(arg, { maxLength: 4 }).map((a) => a.join(", "));
const cond = fc.oneof(
  fc.tuple(call, args).map(([c, a]) => `!${c}(${a})`),
  fc.tuple(ident, field).map(([i, f]) => `${i}->${f}`),
  fc.tuple(ident, constant).map(([i, c]) => `${i} == ${c}`),
  fc.constant("dev_is_dma_coherent(attach->dev) && !dmabuf->coherent"),
);

/** One line of kernel-looking C, or something a hunk cut from one. */
export const cLine: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(indent, call, args).map(([i, c, a]) => `${i}${c}(${a});`) },
  { weight: 2, arbitrary: fc.tuple(indent, ident, call, args).map(([i, v, c, a]) => `${i}${v} = ${c}(${a});`) },
  { weight: 2, arbitrary: fc.tuple(indent, cond).map(([i, c]) => `${i}if (${c})`) },
  { weight: 2, arbitrary: fc.tuple(indent, cond, constant).map(([i, c, k]) => `${i}if (${c}) return ${k};`) },
  { weight: 1, arbitrary: fc.tuple(indent, cond).map(([i, c]) => `${i}if (${c}) goto err;`) },
  { weight: 2, arbitrary: fc.tuple(indent, constant).map(([i, k]) => `${i}return ${k};`) },
  { weight: 2, arbitrary: fc.tuple(member, fnName).map(([m, f]) => `\t.${m} = ${f},`) },
  { weight: 1, arbitrary: fnName.map((f) => `static const struct dma_buf_ops ${f}_ops = {`) },
  { weight: 1, arbitrary: fc.tuple(fnName, struct).map(([f, s]) => `static int ${f}(struct ${s} *dmabuf, enum dma_data_direction dir)`) },
  { weight: 2, arbitrary: fc.tuple(indent, ident, field, constant).map(([i, o, f, v]) => `${i}${o}->${f} = ${v};`) },
  { weight: 1, arbitrary: fc.tuple(indent, field, constant).map(([i, f, v]) => `${i}.${f} = ${v},`) },
  { weight: 1, arbitrary: struct.map((s) => `struct ${s} {`) },
  { weight: 1, arbitrary: field.map((f) => `\tbool ${f};`) },
  { weight: 2, arbitrary: fc.constantFrom("{", "}", "};", "\t}", "\t} else {", "", "\t", "err:", "out_unlock:", "\t\tgoto err_attach;") },
  { weight: 2, arbitrary: fc.constantFrom("/*", " * Sync for the device.", " */", "/* dma_buf_begin_cpu_access(); */", "// coherent", " * @dma_coherent: flag") },
  { weight: 1, arbitrary: fc.constantFrom("#ifdef CONFIG_DMA_API_DEBUG", "#endif", "#define FOO(x) \\", "\tdo { } while (0)", "#include <linux/dma-buf.h>") },
  { weight: 1, arbitrary: fc.constantFrom("\tfor_each_sgtable_sg(sgt, sg, i) {", "\tlist_for_each_entry(a, &buffer->attachments, list) {", "\tswitch (dir) {", "\tcase DMA_TO_DEVICE:") },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.oneof(ident, call, constant, field, fc.constantFrom(...KEYWORDS), fc.constantFrom(...PUNCT)), { maxLength: 12 })
      .map((t) => t.join(" ")),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40, unit: "binary" }).map((s) => s.replace(/[\r\n]/g, " ")) },
);

/** A git `@@` section heading: where git thinks the hunk is. */
export const cHeading: fc.Arbitrary<string> = fc.oneof(
  fc.constant(""),
  fnName.map((f) => `static int ${f}(struct dma_buf *dmabuf,`),
  fnName.map((f) => `int ${f}(struct dma_buf *dmabuf, struct device *dev)`),
  fnName.map((f) => `static const struct dma_buf_ops ${f}_ops = {`),
  fc.constantFrom("struct dma_buf {", "struct dma_buf_attachment *dma_buf_dynamic_attach(struct dma_buf *dmabuf, struct device *dev,", "#include <linux/dma-buf.h>", "enum dma_data_direction {", "if (x) {"),
  cLine,
);

/** Paths by area: the dma-buf core, exporters, uapi, documentation, userspace, and elsewhere. */
export const cPath: fc.Arbitrary<string> = fc.constantFrom(
  "drivers/dma-buf/dma-buf.c",
  "drivers/dma-buf/heaps/system_heap.c",
  "drivers/dma-buf/udmabuf.c",
  "include/linux/dma-buf.h",
  "include/uapi/linux/dma-buf.h",
  "drivers/gpu/drm/drm_prime.c",
  "drivers/gpu/drm/drm_gem_shmem_helper.c",
  "drivers/media/common/videobuf2/videobuf2-dma-sg.c",
  "kernel/dma/direct.c",
  "drivers/gpu/drm/foo/foo_gem.c",
  "drivers/net/ethernet/foo/foo_main.c",
  "Documentation/driver-api/dma-buf.rst",
  "src/gstreamer/gstdmabuf.c",
  "src/libcamera/dma_buf_allocator.cpp",
  "tools/testing/selftests/dmabuf-heaps/dmabuf-heap.c",
  "drivers/dma-buf/Makefile",
);

export type Op = "+" | "-" | " ";

/** A hunk as lines with their operation; counts and numbers are derived when it is written out. */
export interface HunkSpec {
  readonly heading: string;
  readonly lines: readonly { readonly op: Op; readonly text: string }[];
}

export const op: fc.Arbitrary<Op> = fc.constantFrom<Op>("+", "-", " ");

export function hunkSpec(maxLines: number): fc.Arbitrary<HunkSpec> {
  return fc.record({
    heading: cHeading,
    lines: fc.array(fc.record({ op, text: cLine }), { minLength: 1, maxLength: maxLines }),
  });
}

/** A hunk of `lines` lines made by repeating a short pattern: large inputs that still shrink well. */
export interface LargeHunk {
  readonly lines: number;
  readonly heading: string;
  readonly pattern: readonly { readonly op: Op; readonly text: string }[];
}

export function largeHunk(min: number, max: number): fc.Arbitrary<LargeHunk> {
  return fc.record({
    lines: fc.integer({ min, max }),
    heading: cHeading,
    pattern: fc.array(fc.record({ op, text: cLine }), { minLength: 1, maxLength: 40 }),
  });
}

export function expandHunk(h: LargeHunk): HunkSpec {
  return { heading: h.heading, lines: Array.from({ length: h.lines }, (_, i) => h.pattern[i % h.pattern.length]!) };
}
