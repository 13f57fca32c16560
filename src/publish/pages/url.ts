/** Where the service serves its review pages; links to them go into checks, mails and comments. */
export const REVIEWS_PATH = "/reviews";

/**
 * The stable link to a series revision's page: the service's base URL and the series id (the
 * Message-ID of its thread root, or the forge's revision id). A patch's Message-ID in place of
 * the series id leads to the same page.
 */
export function reviewPageUrl(baseUrl: string, seriesOrMessageId: string): string {
  return `${baseUrl.replace(/\/+$/, "")}${REVIEWS_PATH}/${encodeURIComponent(seriesOrMessageId)}`;
}

/** A patch on its series' page: the patch's own Message-ID finds the page, the anchor the patch. */
export function patchPageUrl(baseUrl: string, messageId: string, index: number): string {
  return `${reviewPageUrl(baseUrl, messageId)}#patch-${index}`;
}

/** The list of reviews, filtered: `list` (a mirror's name), `forge` (github, gitlab, mail), `verdict`. */
export function reviewListUrl(baseUrl: string, filter: { readonly list?: string | undefined; readonly forge?: string | undefined; readonly verdict?: string | undefined } = {}): string {
  const q = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ""));
  const query = q.toString();
  return `${baseUrl.replace(/\/+$/, "")}${REVIEWS_PATH}${query ? `?${query}` : ""}`;
}
