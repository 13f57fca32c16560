import type { Series } from "../patch/series.js";

/**
 * The stable address of a series revision's review page, as links in checks and mails give it:
 * the Message-ID of the cover letter (or of the first patch when there is none) names the
 * series, and the revision keeps v1 and v2 apart.
 */
export function reviewPageUrl(base: string, series: Series, patch?: number): string {
  const root = base.replace(/\/+$/, "");
  return `${root}/series/${encodeURIComponent(pageSeriesId(series))}/v${series.revision}${patch !== undefined ? `#patch-${patch}` : ""}`;
}

/**
 * b4 pipes a patch alone, so the cover letter is often not at hand: a patch of a numbered
 * series then names it as its thread root.
 */
function pageSeriesId(s: Series): string {
  if (s.cover || s.total <= 1) return s.id;
  const first = s.slots.find((m) => m !== undefined);
  return first?.references[0] ?? first?.inReplyTo ?? s.id;
}
