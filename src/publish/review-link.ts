import type { Series } from "../patch/series.js";
import { reviewPageUrl as pageUrl } from "./pages/url.js";

/**
 * The stable address of a series revision's review page (pages/url.ts), as links in checks give
 * it: the Message-ID of the cover letter (or of the first patch when there is none) names the
 * revision, and a patch is the page's anchor for it.
 */
export function reviewPageUrl(base: string, series: Series, patch?: number): string {
  return `${pageUrl(base, pageSeriesId(series))}${patch !== undefined ? `#patch-${patch}` : ""}`;
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
