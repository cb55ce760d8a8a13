-- `audit --variable NAME` matches every variable ever registered with that
-- name: the registrations are found by the name in their JSON payload. With
-- no index on it, that lookup read every row of the log (a sequential scan
-- of `events`). This partial expression index holds only registrations, and
-- its expression must stay exactly the one the query uses
-- (src/store/postgres-audit-view.ts, NAME) or the planner cannot use it.
-- On an existing log the build reads the registrations once and blocks
-- appends while it runs (a migration runs in a transaction, so not
-- CONCURRENTLY).
CREATE INDEX events_registered_by_name ON events (((payload::jsonb ->> 'name'))) WHERE kind = 'variable_registered';
