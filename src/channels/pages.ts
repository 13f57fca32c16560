import type { IncomingMessage, ServerResponse } from "node:http";
import { CONTENT_SECURITY_POLICY, esc, frame, PAGE_SCRIPT, PAGE_SCRIPT_PATH } from "../publish/pages/html.js";
import { renderReviewList } from "../publish/pages/render-list.js";
import { renderReviewPage } from "../publish/pages/render-page.js";
import { REVIEWS_PATH } from "../publish/pages/url.js";
import { ReviewPages } from "../state/review-pages.js";
import type { Store } from "../state/store.js";

/**
 * The read-only site beside the webhooks: GET /reviews (filtered by list, forge, verdict),
 * GET /reviews/<series or patch Message-ID>, and the page script. Returns false for any other path.
 */
export function pagesRoute(store: Store): (req: IncomingMessage, res: ServerResponse, url: URL) => boolean {
  const pages = new ReviewPages(store.db);
  return (req, res, url) => {
    const path = url.pathname;
    if (path !== REVIEWS_PATH && !path.startsWith(`${REVIEWS_PATH}/`)) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
      return true;
    }
    if (path === PAGE_SCRIPT_PATH) {
      send(res, 200, "text/javascript; charset=utf-8", PAGE_SCRIPT);
      return true;
    }
    if (path === REVIEWS_PATH || path === `${REVIEWS_PATH}/`) {
      const filter = { list: param(url, "list"), forge: param(url, "forge"), verdict: param(url, "verdict") };
      send(res, 200, HTML, renderReviewList(pages.list(filter), filter, pages.places()));
      return true;
    }
    let id: string;
    try {
      id = decodeURIComponent(path.slice(REVIEWS_PATH.length + 1));
    } catch {
      send(res, 400, HTML, frame("bad link", "<p>This link is not a valid review address.</p>"));
      return true;
    }
    const page = pages.get(id);
    if (!page) {
      send(res, 404, HTML, frame("not reviewed", `<p>No review of <code>${esc(id)}</code> is kept here.</p>`));
      return true;
    }
    const revisions = pages.revisions(page.seriesId);
    send(res, 200, HTML, renderReviewPage(page, { revisions, items: pages.tracker(revisions) }));
    return true;
  };
}

const HTML = "text/html; charset=utf-8";

function param(url: URL, name: string): string | undefined {
  return url.searchParams.get(name) || undefined;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "content-security-policy": CONTENT_SECURITY_POLICY, "x-content-type-options": "nosniff", "cache-control": "no-cache" });
  res.end(body);
}
