-- Review feedback tracked across revisions (src/feedback): which revision follows which, the
-- items found in replies with the verdict each has against the later revision, and the tracker
-- as last written to each thread, so it is updated in place rather than posted again.

CREATE TABLE revision_links (
  series_id   TEXT NOT NULL,              -- the later revision: Message-ID of its thread root
  previous_id TEXT NOT NULL,              -- the revision it follows (or repeats, for a RESEND)
  how         TEXT NOT NULL,              -- change-id | in-reply-to | link | subject | patch-subjects
  detail      TEXT NOT NULL,
  resend      INTEGER NOT NULL DEFAULT 0,
  linked_at   TEXT NOT NULL,
  PRIMARY KEY (series_id, previous_id)
);
CREATE INDEX revision_links_previous ON revision_links(previous_id);

CREATE TABLE feedback_items (
  series_id  TEXT NOT NULL,               -- the revision the item is judged against
  item_id    TEXT NOT NULL,               -- "1.3": third point raised on v1
  source     TEXT NOT NULL,               -- Message-ID (or discussion/comment id) of the reply
  author     TEXT NOT NULL,               -- "Name <email>"
  version    INTEGER NOT NULL,            -- the revision it was raised on
  patch      TEXT NOT NULL,               -- "1/3"; "0/3" for the cover letter
  kind       TEXT NOT NULL,               -- change requested | question | objection | suggestion | ack
  text       TEXT NOT NULL,
  verdict    TEXT NOT NULL,               -- addressed | not addressed | answered | obsolete | unclear
  evidence   TEXT NOT NULL,               -- JSON array of strings
  updated_at TEXT NOT NULL,
  PRIMARY KEY (series_id, item_id)
);
CREATE INDEX feedback_items_source ON feedback_items(source);

CREATE TABLE trackers (
  channel    TEXT NOT NULL,               -- mail, gitlab, github
  thread     TEXT NOT NULL,               -- Message-ID of the cover letter, project!iid, owner/repo#n
  series_id  TEXT NOT NULL,
  digest     TEXT NOT NULL,               -- sha256 of the body: the same digest, nothing to write
  body       TEXT NOT NULL,
  writes     INTEGER NOT NULL,            -- 1 when first written, +1 per update
  updated_at TEXT NOT NULL,
  PRIMARY KEY (channel, thread)
);
