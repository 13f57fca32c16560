import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { splitMbox } from "../../src/ingest/mbox/reader.js";
import { parseMime } from "../../src/ingest/mime.js";
import type { FileDiff, Hunk } from "../../src/patch/diff.js";
import { buildMessage } from "../../src/patch/message.js";

/**
 * A series pushed to a forge: what the stand-ins serve as the changed files of a pull or merge
 * request, derived from a fixture mbox with the core's own parser. Each file carries its hunks
 * as the forges print them (from the first `@@`, no `diff --git` header).
 */
export interface PushedFile {
  readonly oldPath: string | undefined;
  readonly newPath: string | undefined;
  readonly status: FileDiff["status"];
  readonly hunks: string;
  readonly additions: number;
  readonly deletions: number;
  /** A binary file: no hunks, the forge says so its own way. */
  readonly binary?: boolean;
}

export interface Push {
  readonly headSha: string;
  readonly baseSha: string;
  readonly title: string;
  readonly files: readonly PushedFile[];
  /** Subjects of the patches, as commits. */
  readonly commits: readonly { readonly sha: string; readonly title: string; readonly message: string }[];
}

export const DMA_COHERENT_MBOX = fileURLToPath(new URL("../../fixtures/series/dma-coherent-v1.mbox", import.meta.url));

export function hunkText(h: Hunk): string {
  const head = `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@${h.heading ? ` ${h.heading}` : ""}`;
  return [head, ...h.lines.map((l) => `${l.type}${l.text}`)].join("\n");
}

const sha = (s: string) => createHash("sha1").update(s).digest("hex");

/**
 * The mbox's patches as one push: the files of all patches (they must not overlap, as a forge
 * would show one combined diff), a head commit id derived from the content, the cover letter's
 * title. `edit` changes the mbox text first: the second push of a test.
 */
export async function pushFromMbox(path: string = DMA_COHERENT_MBOX, edit: (text: string) => string = (t) => t): Promise<Push> {
  const text = edit(readFileSync(path, "utf8"));
  const messages = await Promise.all(splitMbox(Buffer.from(text, "utf8"), path).map(async (raw) => buildMessage(await parseMime(raw))));
  const patches = messages.filter((m) => m.kind === "patch").sort((a, b) => (a.parsedSubject.index ?? 1) - (b.parsedSubject.index ?? 1));
  const cover = messages.find((m) => m.kind === "cover");
  const files: PushedFile[] = [];
  for (const p of patches) {
    for (const f of p.files) {
      if (files.some((g) => (g.newPath ?? g.oldPath) === f.path)) throw new Error(`${f.path} is changed by two patches: the helper cannot combine diffs`);
      const lines = f.hunks.flatMap((h) => h.lines);
      files.push({
        oldPath: f.oldPath,
        newPath: f.newPath,
        status: f.status,
        hunks: f.hunks.map(hunkText).join("\n"),
        additions: lines.filter((l) => l.type === "+").length,
        deletions: lines.filter((l) => l.type === "-").length,
      });
    }
  }
  return {
    headSha: sha(`head\0${text}`),
    baseSha: sha("base\0v6.1-rc1"),
    title: cover?.parsedSubject.title ?? patches[0]?.parsedSubject.title ?? "untitled",
    files,
    commits: patches.map((p) => ({ sha: sha(`commit\0${p.body}`), title: p.parsedSubject.title, message: p.commitMessage })),
  };
}

/**
 * The second push of the tests: patch 1 reworked so the attach gate lets importers that allow
 * peer-to-peer through. Patches 2 and 3 are unchanged.
 */
export function reworkGate(text: string): string {
  const before = "+\tif (dmabuf->dma_coherent && !dev_is_dma_coherent(dev))\n+\t\treturn ERR_PTR(-EINVAL);\n";
  const after = "+\tif (dmabuf->dma_coherent && !dev_is_dma_coherent(dev) &&\n+\t    !(importer_ops && importer_ops->allow_peer2peer))\n+\t\treturn ERR_PTR(-EINVAL);\n";
  if (!text.includes(before)) throw new Error("the gate hunk of patch 1 is not in the fixture any more");
  return text.replace(before, after).replace("@@ -833,6 +835,9 @@", "@@ -833,6 +835,10 @@");
}

/** The new-file lines each file's hunks show on the right side, with their kind: what a forge accepts a comment on. */
export function diffLines(hunks: string): { type: "+" | "-" | " "; oldLine?: number; newLine?: number }[] {
  const out: { type: "+" | "-" | " "; oldLine?: number; newLine?: number }[] = [];
  let oldLine = 0;
  let newLine = 0;
  for (const l of hunks.split("\n")) {
    const m = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(l);
    if (m) {
      oldLine = Number(m[1]);
      newLine = Number(m[2]);
      continue;
    }
    if (l.startsWith("+")) out.push({ type: "+", newLine: newLine++ });
    else if (l.startsWith("-")) out.push({ type: "-", oldLine: oldLine++ });
    else if (l.startsWith(" ")) out.push({ type: " ", oldLine: oldLine++, newLine: newLine++ });
  }
  return out;
}

/**
 * A large merge request around the series: `filler` small C files that do not touch dma-buf,
 * three binary files, two renames (one with an edit) and two deleted files, plus the series.
 */
export function largePush(series: Push, filler: number): Push {
  const files: PushedFile[] = [];
  for (let i = 0; i < filler; i++) {
    const path = `drivers/gpu/drm/tiny/panel-${String(i).padStart(3, "0")}.c`;
    files.push({ oldPath: path, newPath: path, status: "modified", hunks: `@@ -10,3 +10,3 @@ static int panel_probe(struct device *dev)\n \tint ret;\n-\tret = panel_init(dev, ${i});\n+\tret = panel_init(dev, ${i + 1});\n \treturn ret;`, additions: 1, deletions: 1 });
  }
  for (const name of ["logo.png", "firmware/gpu.bin", "splash.bmp"]) files.push({ oldPath: name, newPath: name, status: "binary", hunks: "", additions: 0, deletions: 0, binary: true });
  files.push({ oldPath: "drivers/gpu/drm/tiny/old-name.c", newPath: "drivers/gpu/drm/tiny/new-name.c", status: "renamed", hunks: "", additions: 0, deletions: 0 });
  files.push({ oldPath: "drivers/gpu/drm/tiny/moved.c", newPath: "drivers/gpu/drm/tiny/moved-and-edited.c", status: "renamed", hunks: "@@ -1,2 +1,2 @@\n-/* old */\n+/* new */\n int x;", additions: 1, deletions: 1 });
  for (const path of ["drivers/gpu/drm/tiny/gone-1.c", "drivers/gpu/drm/tiny/gone-2.c"]) files.push({ oldPath: path, newPath: undefined, status: "deleted", hunks: "@@ -1,2 +0,0 @@\n-int a;\n-int b;", additions: 0, deletions: 2 });
  return { ...series, headSha: sha(`large\0${series.headSha}\0${filler}`), files: [...files, ...series.files] };
}
