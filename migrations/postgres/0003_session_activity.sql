-- Liveness every node agrees on: when each session was last used, written
-- coarsely (at most every ttl/4 per session) by whichever node served the
-- call. Not part of the log; expiry is an event, appended only if nobody
-- used the session since the activity it was decided from (see
-- src/service/session-liveness.ts and AppendCommit.activeNoLaterThan).
CREATE TABLE session_activity (
  session_id  text   PRIMARY KEY,
  last_active bigint NOT NULL              -- milliseconds since the Unix epoch
);
