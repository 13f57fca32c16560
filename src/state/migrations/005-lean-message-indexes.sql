-- Every archived message lands in `messages`, so each index on it is paid on every insert of a
-- backfill (a random-key B-tree page dirtied per index per message). Keep the ones a query uses.

-- Nothing looks messages up by parent or by series id (threads are found by message_id and thread).
DROP INDEX IF EXISTS messages_series;
DROP INDEX IF EXISTS messages_in_reply_to;

-- Earlier revisions are looked for among an author's patches and cover letters only
-- (src/state/feedback.ts), a fraction of a list's traffic.
DROP INDEX IF EXISTS messages_author;
CREATE INDEX messages_author_patches ON messages(author) WHERE kind IN ('patch', 'cover');
