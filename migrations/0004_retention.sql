-- Retention: whole ended sessions move from the log into an archive file
-- (src/store/sqlite-compaction.ts). Their chain rows stay, so the remaining
-- events still link and the archive can be proven against the chain; these
-- tables record what was removed and by which compaction (the revision of
-- its `log_compacted` event), and are append-only like the log.
CREATE TABLE removed_revisions (
  revision   INTEGER PRIMARY KEY,          -- an event moved to an archive; its hash stays in event_chain
  compaction INTEGER NOT NULL              -- revision of the log_compacted event that removed it
) STRICT;

CREATE TABLE removed_sessions (
  session_id TEXT    PRIMARY KEY,
  compaction INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Finds the sessions that ended before a time without reading the whole log.
CREATE INDEX events_by_ending ON events (time) WHERE kind IN ('session_closed', 'session_expired');

-- The one sanctioned DELETE: of a revision recorded as removed, in the same
-- transaction. Everything else (and every UPDATE) still fails loudly.
DROP TRIGGER events_are_append_only_delete;
CREATE TRIGGER events_delete_only_removed BEFORE DELETE ON events
WHEN NOT EXISTS (SELECT 1 FROM removed_revisions WHERE revision = OLD.revision)
BEGIN
  SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TRIGGER removed_revisions_are_append_only_update BEFORE UPDATE ON removed_revisions
BEGIN
  SELECT RAISE(ABORT, 'removed_revisions is append-only');
END;
CREATE TRIGGER removed_revisions_are_append_only_delete BEFORE DELETE ON removed_revisions
BEGIN
  SELECT RAISE(ABORT, 'removed_revisions is append-only');
END;
CREATE TRIGGER removed_sessions_are_append_only_update BEFORE UPDATE ON removed_sessions
BEGIN
  SELECT RAISE(ABORT, 'removed_sessions is append-only');
END;
CREATE TRIGGER removed_sessions_are_append_only_delete BEFORE DELETE ON removed_sessions
BEGIN
  SELECT RAISE(ABORT, 'removed_sessions is append-only');
END;
