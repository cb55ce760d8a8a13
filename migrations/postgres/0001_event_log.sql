-- The append-only event log on PostgreSQL, shared by every varledger node.
-- Same columns and meaning as the SQLite log (migrations/0001_event_log.sql),
-- so an export from one imports into the other with the same hash chain.
CREATE TABLE events (
  revision    bigint PRIMARY KEY,           -- global, gapless position (1, 2, 3 …)
  commit_id   bigint NOT NULL,              -- revision of the first event of its commit
  session_id  text   NOT NULL,
  variable_id text,                         -- NULL for session events
  kind        text   NOT NULL,
  version     bigint,                       -- the variable's version after the event
  time        bigint NOT NULL,              -- milliseconds since the Unix epoch
  actor       text   NOT NULL,
  payload     text   NOT NULL               -- JSON text, byte-for-byte what the chain hashed
);

CREATE INDEX events_by_session ON events (session_id, revision);
CREATE INDEX events_by_variable ON events (variable_id, version) WHERE variable_id IS NOT NULL;

-- Tamper evidence, as on SQLite (src/store/hash-chain.ts).
CREATE TABLE event_chain (
  revision bigint PRIMARY KEY,
  hash     text   NOT NULL
);

-- The head of the log. Every append locks this one row FOR UPDATE, which
-- serialises appends across nodes in commit order: revisions stay gapless
-- and each hash is chained to the one committed just before it.
CREATE TABLE log_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  revision  bigint  NOT NULL,
  hash      text    NOT NULL
);
INSERT INTO log_head (revision, hash) VALUES (0, repeat('0', 64));

-- Normal operation never rewrites history: make an accidental UPDATE,
-- DELETE or TRUNCATE fail loudly instead of silently corrupting the log.
CREATE FUNCTION varledger_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;

CREATE TRIGGER events_are_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION varledger_refuse_rewrite();
CREATE TRIGGER events_are_never_truncated BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION varledger_refuse_rewrite();
CREATE TRIGGER event_chain_is_append_only BEFORE UPDATE OR DELETE ON event_chain
  FOR EACH ROW EXECUTE FUNCTION varledger_refuse_rewrite();
CREATE TRIGGER event_chain_is_never_truncated BEFORE TRUNCATE ON event_chain
  FOR EACH STATEMENT EXECUTE FUNCTION varledger_refuse_rewrite();
