import type { OutcomeKind } from "../../model/explore.js";
import { esc, frame } from "./html.js";
import type { PageCell, PageFinding, PageModel, PagePatch, PageTracker, ReviewPage } from "../../review/review-page.js";
import { reviewListUrl, reviewPageUrl } from "./url.js";

const OUTCOMES: readonly (OutcomeKind | "absent")[] = ["ok", "slow", "stale-read", "lost-write", "rejected", "absent"];

/** One series revision: its findings on the diff, the model's grid, the tracker across revisions. */
export function renderReviewPage(page: ReviewPage, tracker: PageTracker): string {
  const head = `<p><a href="${esc(reviewListUrl(""))}">all reviews</a></p>
<h1>${esc(page.title)} <small>v${esc(page.revision)}</small></h1>
<p>${esc(page.author)} · ${esc(page.channel)}: ${esc(page.place)}${page.date ? ` · ${esc(page.date.slice(0, 10))}` : ""} · verdict <span class="v-${esc(page.verdict)}" id="verdict">${esc(page.verdict)}</span>
· <a href="${esc(reviewPageUrl("", page.seriesId))}">permalink</a></p>
${page.missing.length ? `<p>Patches never received: ${page.missing.map((m) => `${m}/${page.total}`).join(", ")}</p>` : ""}`;
  const sections = [
    head,
    `<h2>Findings on the diff</h2>${page.patches.map(renderPatch).join("\n")}`,
    page.diffLinesDropped > 0 ? `<p>${esc(page.diffLinesDropped)} diff lines not kept (the series is larger than a page shows).</p>` : "",
    `<h2>Coherency model</h2>${page.model ? renderModel(page.model) : "<p>The series changes nothing the model knows.</p>"}`,
    `<h2>Feedback tracker</h2>${renderTracker(tracker)}`,
    `<pre id="trace" hidden></pre>`,
  ];
  return frame(`${page.title} v${page.revision}: dmabuf-review`, sections.join("\n"));
}

function renderPatch(p: PagePatch): string {
  const placed = new Set<PageFinding>();
  const at = new Map<string, PageFinding[]>();
  for (const f of p.findings) {
    const key = `${f.file}\n${f.line}`;
    at.set(key, [...(at.get(key) ?? []), f]);
  }
  const files = p.files
    .map((file) => {
      const rows: string[] = [];
      for (const h of file.hunks) {
        rows.push(`<tr class="hunk"><td class="n"></td><td class="n"></td><td>${esc(`@@ ${h.heading}`)}</td></tr>`);
        for (const l of h.lines) {
          const cls = l.type === "+" ? "add" : l.type === "-" ? "del" : "ctx";
          rows.push(`<tr class="${cls}"><td class="n">${esc(l.oldLine)}</td><td class="n">${esc(l.newLine)}</td><td>${esc(`${l.type}${l.text}`)}</td></tr>`);
          const here = l.type !== "-" && l.newLine !== undefined ? at.get(`${file.path}\n${l.newLine}`) : undefined;
          for (const f of here ?? []) {
            if (placed.has(f)) continue;
            placed.add(f);
            rows.push(`<tr class="finding ${esc(f.severity)}"><td colspan="3">${renderFinding(f)}</td></tr>`);
          }
        }
      }
      return `<h4>${esc(file.path)} <small>(${esc(file.status)})</small></h4><table class="diff">${rows.join("\n")}</table>`;
    })
    .join("\n");
  const elsewhere = p.findings.filter((f) => !placed.has(f));
  return `<section class="patch" id="patch-${esc(p.index)}"><h3>[${esc(p.index)}] ${esc(p.subject)}</h3>
<p><small>Message-ID: ${esc(p.messageId)}${p.outOfScope ? " · touches no dma-buf code" : ""}</small></p>
${elsewhere.length ? `<div class="unplaced"><p>Not on a line of the diff:</p>${elsewhere.map((f) => `<div class="finding ${esc(f.severity)}">${renderFinding(f)}</div>`).join("")}</div>` : ""}
${files}</section>`;
}

function renderFinding(f: PageFinding): string {
  const details = f.details.length ? `<pre>${esc(f.details.join("\n"))}</pre>` : "";
  return `<b class="v-${esc(f.severity)}">${esc(f.severity)}</b> <code>${esc(f.rule)}</code> ${esc(f.file)}:${esc(f.line)}<br>${esc(f.message)}${details}`;
}

/** One grid per platform and access pattern: exporters down, importers across, before | after. */
function renderModel(m: PageModel): string {
  const legend = `<p class="legend">${OUTCOMES.map((o) => `<span class="o-${o}">${o}</span>`).join("")} each cell: before | after the series; click a cell for its trace.</p>`;
  const groups = new Map<string, PageCell[]>();
  for (const c of m.cells) {
    const k = `${c.platform}\n${c.pattern}`;
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  const grids = [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, cells]) => {
      const [platform, pattern] = k.split("\n") as [string, string];
      const exporters = [...new Set(cells.map((c) => c.exporter))].sort();
      const importers = [...new Set(cells.map((c) => c.importer))].sort();
      const byKey = new Map(cells.map((c) => [`${c.exporter}\n${c.importer}`, c]));
      const head = `<tr><th>exporter \\ importer</th>${importers.map((i) => `<th>${esc(i)}</th>`).join("")}</tr>`;
      const rows = exporters.map((e) => `<tr><th>${esc(e)}</th>${importers.map((i) => `<td>${renderCell(byKey.get(`${e}\n${i}`))}</td>`).join("")}</tr>`);
      return `<h4>${esc(platform)} · ${esc(pattern)}</h4><table class="grid" data-platform="${esc(platform)}" data-pattern="${esc(pattern)}">${head}${rows.join("")}</table>`;
    });
  return `<p>${esc(m.cells.length)} configurations change (or stay broken) out of ${esc(m.evaluated)} evaluated, catalog ${esc(m.catalog)}; unchanged ones are blank.</p>${legend}${grids.join("\n")}`;
}

function renderCell(c: PageCell | undefined): string {
  if (!c) return `<button class="cell none" disabled title="unchanged"></button>`;
  const config = `${c.exporter} → ${c.importer} on ${c.platform}, ${c.pattern}: ${c.before} → ${c.after} (${c.category})${c.cause ? `; ${c.cause}` : ""}`;
  return `<button class="cell" title="${esc(`${c.before} → ${c.after}`)}" data-before="${esc(c.before)}" data-after="${esc(c.after)}" data-config="${esc(config)}" data-trace="${esc(c.trace.join("\n"))}"><span class="o-${esc(c.before)}"></span><span class="o-${esc(c.after)}"></span></button>`;
}

function renderTracker(t: PageTracker): string {
  if (t.items.length === 0) return "<p>No reviewer feedback tracked for this series yet.</p>";
  const cols = t.revisions;
  const head = `<tr><th>item</th><th>raised on</th><th>by</th><th>patch</th><th>kind</th><th>point</th>${cols.map((r) => `<th>${r.revision ? `v${esc(r.revision)}` : esc(r.seriesId)}</th>`).join("")}</tr>`;
  const rows = t.items.map(
    (i) =>
      `<tr><td>${esc(i.itemId)}</td><td>v${esc(i.version)}</td><td>${esc(i.author)}</td><td>${esc(i.patch)}</td><td>${esc(i.kind)}</td><td>${esc(i.text)}</td>${cols.map((r) => `<td>${esc(i.verdicts[r.seriesId] ?? "")}</td>`).join("")}</tr>`,
  );
  return `<table class="tracker">${head}${rows.join("\n")}</table>`;
}
