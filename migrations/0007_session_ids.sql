-- ListSessions pages through the ids of every session ever created, ended
-- ones included (they are no longer held in memory): `session_id > ? AND
-- kind = 'session_created' ORDER BY session_id`. Through events_by_session
-- that walks every event of every session on the page; this partial index
-- holds one row per session, its creation, so a page reads one index entry
-- per session it returns. Appends other than session_created do not touch it.
CREATE INDEX session_ids ON events (session_id) WHERE kind = 'session_created';
