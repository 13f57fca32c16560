import type { FileTouches, Touch } from "./touch.js";

/** `.member = implementation` in a dma_buf_ops initializer. */
const ENTRY = /^\s*\.(\w+)\s*=\s*&?(\w+)/;

/**
 * The implementation the patch takes out of the file's ops initializer for the touch's ops
 * member (`.map_dma_buf = drm_gem_map_dma_buf` replaced by the driver's own function), or
 * undefined when no such entry is removed or modified.
 */
export function replacedImplementation(t: Touch, file: FileTouches): string | undefined {
  if (!t.member) return undefined;
  for (const o of file.touches) {
    if (o.kind !== "ops-member" || o.name !== t.member) continue;
    const old = o.change === "removed" ? o.code : o.change === "modified" ? o.counterpart?.code : undefined;
    const m = old !== undefined ? ENTRY.exec(old) : null;
    if (m && m[1] === t.member) return m[2];
  }
  return undefined;
}
