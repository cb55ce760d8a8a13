-- Liveness every process agrees on: when each session was last used, written
-- coarsely (at most every ttl/4 per session) by whichever process served the
-- call. Not part of the log (reads and heartbeats are not facts worth an
-- event); expiry is an event, appended only if nobody used the session since
-- the activity it was decided from (see src/service/session-liveness.ts).
CREATE TABLE session_activity (
  session_id  TEXT    PRIMARY KEY,
  last_active INTEGER NOT NULL            -- milliseconds since the Unix epoch
) STRICT, WITHOUT ROWID;
