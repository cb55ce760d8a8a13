-- The append-only event log: one row per event, the only source of truth.
CREATE TABLE events (
  revision    INTEGER PRIMARY KEY,          -- global, gapless position (1, 2, 3 …)
  commit_id   INTEGER NOT NULL,             -- revision of the first event of its transaction
  session_id  TEXT    NOT NULL,
  variable_id TEXT,                         -- NULL for session events
  kind        TEXT    NOT NULL,
  version     INTEGER,                      -- the variable's version after the event
  time        INTEGER NOT NULL,             -- milliseconds since the Unix epoch
  actor       TEXT    NOT NULL,
  payload     TEXT    NOT NULL              -- JSON: value, type, constraints, metadata …
) STRICT;

CREATE INDEX events_by_session ON events (session_id, revision);
CREATE INDEX events_by_variable ON events (variable_id, version) WHERE variable_id IS NOT NULL;

-- Normal operation never rewrites history; these make an accidental UPDATE
-- or DELETE fail loudly instead of silently corrupting the log.
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN
  SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN
  SELECT RAISE(ABORT, 'events are append-only');
END;
