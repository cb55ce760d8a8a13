-- `audit --variable NAME` matches every variable ever registered with that
-- name, found by the name in the registration's JSON payload. With no index
-- on it that lookup read every row of the log: 130–150 ms on 1,000,000
-- events, 4–5 ms with this partial expression index, which holds only
-- registrations (appends of other kinds do not touch it). Its expression must
-- stay exactly the one the query uses (src/store/sqlite-audit-queries.ts,
-- NAME), or SQLite cannot use it. On an existing log the first start after
-- the upgrade builds it with one read of the log.
CREATE INDEX events_registered_by_name ON events (json_extract(payload, '$.name')) WHERE kind = 'variable_registered';
