-- Retention on PostgreSQL: the same tables and rule as on SQLite
-- (migrations/0004_retention.sql). Deleted rows are reclaimed by autovacuum.
CREATE TABLE removed_revisions (
  revision   bigint PRIMARY KEY,           -- an event moved to an archive; its hash stays in event_chain
  compaction bigint NOT NULL               -- revision of the log_compacted event that removed it
);

CREATE TABLE removed_sessions (
  session_id text   PRIMARY KEY,
  compaction bigint NOT NULL
);

CREATE INDEX events_by_ending ON events (time) WHERE kind IN ('session_closed', 'session_expired');

-- The one sanctioned DELETE: of a revision recorded as removed (in the same
-- transaction). UPDATE, other DELETEs and TRUNCATE still fail loudly.
CREATE FUNCTION varledger_delete_only_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM removed_revisions WHERE revision = OLD.revision) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '% is append-only (retention deletes only revisions recorded in removed_revisions)', TG_TABLE_NAME;
END
$$;

DROP TRIGGER events_are_append_only ON events;
CREATE TRIGGER events_are_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION varledger_delete_only_removed();

CREATE TRIGGER removed_revisions_are_append_only BEFORE UPDATE OR DELETE ON removed_revisions
  FOR EACH ROW EXECUTE FUNCTION varledger_refuse_rewrite();
CREATE TRIGGER removed_revisions_are_never_truncated BEFORE TRUNCATE ON removed_revisions
  FOR EACH STATEMENT EXECUTE FUNCTION varledger_refuse_rewrite();
CREATE TRIGGER removed_sessions_are_append_only BEFORE UPDATE OR DELETE ON removed_sessions
  FOR EACH ROW EXECUTE FUNCTION varledger_refuse_rewrite();
CREATE TRIGGER removed_sessions_are_never_truncated BEFORE TRUNCATE ON removed_sessions
  FOR EACH STATEMENT EXECUTE FUNCTION varledger_refuse_rewrite();
