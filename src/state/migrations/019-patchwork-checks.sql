-- The patchwork checks the bot means to post and where each stands: one row per patchwork
-- project, patch (Message-ID) and context. Patchwork keeps every check and shows the newest per
-- context, so a new review with another result replaces the row and posts again; the same
-- result posts nothing. A row is "pending" until patchwork answers 201, then "posted".
CREATE TABLE patchwork_checks (
  project      TEXT NOT NULL,               -- "<api root> <project>"
  message_id   TEXT NOT NULL,
  context      TEXT NOT NULL,
  state        TEXT NOT NULL,               -- success | warning | fail
  description  TEXT NOT NULL,
  target_url   TEXT,
  status       TEXT NOT NULL,               -- pending | posted | refused
  attempts     INTEGER NOT NULL DEFAULT 0,  -- POSTs sent for this result (a lost answer shows as > 0)
  tries        INTEGER NOT NULL DEFAULT 0,  -- delivery rounds, for the backoff
  next_try_at  TEXT,                        -- ISO time; NULL: due now
  patch_id     INTEGER,
  check_url    TEXT,
  last_error   TEXT,
  intended_at  TEXT NOT NULL,
  posted_at    TEXT,
  PRIMARY KEY (project, message_id, context)
);
CREATE INDEX patchwork_checks_open ON patchwork_checks (project, next_try_at) WHERE status = 'pending';
