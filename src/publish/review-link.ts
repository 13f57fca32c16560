/**
 * The stable address of a series revision's review page, as links in checks and mails give it.
 * The Message-ID of the revision's root names the series; the revision keeps v1 and v2 apart.
 */
export function reviewPageUrl(base: string, seriesId: string, revision: number, patch?: number): string {
  const root = base.replace(/\/+$/, "");
  return `${root}/series/${encodeURIComponent(seriesId)}/v${revision}${patch !== undefined ? `#patch-${patch}` : ""}`;
}
