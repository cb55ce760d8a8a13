-- Snapshots of the projection: a cache folded from the log, never a source
-- of truth. One row per snapshot, one row per session in it.
CREATE TABLE snapshots (
  revision      bigint  PRIMARY KEY,        -- the state after this event
  created_at    bigint  NOT NULL,           -- milliseconds since the Unix epoch
  session_count integer NOT NULL,
  checksum      text    NOT NULL            -- SHA-256 over its session rows, checked on load
);

CREATE TABLE snapshot_sessions (
  revision   bigint NOT NULL REFERENCES snapshots (revision) ON DELETE CASCADE,
  session_id text   NOT NULL,
  state      text   NOT NULL,               -- JSON, see src/store/snapshot-codec.ts
  PRIMARY KEY (revision, session_id)
);

CREATE INDEX snapshot_sessions_by_session ON snapshot_sessions (session_id, revision);
