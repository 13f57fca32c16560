import { esc, frame } from "./html.js";
import { PAGE_VERDICTS, type ListedReview } from "../../review/review-page.js";
import { reviewListUrl, reviewPageUrl } from "./url.js";

export interface ListFilter {
  readonly list?: string | undefined;
  readonly forge?: string | undefined;
  readonly verdict?: string | undefined;
}

/** The reviewed series, newest first, with links that filter by list, forge and verdict. */
export function renderReviewList(rows: readonly ListedReview[], filter: ListFilter, places: readonly { channel: string; place: string }[]): string {
  const link = (f: ListFilter, label: string, on: boolean) => `<a class="${on ? "on" : ""}" href="${esc(reviewListUrl("", f))}">${esc(label)}</a>`;
  const lists = places.filter((p) => p.channel === "mail").map((p) => p.place);
  const forges = [...new Set(places.map((p) => p.channel))];
  const filters = `<p class="filters">list: ${link({ ...filter, list: undefined }, "all", !filter.list)}${lists.map((l) => link({ ...filter, list: l }, l, filter.list === l)).join("")}
 · forge: ${link({ ...filter, forge: undefined }, "all", !filter.forge)}${forges.map((f) => link({ ...filter, forge: f }, f, filter.forge === f)).join("")}
 · verdict: ${link({ ...filter, verdict: undefined }, "all", !filter.verdict)}${PAGE_VERDICTS.map((v) => link({ ...filter, verdict: v }, v, filter.verdict === v)).join("")}</p>`;
  const body = rows.length
    ? `<table class="list"><thead><tr><th>date</th><th>series</th><th>rev</th><th>author</th><th>where</th><th>verdict</th><th>findings</th></tr></thead><tbody>
${rows
  .map(
    (r) =>
      `<tr data-series="${esc(r.seriesId)}"><td>${esc(r.dated.slice(0, 10))}</td><td><a href="${esc(reviewPageUrl("", r.seriesId))}">${esc(r.title)}</a></td><td>v${esc(r.revision)}</td><td>${esc(r.author)}</td><td>${esc(r.channel)}: ${esc(r.place)}</td><td class="v-${esc(r.verdict)}">${esc(r.verdict)}</td><td>${esc(r.findings)}</td></tr>`,
  )
  .join("\n")}</tbody></table>`
    : `<p>No reviewed series${filter.list || filter.forge || filter.verdict ? " match these filters" : " yet"}.</p>`;
  return frame("dmabuf-review: reviewed series", `<h1>Reviewed series</h1>${filters}${body}`);
}
