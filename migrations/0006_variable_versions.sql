-- The per-variable index, off the commit path (issue 12). `events_by_variable`
-- kept each variable's entries together, so a commit dirtied one index page
-- per variable it touched, and a WAL commit writes every dirty page whole: a
-- commit of 100 sets over 100 variables wrote ~100 index pages (19 µs per
-- event, 7 µs without the index). Now the index is a side table filled in
-- bulk: commits add no rows to it; an append that leaves more than a bounded
-- tail of unindexed events indexes that whole tail in the same transaction
-- (src/store/sqlite-variable-index.ts), so the events of many commits share
-- each index page written. A read merges the index, which covers every event
-- up to `indexed_through`, with the short tail after it (`variable_events`).
DROP INDEX events_by_variable;

CREATE TABLE variable_versions (
  variable_id TEXT    NOT NULL,
  version     INTEGER NOT NULL,            -- the event's version; -1 when it has none (only a hand-made import can do that)
  revision    INTEGER NOT NULL,            -- part of the key: a deletion keeps the version of the variable's last value
  PRIMARY KEY (variable_id, version, revision)
) STRICT, WITHOUT ROWID;

-- One row: every event at or below `indexed_through` that has a variable id
-- has its row in variable_versions; none above it does.
CREATE TABLE variable_index_state (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  indexed_through INTEGER NOT NULL
) STRICT;

INSERT INTO variable_versions (variable_id, version, revision)
  SELECT variable_id, coalesce(version, -1), revision FROM events WHERE variable_id IS NOT NULL ORDER BY 1, 2, 3;
INSERT INTO variable_index_state (id, indexed_through) SELECT 1, coalesce(max(revision), 0) FROM events;

-- Every event that has a variable id: the index up to the watermark, then
-- the tail after it (a revision-range scan, as short as the tail). A filter
-- on variable_id reaches both halves, so `revision IN (SELECT revision FROM
-- variable_events WHERE variable_id = ?)` reads one variable's index entries
-- and the tail, never the whole log.
CREATE VIEW variable_events (revision, variable_id, version) AS
  SELECT revision, variable_id, version FROM variable_versions
  UNION ALL
  SELECT revision, variable_id, coalesce(version, -1) FROM events
  WHERE revision > (SELECT indexed_through FROM variable_index_state) AND variable_id IS NOT NULL;
