-- Series whose tracker a pass that can send no mail owes (src/channels/mail.ts): noted as their
-- reviews and replies are committed, tracked once at the end of the pass, and cleared with the
-- tracker they leave. A pass stopped before its end leaves them for the next one.
CREATE TABLE tracker_due (
  source    TEXT NOT NULL,                -- the mirror's inbox
  series_id TEXT NOT NULL,
  PRIMARY KEY (source, series_id)
);
