-- The heads a forge change was pushed with, in the order the bot learnt of them. GitLab lists
-- its diff versions itself; GitHub keeps no list of earlier pushes, so the tracker reads the
-- revisions before the current one from here (a lost store is rebuilt from the heads review
-- comments were made on, and from the `before` of a push).
CREATE TABLE forge_heads (
  channel  TEXT NOT NULL,                 -- github, gitlab
  thread   TEXT NOT NULL,                 -- owner/repo#n, project!iid
  head_sha TEXT NOT NULL,
  seen_at  TEXT NOT NULL,                 -- when it became the head, as near as the bot knows
  PRIMARY KEY (channel, thread, head_sha)
);
