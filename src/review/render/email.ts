import { SEVERITY_RANK, type Severity } from "../../analysis/rules/schema.js";
import type { Hunk } from "../../patch/diff.js";
import type { Message } from "../../patch/message.js";
import { repeatKey, type Finding } from "../finding.js";
import type { PatchReview, SeriesReview } from "../review-series.js";
import { modelSummary } from "./text.js";
import { wrap } from "./wrap.js";

/**
 * A review as a kernel reviewer writes it to a list: plain text, the lines under discussion
 * quoted from the patch ("> +\tif (...)") with the comment right under them, prose wrapped at
 * 72 columns, no top-posting. Quoted code is never re-wrapped: a reviewer quotes it as sent.
 */
export const WIDTH = 72;

/** `Re: ` and the subject without list tags or earlier `Re: `s. */
export function replySubject(m: Message): string {
  return `Re: ${m.parsedSubject.clean || m.subject}`;
}

function rfc2822(d: Date): string {
  const day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][d.getUTCDay()]!;
  const mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][d.getUTCMonth()]!;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${day}, ${d.getUTCDate()} ${mon} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function attribution(m: Message): string[] {
  const who = m.from.name && m.from.name !== m.from.email ? m.from.name : m.from.email;
  return wrap(m.date ? `On ${rfc2822(m.date)}, ${who} wrote:` : `${who} wrote:`, WIDTH);
}

function hunkOf(m: Message, f: Finding): { file: string; hunk: Hunk } | undefined {
  const file = m.files.find((x) => x.path === f.file);
  const hunk = file?.hunks.find((h) => f.line >= h.newStart && f.line < h.newStart + Math.max(1, h.newLines));
  return file && hunk ? { file: file.path, hunk } : undefined;
}

function hunkHeader(h: Hunk): string {
  return `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@${h.heading ? ` ${h.heading}` : ""}`;
}

/** Prose at 72 columns; lines that are preformatted (a model trace) keep their indent. */
function prose(text: string, indent = ""): string[] {
  return wrap(text, WIDTH, indent);
}

/** A hanging indent: the first line at `first`, the rest at `rest`, all within 72 columns. */
function hanging(text: string, first: string, rest: string): string[] {
  return wrap(text, WIDTH, rest).map((l, i) => (i === 0 ? `${first}${l.trimStart()}` : l));
}

function details(lines: readonly string[]): string[] {
  return lines.flatMap((d) => {
    const indent = d.match(/^ */)![0];
    return hanging(d.trim(), `  ${indent}`, `  ${indent}  `);
  });
}

function reference(r: Finding["references"][number]): string {
  if ("doc" in r) return r.doc;
  if ("thread" in r) return r.thread;
  if ("commit" in r) return `commit ${r.commit}`;
  return r.hazard;
}

export function atOrAbove(findings: readonly Finding[], threshold: Severity): Finding[] {
  return findings.filter((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK[threshold]);
}

/**
 * The inline reply to one patch: for each place, the diff header and hunk header once, then the
 * quoted lines and every finding about them. `findings` are the ones to say (at or above the
 * list's threshold, not said before).
 */
export function renderPatchReply(p: PatchReview, findings: readonly Finding[], signature: readonly string[]): string {
  const m = p.message;
  const out: string[] = [...attribution(m)];
  const places = new Map<string, Finding[]>();
  for (const f of findings) places.set(`${f.file}:${f.line}`, [...(places.get(`${f.file}:${f.line}`) ?? []), f]);
  const said = new Map<string, Finding>();
  let lastFile: string | undefined;
  let lastHunk: Hunk | undefined;
  let firstPlace = true;
  for (const group of places.values()) {
    const first = group[0]!;
    const where = hunkOf(m, first);
    if (!firstPlace) out.push("");
    firstPlace = false;
    if (where && where.file !== lastFile) {
      out.push(`> diff --git a/${where.file} b/${where.file}`);
      lastFile = where.file;
      lastHunk = undefined;
    }
    if (where && where.hunk !== lastHunk) {
      out.push("[...]", `> ${hunkHeader(where.hunk)}`);
      lastHunk = where.hunk;
    }
    out.push("[...]");
    if (!where) out.push(...prose(`In ${first.file}, line ${first.line}${first.function ? `, ${first.function}()` : ""}:`));
    for (const q of first.quote) out.push(`> ${q}`);
    for (const f of group) {
      out.push("");
      const earlier = said.get(repeatKey(f));
      if (earlier) {
        out.push(...prose(`Same as at ${earlier.file}:${earlier.line} above (${f.rule}).`));
        continue;
      }
      said.set(repeatKey(f), f);
      out.push(...prose(f.message));
      if (f.details && f.details.length > 0) out.push("", ...details(f.details));
      out.push("", ...prose(`[${f.severity}] ${f.rule} (${f.risk})`));
      const refs = f.references.map(reference);
      if (refs.length > 0) out.push(...prose(`See ${refs.join("; ")}.`));
    }
  }
  out.push("", ...signature);
  return `${out.join("\n")}\n`;
}

function count(findings: readonly Finding[]): string {
  const by = new Map<Severity, number>();
  for (const f of findings) by.set(f.severity, (by.get(f.severity) ?? 0) + 1);
  const parts = (["error", "warning", "info"] as const).flatMap((s) => {
    const n = by.get(s) ?? 0;
    return n > 0 ? [`${n} ${s}${n === 1 ? "" : "s"}`] : [];
  });
  return parts.length > 0 ? parts.join(", ") : "nothing";
}

/**
 * The reply to the cover letter: the model's verdict on the series as a whole, then a line per
 * patch saying what was found at or above the threshold (the details are in the replies to the
 * patches themselves). The first paragraph of the cover letter is quoted for context.
 */
export function renderCoverReply(s: SeriesReview, threshold: Severity, signature: readonly string[]): string {
  const cover = s.series.cover!;
  const out: string[] = [...attribution(cover)];
  // The opening of the cover letter, for context: its first lines up to six of text.
  const lines: string[] = [];
  let text = 0;
  for (const l of cover.commitMessage.trim().split("\n")) {
    if (text >= 6 && l.trim() === "") break;
    lines.push(l);
    if (l.trim() !== "") text++;
  }
  for (const l of lines) out.push(l ? `> ${l}` : ">");
  out.push("[...]", "");
  const summary = modelSummary(s).map((l) => l.trim()).join(" ");
  if (summary) out.push(...prose(summary), "");
  out.push(...prose(`Findings at or above ${threshold}, per patch:`));
  for (const p of s.patches) {
    const label = `${p.total > 1 ? `${p.index}/${p.total}` : "1/1"} ${p.message.parsedSubject.title}`;
    const found = p.outOfScope ? "out of scope" : count(atOrAbove(p.findings, threshold));
    out.push(...hanging(`${label}: ${found}`, "  ", "    "));
  }
  for (const i of s.series.missing) out.push(...wrap(`${i}/${s.series.total} did not reach the list archive; not reviewed`, WIDTH, "  "));
  out.push("", ...signature);
  return `${out.join("\n")}\n`;
}
