import { readdirSync } from "node:fs";
import fc from "fast-check";
import { parseDiff, splitBody } from "../../../src/patch/diff.js";
import { fixture, fixtureBody } from "../../helpers/mail.js";
import type { HunkSpec } from "./c-code.js";
import type { FileSpec } from "./diff.js";

/**
 * The hunks of the rule and model fixtures (real exporter and core code that makes rules fire),
 * edited the way a next revision or a bad rebase edits them: a line dropped, doubled, moved,
 * flipped between added and removed, or an identifier renamed. Generated C alone rarely lands
 * where a rule fires; these keep the review's rule and model paths busy.
 */
function fixturePatches(): string[] {
  const out: string[] = [];
  for (const dir of ["rules", "model", "userspace"]) {
    for (const rel of readdirSync(fixture(dir), { recursive: true, encoding: "utf8" })) {
      if (rel.endsWith(".patch")) out.push(`${dir}/${rel}`);
    }
  }
  return out.sort();
}

export const FIXTURE_FILES: readonly FileSpec[] = fixturePatches().flatMap((rel) => {
  const diff = splitBody(fixtureBody(rel)).diffText;
  if (!diff) return [];
  return parseDiff(diff)
    .filter((f) => f.hunks.length > 0 && f.status === "modified")
    .map((f): FileSpec => ({
      path: f.path,
      oldPath: f.path,
      status: "modified",
      hunks: f.hunks.map((h) => ({ heading: h.heading, lines: h.lines.map((l) => ({ op: l.type, text: l.text })) })),
      // Keeps each hunk where it was in the file, so line numbers stay those of the fixture.
      gaps: f.hunks.map((h, i) => Math.max(0, h.oldStart - 1 - (i === 0 ? 0 : f.hunks[i - 1]!.oldStart - 1 + f.hunks[i - 1]!.oldLines))),
      noNewlineAtEnd: false,
    }));
});

type Edit = { readonly kind: "drop" | "double" | "flip" | "move" | "rename"; readonly at: number; readonly to: number; readonly name: string };

const edit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom("drop", "double", "flip", "move", "rename"),
  at: fc.nat(),
  to: fc.nat(),
  name: fc.constantFrom("dma_buf_ops", "begin_cpu_access", "dma_sync_sgtable_for_device", "dev_is_dma_coherent", "DMA_ATTR_SKIP_CPU_SYNC", "x", "coherent"),
});

function applyEdit(h: HunkSpec, e: Edit): HunkSpec {
  const lines = [...h.lines];
  if (lines.length === 0) return h;
  const at = e.at % lines.length;
  const l = lines[at]!;
  if (e.kind === "drop" && lines.length > 1) lines.splice(at, 1);
  else if (e.kind === "double") lines.splice(at, 0, l);
  else if (e.kind === "flip") lines[at] = { op: l.op === "+" ? "-" : l.op === "-" ? "+" : l.op, text: l.text };
  else if (e.kind === "move") {
    lines.splice(at, 1);
    lines.splice(e.to % (lines.length + 1), 0, l);
  } else if (e.kind === "rename") lines[at] = { op: l.op, text: l.text.replace(/\b[a-z_]+[a-z0-9_]*\b/i, e.name) };
  return { heading: h.heading, lines };
}

/** A fixture file with up to three edits to its hunks. */
export const editedFixtureFile: fc.Arbitrary<FileSpec> = fc
  .tuple(fc.constantFrom(...FIXTURE_FILES), fc.array(fc.tuple(fc.nat(), edit), { maxLength: 3 }))
  .map(([f, edits]) => {
    const hunks = [...f.hunks];
    for (const [which, e] of edits) {
      const i = which % hunks.length;
      hunks[i] = applyEdit(hunks[i]!, e);
    }
    return { ...f, hunks };
  });
