-- Tamper evidence: each event's SHA-256, chained to the one before it
-- (see src/store/hash-chain.ts for the exact encoding). Kept beside `events`
-- so that adding it never rewrites an event.
CREATE TABLE event_chain (
  revision INTEGER PRIMARY KEY,            -- the event this hash seals
  hash     TEXT    NOT NULL                -- lowercase hex SHA-256
) STRICT;

CREATE TRIGGER event_chain_is_append_only_update BEFORE UPDATE ON event_chain
BEGIN
  SELECT RAISE(ABORT, 'the hash chain is append-only');
END;

CREATE TRIGGER event_chain_is_append_only_delete BEFORE DELETE ON event_chain
BEGIN
  SELECT RAISE(ABORT, 'the hash chain is append-only');
END;

-- Snapshots of the projection: a cache folded from the log, never a source
-- of truth. One row per snapshot, one row per session in it.
CREATE TABLE snapshots (
  revision      INTEGER PRIMARY KEY,       -- the state after this event
  created_at    INTEGER NOT NULL,          -- milliseconds since the Unix epoch
  session_count INTEGER NOT NULL,
  checksum      TEXT    NOT NULL           -- SHA-256 over its session rows, checked on load
) STRICT;

CREATE TABLE snapshot_sessions (
  revision   INTEGER NOT NULL REFERENCES snapshots (revision),
  session_id TEXT    NOT NULL,
  state      TEXT    NOT NULL,             -- JSON, see src/store/snapshot-codec.ts
  PRIMARY KEY (revision, session_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX snapshot_sessions_by_session ON snapshot_sessions (session_id, revision);
