/** Everything from mail or a forge goes through this before it reaches a page. */
export function esc(text: string | number | undefined): string {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export const PAGE_SCRIPT_PATH = "/reviews/assets/page.js";

/**
 * The one page frame. The Content-Security-Policy the server sends with it allows no inline
 * script, so a string that slipped past `esc` still would not run.
 */
export function frame(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body>${body}<script src="${PAGE_SCRIPT_PATH}"></script></body></html>
`;
}

export const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'";

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
a{color:#0645ad} code,pre,.diff{font-family:ui-monospace,monospace;font-size:12px}
table{border-collapse:collapse} th,td{padding:2px 6px;text-align:left;vertical-align:top}
.list td,.list th,.tracker td,.tracker th{border-bottom:1px solid #ddd}
.v-error{color:#b00020;font-weight:bold}.v-warning{color:#a15c00;font-weight:bold}.v-info{color:#25617d}
.v-clean{color:#2b7a0b}.v-out-of-scope{color:#777}
.diff{border:1px solid #ccc;margin:.5em 0 1.5em;width:100%}
.diff td{padding:0 6px;white-space:pre-wrap;word-break:break-all}
.diff .n{color:#999;text-align:right;width:3em;user-select:none}
.diff .add{background:#e6ffec}.diff .del{background:#ffebe9}.diff .hunk{background:#f0f4ff;color:#555}
.finding td{background:#fff8c5;border-left:4px solid #d4a72c;white-space:normal;font-family:system-ui,sans-serif}
.finding.error td{border-left-color:#b00020}
.grid{margin:.3em 0 1em}.grid th{font-weight:normal;font-size:11px;max-width:9em}
.grid td{padding:1px}
.cell{display:flex;width:44px;height:22px;border:1px solid #888;padding:0;cursor:pointer;background:none}
.cell span{flex:1}.cell.none{border-color:#ddd;cursor:default}
.o-ok{background:#7bc96f}.o-slow{background:#c6e48b}.o-stale-read{background:#e05d44}.o-lost-write{background:#8e1b10}
.o-rejected{background:#9e9e9e}.o-absent{background:#ffffff}
.legend span{display:inline-block;padding:0 6px;margin-right:4px;color:#fff}
#trace{position:sticky;bottom:0;background:#fafafa;border:1px solid #ccc;padding:6px;max-height:16em;overflow:auto;white-space:pre-wrap}
.filters a{margin-right:.6em}.filters .on{font-weight:bold;text-decoration:none;color:#222}
`;

/** Shows a clicked cell's trace; the trace travels in a data attribute and is set as text. */
export const PAGE_SCRIPT = `"use strict";
document.addEventListener("click", function (ev) {
  var cell = ev.target && ev.target.closest ? ev.target.closest("button.cell[data-trace]") : null;
  if (!cell) return;
  var out = document.getElementById("trace");
  if (!out) return;
  out.textContent = cell.getAttribute("data-config") + "\\n" + cell.getAttribute("data-trace");
  out.hidden = false;
  var prev = document.querySelector("button.cell.selected");
  if (prev) prev.classList.remove("selected");
  cell.classList.add("selected");
});
`;
