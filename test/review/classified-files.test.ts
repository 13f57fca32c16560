import { beforeAll, describe, expect, it } from "vitest";
import { classifyFile } from "../../src/analysis/touch.js";
import { loadMessages } from "../../src/ingest/mbox/messages.js";
import { CParser } from "../../src/patch/c-source.js";
import type { FileDiff } from "../../src/patch/diff.js";
import { ClassifiedFiles } from "../../src/review/classified-files.js";

let parser: CParser;
let files: FileDiff[];

beforeAll(async () => {
  parser = await CParser.load();
  const loaded = await loadMessages(new URL("../../fixtures/series/dma-coherent-v1.mbox", import.meta.url).pathname);
  files = loaded.messages.flatMap((m) => (m.kind === "patch" ? [...m.files] : []));
});

/** The same diff as another object, as a later revision carrying the patch over gives it. */
const copyOf = (f: FileDiff): FileDiff => JSON.parse(JSON.stringify(f)) as FileDiff;

describe("ClassifiedFiles", () => {
  it("gives what classifyFile gives, for the caller's file, with touches of its own", () => {
    const kept = new ClassifiedFiles();
    const withTouches = files.filter((f) => classifyFile(f, parser).touches.length > 0);
    expect(withTouches.length).toBeGreaterThan(0);
    for (const f of withTouches) {
      const first = kept.classify(f, parser, new Set());
      const again = copyOf(f);
      const second = kept.classify(again, parser, new Set());
      expect(second).toEqual(classifyFile(again, parser));
      expect(second.file).toBe(again);
      expect(first.file).toBe(f);
      second.touches.forEach((t, i) => expect(t).not.toBe(first.touches[i]));
    }
  });

  it("classifies a file repeated inside one series again, and forgets the oldest past its limit", () => {
    const kept = new ClassifiedFiles(1);
    const [a, b] = files.filter((f) => classifyFile(f, parser).touches.length > 0);
    const fresh = new Set<string>();
    const one = kept.classify(a!, parser, fresh);
    const two = kept.classify(copyOf(a!), parser, fresh);
    expect(two).toEqual({ ...one, file: two.file });
    if (b) {
      kept.classify(b, parser, new Set());
      expect(kept.classify(a!, parser, new Set())).toEqual(classifyFile(a!, parser));
    }
  });
});

describe("ClassifiedFiles and the series' helpers", () => {
  it("classifies a diff again when a helper it calls reads something else", async () => {
    const { seriesCode } = await import("../../src/model/code/functions.js");
    const loaded = await loadMessages(new URL("../../fixtures/model/gate-neutral-helper-system-heap.patch", import.meta.url).pathname);
    const patchFiles = loaded.messages.flatMap((m) => (m.kind === "patch" ? [...m.files] : []));
    const file = patchFiles.find((f) => f.path.endsWith("system_heap.c"))!;
    const helpers = seriesCode([{ patch: 1, files: patchFiles }]).functions;
    const real = helpers.get("foo_needs_sync")!;
    expect(real).toBeDefined();
    // The same helper name, as another series might define it elsewhere: no coherency fact read.
    const other = new Map(helpers);
    other.set("foo_needs_sync", { ...real, body: " return d != NULL; " });
    const kept = new ClassifiedFiles();
    const first = kept.classify(file, parser, new Set(), helpers);
    const second = kept.classify(copyOf(file), parser, new Set(), other);
    expect(first).toEqual(classifyFile(file, parser, helpers));
    expect(second).toEqual({ ...classifyFile(file, parser, other), file: second.file });
    expect(second.touches.map((t) => t.kind)).not.toEqual(first.touches.map((t) => t.kind));
  });
});
