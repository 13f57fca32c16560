import type { Catalog, CpuAccessPolicy } from "../model/catalog.js";
import type { Effect, EffectSource, ExporterChange } from "../model/effect.js";
import type { SeriesCode } from "../model/code/functions.js";
import { conditionToPredicate } from "../model/gate.js";
import { deriveNewExporters, variants } from "../model/code/derive.js";
import { parseCondition, type CParser } from "../patch/c-source.js";
import type { RuleMatch, SeriesTouch } from "./rules/match.js";
import type { PolicyDoc } from "./rules/schema.js";
import type { Touch } from "./touch.js";

/**
 * Which exporters the fds of a userspace file come from and which importers it hands them to,
 * from what the same file does (open("/dev/dma_heap/system"), VIDIOC_EXPBUF, PRIME import...).
 * Undefined where the code does not say: then every catalog entry is a candidate.
 */
function userspaceParties(catalog: Catalog, context: readonly SeriesTouch[], file: string): { exporters: string[] | undefined; importers: string[] | undefined } {
  const io = context.filter((s) => s.touch.file === file && s.touch.kind === "userspace-io" && s.touch.value !== undefined);
  let sources = io.filter((s) => s.touch.name.startsWith("fd ")).map((s) => s.touch.value!);
  // DMA_HEAP_IOCTL_ALLOC says "a heap"; the open() of /dev/dma_heap/<name> says which one.
  if (sources.some((x) => x === "dma-heap-system" || x === "dma-heap-cma")) sources = sources.filter((x) => x !== "dma-heap");
  const apis = io.filter((s) => s.touch.name.startsWith("import ")).map((s) => s.touch.value!);
  const exporters = catalog.exporters.filter((e) => e.userspaceSources.some((src) => sources.includes(src))).map((e) => e.id);
  const importers = catalog.importers.filter((i) => i.userspaceApis.some((api) => apis.includes(api))).map((i) => i.id);
  return { exporters: exporters.length > 0 ? exporters : undefined, importers: importers.length > 0 ? importers : undefined };
}

export interface PatchMatch {
  readonly match: RuleMatch;
  readonly patch: number;
}

function sourceOf(m: PatchMatch): EffectSource {
  const t = m.match.touch;
  return { rule: m.match.rule.doc.id, patch: m.patch, file: t.file, line: t.line, detail: t.detail };
}

/** The callbacks whose failure refuses an attachment or its mapping. */
const GATED_CALLBACKS: ReadonlySet<string> = new Set(["attach", "map_dma_buf"]);
/** The core's own attach and map entry points. */
const CORE_GATES = /^(dma_buf_(dynamic_)?attach|dma_buf_map_attachment(_unlocked)?|__map_dma_buf)$/;

function exportersOf(catalog: Catalog, file: string, derived: ReadonlyMap<string, string> = new Map()): string[] {
  const known = catalog.exporters.filter((e) => e.files.includes(file)).map((e) => e.id);
  const d = derived.get(file);
  return d ? [...known, d] : known;
}

/** A sync added to begin/end: for every attachment's device, or for the exporter's own one. */
function policyFromCall(t: Touch): CpuAccessPolicy | undefined {
  const dev = t.args[0];
  if (dev === undefined) return undefined;
  if (t.kind === "cache-sync" && /^(invalidate|flush)_kernel_vmap_range$/.test(t.name)) return undefined;
  return /attach|\ba->dev\b|\batt->dev\b|\bentry->dev\b/.test(dev) ? "all-attachments" : "own-device";
}

function policy(doc: PolicyDoc, t: Touch): CpuAccessPolicy | undefined {
  return doc === "from-call" ? policyFromCall(t) : doc;
}

/**
 * Turn the rule matches of a series into model effects. What cannot be pinned down (a gate
 * over an unknown symbol, a file no catalog exporter is built from) becomes `not-modelled`
 * with the reason: the review says so instead of guessing.
 */
export function effectsOf(
  matches: readonly PatchMatch[],
  catalog: Catalog,
  parser: CParser,
  context: readonly SeriesTouch[] = [],
  code: SeriesCode = { functions: new Map(), ops: [] },
): Effect[] {
  const gateContext = { parse: (text: string) => parseCondition(parser, text), helpers: code.functions };
  const out: Effect[] = [];
  // Exporters the series adds are read from their code whole; a rule's effect on their lines is in that entry already.
  const derivedByFile = new Map<string, string>();
  for (const d of deriveNewExporters(code, catalog)) {
    derivedByFile.set(d.table.file, d.exporter.id);
    const source = { rule: "model/derived-exporter", patch: d.table.patch, file: d.table.file, line: d.table.line, detail: `struct ${d.table.struct} ${d.table.name}` };
    out.push({ kind: "new-exporter", derived: d, variants: variants(d), source });
  }
  const seen = new Set<string>();
  const gateEffect = (t: Touch, source: EffectSource): Effect => {
    const ast = t.condition ? parseCondition(parser, t.condition) : undefined;
    if (!ast) return { kind: "not-modelled", reason: `the condition "${t.condition ?? ""}" does not parse as C`, source };
    const p = conditionToPredicate(ast, gateContext);
    if ("unknown" in p) return { kind: "not-modelled", reason: `the gate depends on "${p.unknown}", which the model does not know`, source };
    // A gate in an exporter's own callback refuses that exporter's buffers only; the core's, all.
    const owners = exportersOf(catalog, t.file, derivedByFile);
    // The core's own map entry points refuse at map time too, under their own names.
    const coreMap = /^(dma_buf_map_attachment(_unlocked)?|__map_dma_buf)$/.test(t.function ?? "") ? t.function : undefined;
    const at = t.member === "map_dma_buf" ? "map_dma_buf" : (coreMap ?? "dma_buf_attach");
    return { kind: "gate", predicate: p, error: t.value ?? "error", source, at, ...(owners.length > 0 ? { exporters: owners } : {}) };
  };
  for (const m of matches) {
    const doc = m.match.rule.doc.effect;
    if (!doc) continue;
    const t = m.match.touch;
    const source = sourceOf(m);
    const kind = Object.keys(doc)[0]!;
    const key = `${kind}|${t.file}|${t.line}|${t.change}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const notModelled = (reason: string) => out.push({ kind: "not-modelled", reason, source });

    if (doc.gate) {
      if (t.change === "removed") {
        notModelled("a removed gate is not modelled");
        continue;
      }
      out.push(gateEffect(t, source));
    } else if ((doc.exporter || doc["exporter-sync"]) && derivedByFile.has(t.file)) {
      continue;
    } else if (doc.flag) {
      const exporters = exportersOf(catalog, t.file, derivedByFile);
      const v = (t.value ?? "").trim();
      const value: "device" | boolean | undefined = /\bdev_(is_)?dma_coherent\s*\(/.test(v)
        ? "device"
        : /^(true|1)$/.test(v)
          ? true
          : /^(false|0)$/.test(v)
            ? false
            : undefined;
      if (exporters.length === 0) notModelled(`${t.file} is not an export path of any exporter in the catalog`);
      else if (value === undefined) notModelled(`the flag is set from "${v}", which the model cannot evaluate`);
      else out.push({ kind: "flag", exporters, value, source });
    } else if (doc.exporter) {
      const exporters = exportersOf(catalog, t.file);
      if (exporters.length === 0) {
        notModelled(`${t.file} is not part of any exporter in the catalog`);
        continue;
      }
      const e = doc.exporter;
      const begin = e.begin ? policy(e.begin, t) : undefined;
      const end = e.end ? policy(e.end, t) : undefined;
      if ((e.begin && !begin) || (e.end && !end)) {
        notModelled(`cannot tell from "${t.code.trim()}" which device the sync is for`);
        continue;
      }
      let mmap: ExporterChange["mmap"];
      if (e.mmap) {
        if (t.member && t.member !== "mmap") {
          notModelled(`the model tracks the attribute of the mmap alias only, not of ${t.member}`);
          continue;
        }
        mmap = e.mmap === "from-call" ? catalog.mappingAttrs.get(t.name) : e.mmap;
        if (!mmap) {
          notModelled(`cannot tell the CPU mapping attribute from ${t.name}()`);
          continue;
        }
      }
      const change: ExporterChange = {
        ...(begin ? { begin } : {}),
        ...(end ? { end } : {}),
        ...(e["map-sync"] ? { mapSync: e["map-sync"] } : {}),
        ...(e["unmap-sync"] ? { unmapSync: e["unmap-sync"] } : {}),
        ...(mmap ? { mmap } : {}),
      };
      out.push({ kind: "exporter", exporters, change, source });
    } else if (doc["exporter-sync"]) {
      const exporters = exportersOf(catalog, t.file);
      if (exporters.length === 0) {
        notModelled(`${t.file} is not part of any exporter in the catalog`);
        continue;
      }
      const added = doc["exporter-sync"] === "added";
      let change: ExporterChange | undefined;
      switch (t.member) {
        case "map_dma_buf":
          change = { mapSync: added ? "sync" : "skip" };
          break;
        case "unmap_dma_buf":
          change = { unmapSync: added ? "sync" : "skip" };
          break;
        case "begin_cpu_access":
        case "end_cpu_access": {
          const p = added ? policyFromCall(t) : "noop";
          if (p) change = t.member === "begin_cpu_access" ? { begin: p } : { end: p };
          break;
        }
      }
      if (!change) notModelled(`cannot tell what the sync change in ${t.function ?? "this function"}() does to the exporter`);
      else out.push({ kind: "exporter", exporters, change, source });
    } else if (doc.userspace) {
      const { exporters, importers } = userspaceParties(catalog, context, t.file);
      for (const [misuse, correct] of doc.userspace.pairs) {
        if (!catalog.patterns.some((p) => p.id === misuse) || !catalog.patterns.some((p) => p.id === correct)) {
          notModelled(`the catalog has no access pattern ${misuse} or ${correct}`);
          continue;
        }
        out.push({ kind: "userspace-misuse", misuse, correct, exporters, importers, source });
      }
    } else if (doc["import-refusable"]) {
      const api = t.value;
      const importers = catalog.importers.filter((i) => api !== undefined && i.userspaceApis.includes(api)).map((i) => i.id);
      out.push({ kind: "import-refusable", importers: importers.length > 0 ? importers : undefined, source });
    } else if (doc["importer-bracketing"]) {
      const importers = catalog.importers.filter((i) => i.cpuReader && i.files.includes(t.file)).map((i) => i.id);
      if (importers.length === 0) notModelled(`${t.file} is not a CPU importer in the catalog`);
      else out.push({ kind: "importer-bracketing", importers, brackets: doc["importer-bracketing"].brackets, source });
    }
  }
  // A gate no rule speaks about is still a change to the model: the core's attach or map, or
  // an attach or map callback of an exporter the model knows (from the catalog or its code).
  for (const s of context) {
    const t = s.touch;
    if (t.kind !== "gate" || t.change === "removed" || !s.file.inScope) continue;
    const key = `gate|${t.file}|${t.line}|${t.change}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const source: EffectSource = { rule: "model/gate", patch: s.patch, file: t.file, line: t.line, detail: t.detail };
    // A check elsewhere (begin_cpu_access, mmap, an ioctl) refuses no attachment: not a gate here.
    if (!GATED_CALLBACKS.has(t.member ?? "") && !CORE_GATES.test(t.function ?? "")) continue;
    if (t.area !== "core" && exportersOf(catalog, t.file, derivedByFile).length === 0) {
      out.push({ kind: "not-modelled", reason: `${t.file} is not part of any exporter the model knows`, source });
    } else out.push(gateEffect(t, source));
  }
  return out;
}
