-- ListSessions pages through the ids of every session ever created, ended
-- ones included, in byte order (COLLATE "C", as SQLite and JavaScript
-- compare them): `session_id COLLATE "C" > $1 AND kind = 'session_created'
-- ORDER BY session_id COLLATE "C"`. events_by_session uses the database's
-- default collation, which the planner cannot use for that order unless it is
-- C, so each page scanned the log. This partial index holds one row per
-- session, in that order. On an existing log the build reads the creations
-- once and blocks appends while it runs (a migration runs in a transaction).
CREATE INDEX session_ids ON events (session_id COLLATE "C") WHERE kind = 'session_created';
