-- The mailing-list channel: threads awaiting review, mail on its way out, opt-outs.

-- Where a message sits in its thread and in its series, and when the archive got it.
ALTER TABLE messages ADD COLUMN thread TEXT;             -- thread key: its root Message-ID
ALTER TABLE messages ADD COLUMN revision INTEGER;
ALTER TABLE messages ADD COLUMN patch_index INTEGER;
ALTER TABLE messages ADD COLUMN patch_total INTEGER;
ALTER TABLE messages ADD COLUMN arrived_at INTEGER;      -- archive time (commit date), unix seconds
CREATE INDEX messages_thread ON messages(thread);
-- Earlier revisions of a series are looked for by their author (src/state/feedback.ts).
CREATE INDEX messages_author ON messages(author);

-- A thread is reviewed when its series is complete or has waited long enough.
CREATE TABLE mail_threads (
  thread        TEXT PRIMARY KEY,
  source        TEXT NOT NULL,
  relevant      INTEGER NOT NULL DEFAULT 0,   -- a patch in it may touch the dma-buf surface
  waiting       INTEGER NOT NULL DEFAULT 0,   -- a patch or cover letter awaits review
  waiting_since INTEGER,                      -- archive time of the oldest one awaiting
  reviewed_at   TEXT
);
CREATE INDEX mail_threads_due ON mail_threads(relevant, waiting);

-- When the bot first read a source: what the archive held before is history, recorded and
-- reviewed but not answered (unless the mirror says otherwise).
CREATE TABLE mail_sources (
  source     TEXT PRIMARY KEY,
  first_read INTEGER NOT NULL                 -- unix seconds
);

-- A reply as it will be sent, kept until the ledger says it is posted: a restart sends exactly
-- these bytes again, under the same Message-ID.
CREATE TABLE mail_outgoing (
  message_id   TEXT PRIMARY KEY,
  channel      TEXT NOT NULL,
  thread       TEXT NOT NULL,                 -- the ledger key of the mail itself
  what         TEXT NOT NULL,
  fingerprints TEXT NOT NULL,                 -- JSON: findings carried, each with its own ledger row
  envelope     TEXT NOT NULL,                 -- JSON: {from, to[]}
  file_name    TEXT NOT NULL,                 -- name in the outbox directory
  raw          BLOB NOT NULL,
  created_at   TEXT NOT NULL
);

-- Authors who asked not to get automated reviews (a reply "dmabuf-review: opt-out").
CREATE TABLE opt_out (
  email  TEXT PRIMARY KEY,
  origin TEXT NOT NULL,                       -- Message-ID of the request, or "config"
  at     TEXT NOT NULL
);

-- An epoch that could not be read at all: the loop goes on with the others.
CREATE TABLE archive_errors (
  source TEXT NOT NULL,
  epoch  TEXT NOT NULL,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL,
  at     TEXT NOT NULL
);
