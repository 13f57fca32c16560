import { blankNonCode } from "../model/code/lex.js";
import { scanFragment } from "../patch/c-source.js";
import type { FileTouches, Touch } from "./touch.js";

const MAP_SG = /^dma_map_sg(_attrs)?$/;
/** An assignment to a table's nents: the count dma_map_sg returned is kept there. */
const NENTS_STORED = /\bnents\s*=(?!=)/;

const layoutFree = (s: string | undefined): string => (s ?? "").replace(/\s+/g, "");

/** Per file: whether its new version stores a count into nents, read once for all its touches. */
const storesNents = new WeakMap<FileTouches, boolean>();

/**
 * Whether code (not a comment, not a string) in the new side of a file's hunks assigns nents.
 * Each hunk is lexed whole, so a comment over several lines, or one the hunk starts inside, is
 * a comment throughout.
 */
function nentsStored(file: FileTouches): boolean {
  let stored = storesNents.get(file);
  if (stored === undefined) {
    stored = file.file.hunks.some((h) => {
      const rows = h.lines.filter((l) => l.type !== "-").map((l) => l.text);
      return NENTS_STORED.test(blankNonCode(rows.join("\n"), scanFragment(rows).startsInComment));
    });
    storesNents.set(file, stored);
  }
  return stored;
}

/**
 * The count a sync or unmap passes (its third argument) is the one a dma_map_sg call in the
 * file's new version was given, and nothing there stores the returned count into a table's
 * nents: the table then still holds the entry count, which is what the DMA API wants back.
 * Before the dma_*_sgtable helpers (v5.8) exporters mapped `sgt->nents` and dropped the result.
 */
export function countAsMapped(t: Touch, file: FileTouches): boolean {
  const count = layoutFree(t.args[2]);
  if (!count) return false;
  if (nentsStored(file)) return false;
  return [...file.touches, ...(file.context ?? [])].some(
    (m) => m.change !== "removed" && MAP_SG.test(m.name) && layoutFree(m.args[2]) === count,
  );
}
