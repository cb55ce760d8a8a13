-- Snapshots per session (issue 12): a snapshot no longer copies every
-- session. A session's state is stored once per change that a snapshot saw,
-- keyed by the revision it holds from (the session's last change), and a
-- snapshot at R is the newest row of each session at or below R. Sessions
-- that did not change since the last snapshot cost nothing; an ended
-- session keeps one compact row (no variables) and none after it.
-- Snapshots are a cache, so the old per-snapshot copies are simply dropped.
DROP TABLE snapshot_sessions;
DELETE FROM snapshots;

-- `snapshots` keeps its columns; `checksum` now covers the snapshot's rows
-- as a set: the XOR of their row checksums (see src/store/snapshot-rows.ts).
CREATE TABLE snapshot_states (
  session_id TEXT    NOT NULL,
  revision   INTEGER NOT NULL,             -- the session's last change: the state holds from here to its next one
  ended      INTEGER NOT NULL,             -- 1: an ended session in compact form (no variables)
  state      TEXT    NOT NULL,             -- JSON, see src/store/snapshot-codec.ts
  checksum   TEXT    NOT NULL,             -- SHA-256 of session id, revision and state
  PRIMARY KEY (session_id, revision)
) STRICT, WITHOUT ROWID;

-- Pruning finds the rows that superseded older ones by revision range.
CREATE INDEX snapshot_states_by_revision ON snapshot_states (revision);
