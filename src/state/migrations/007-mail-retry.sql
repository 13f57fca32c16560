-- Delivery attempts of a post that did not go out at once (mail over SMTP): how often it was
-- tried, when it is tried again, and why it did not go. A restart keeps the backoff it was in.
ALTER TABLE posts ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN next_try_at TEXT;             -- ISO time; NULL: due now
ALTER TABLE posts ADD COLUMN error_kind TEXT;              -- temporary | configuration | final
ALTER TABLE posts ADD COLUMN error_scope TEXT;             -- server (every mail) | message (this one)
ALTER TABLE posts ADD COLUMN last_error TEXT;
ALTER TABLE posts ADD COLUMN last_error_at TEXT;

-- What was delivered in the last hour, for the hard hourly cap: only rows a transport sent.
CREATE INDEX posts_sent ON posts (channel, posted_at) WHERE attempts > 0;

-- The posts not yet done with (pending, failed): few, read on every flush, among every post
-- ever made. And the stored mail by its ledger key, to go from such a post to its mail.
CREATE INDEX posts_open ON posts (channel, state) WHERE state != 'posted';
CREATE INDEX mail_outgoing_key ON mail_outgoing (channel, thread, what);
