-- Where each archive (and each epoch of it) was read up to.
CREATE TABLE cursors (
  source      TEXT NOT NULL,              -- inbox path or name from the config
  epoch       TEXT NOT NULL,              -- "0", "1", ... for public-inbox v2; "-" for mbox
  last_commit TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  PRIMARY KEY (source, epoch)
);

-- Every message seen, by Message-ID; `origin` says where to read it again.
CREATE TABLE messages (
  message_id TEXT PRIMARY KEY,
  source     TEXT NOT NULL,
  origin     TEXT NOT NULL,               -- "git:<epoch dir>:<blob oid>", "mbox:<path>#<n>", "forge:<id>"
  kind       TEXT NOT NULL,               -- patch | cover | reply | other | skipped
  subject    TEXT,
  author     TEXT,
  date       TEXT,
  in_reply_to TEXT,
  series_id  TEXT,
  status     TEXT NOT NULL,               -- seen | reviewed | skipped
  reason     TEXT,                        -- why skipped
  raw        BLOB,                        -- kept for messages that cannot be read again
  seen_at    TEXT NOT NULL
);
CREATE INDEX messages_series ON messages(series_id);
CREATE INDEX messages_in_reply_to ON messages(in_reply_to);

-- One revision of a series (cover letter or first patch Message-ID).
CREATE TABLE series (
  id          TEXT PRIMARY KEY,
  title       TEXT NOT NULL,
  revision    INTEGER NOT NULL,
  total       INTEGER NOT NULL,
  change_id   TEXT,
  author      TEXT,
  first_seen  TEXT NOT NULL,
  state       TEXT NOT NULL,              -- waiting | reviewed
  reviewed_at TEXT,
  previous_id TEXT                        -- the revision before, when linked
);
CREATE INDEX series_change_id ON series(change_id);

-- What the bot found, per series revision.
CREATE TABLE findings (
  series_id   TEXT NOT NULL,
  patch_id    TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  rule        TEXT NOT NULL,
  severity    TEXT NOT NULL,
  file        TEXT NOT NULL,
  line        INTEGER NOT NULL,
  message     TEXT NOT NULL,
  PRIMARY KEY (series_id, fingerprint)
);

-- The ledger: a post is recorded as pending before it is sent, posted after. The key makes a
-- second send of the same thing impossible.
CREATE TABLE posts (
  channel    TEXT NOT NULL,               -- mail, gitlab, github
  thread     TEXT NOT NULL,               -- Message-ID replied to, project!iid, owner/repo#n
  what       TEXT NOT NULL,               -- a finding fingerprint, "summary", "tracker", ...
  target     TEXT NOT NULL,               -- smtp, outbox, gitlab-discussions, github-review
  state      TEXT NOT NULL,               -- pending | posted | failed
  location   TEXT,                        -- Message-ID of the reply, discussion id, comment id, file
  detail     TEXT,
  created_at TEXT NOT NULL,
  posted_at  TEXT,
  PRIMARY KEY (channel, thread, what)
);

-- Webhook deliveries already handled (a re-delivery posts nothing).
CREATE TABLE deliveries (
  channel     TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  received_at TEXT NOT NULL,
  outcome     TEXT,
  PRIMARY KEY (channel, delivery_id)
);
