-- The look-back for earlier revisions walks an author's patches newest first and stops at the
-- first few related ones. Indexed by author alone, every one of the author's patches was read
-- and sorted first (about 250 per author in the 100k bench archive, more for a busy
-- maintainer); with the archive time in the key they come in order and the walk stops early.
-- Same rows, same partial condition, so an insert costs what it did.
DROP INDEX IF EXISTS messages_author_patches;
CREATE INDEX messages_author_patches ON messages(author, arrived_at) WHERE kind IN ('patch', 'cover');

-- A reply in a thread makes the tracker ask which reviewed series the thread holds. Most
-- threads hold none; through the thread index each of their messages was read to find that
-- out. Only reviewed messages carry a series id: this index holds just those.
CREATE INDEX messages_reviewed_thread ON messages(thread, series_id) WHERE series_id IS NOT NULL;
