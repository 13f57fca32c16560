-- A message that could be an untagged cover letter asks which numbered patches of a series answer
-- it (patch/thread.ts untaggedCoverFor). Indexed only for those patches, so the other messages of
-- a backfill pay nothing, and the question is no longer a scan of every message.
CREATE INDEX messages_series_patch_parent ON messages(in_reply_to) WHERE kind = 'patch' AND patch_total >= 2;
