-- The review pages the service shows: one row per reviewed series revision, written by the channel
-- that reviewed it (the page's data as JSON), read by the HTTP server only.
CREATE TABLE review_pages (
  series_id   TEXT PRIMARY KEY,
  channel     TEXT NOT NULL,                -- mail, github, gitlab
  place       TEXT NOT NULL,                -- the mirror's name, or the forge's project
  title       TEXT NOT NULL,
  revision    INTEGER NOT NULL,
  author      TEXT NOT NULL,
  verdict     TEXT NOT NULL,                -- error | warning | info | clean | out-of-scope
  findings    INTEGER NOT NULL,
  dated       TEXT NOT NULL,                -- the series' date, else when it was reviewed: the list's order
  reviewed_at TEXT NOT NULL,
  page        TEXT NOT NULL                 -- JSON: publish/pages/review-page.ts ReviewPage
);
CREATE INDEX review_pages_dated ON review_pages(dated DESC);

-- Any patch's or cover letter's Message-ID leads to its series' page (checks link by patch).
CREATE TABLE review_page_messages (
  message_id TEXT PRIMARY KEY,
  series_id  TEXT NOT NULL
);
