import type { FileTouches, Touch } from "./touch.js";

const MAP_SG = /^dma_map_sg(_attrs)?$/;
/** An assignment to a table's nents: the count dma_map_sg returned is kept there. */
const NENTS_STORED = /\bnents\s*=(?!=)/;

const layoutFree = (s: string | undefined): string => (s ?? "").replace(/\s+/g, "");

/**
 * The count a sync or unmap passes (its third argument) is the one a dma_map_sg call in the
 * file's new version was given, and nothing there stores the returned count into a table's
 * nents: the table then still holds the entry count, which is what the DMA API wants back.
 * Before the dma_*_sgtable helpers (v5.8) exporters mapped `sgt->nents` and dropped the result.
 */
export function countAsMapped(t: Touch, file: FileTouches): boolean {
  const count = layoutFree(t.args[2]);
  if (!count) return false;
  const rows = file.file.hunks.flatMap((h) => h.lines.filter((l) => l.type !== "-"));
  if (rows.some((l) => NENTS_STORED.test(l.text.replace(/\/\*.*?\*\/|\/\/.*$/g, "")))) return false;
  return [...file.touches, ...(file.context ?? [])].some(
    (m) => m.change !== "removed" && MAP_SG.test(m.name) && layoutFree(m.args[2]) === count,
  );
}
