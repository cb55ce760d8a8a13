/**
 * The PostgreSQL schema through the checksummed runner, against a real
 * server started for this file (test/helpers/postgres-server.ts).
 */
import test from 'ava';
import pg from 'pg';
import { loadMigrations, type Migration } from '../../src/store/migrations.js';
import { migratePostgres, POSTGRES_MIGRATIONS_DIR } from '../../src/store/postgres-migrations.js';
import { freshDatabase, usePostgres } from '../helpers/postgres-fixture.js';

usePostgres(test);

/** A pool on a fresh database, closed at teardown. */
async function freshPool(t: { teardown(fn: () => unknown): void }): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: await freshDatabase(), max: 2 });
  t.teardown(() => pool.end());
  return pool;
}

async function migrateWith(pool: pg.Pool, migrations?: readonly Migration[]) {
  const client = await pool.connect();
  try {
    return await migratePostgres(client, migrations);
  } finally {
    client.release();
  }
}

test('a fresh database is migrated once; a second start applies nothing', async (t) => {
  const pool = await freshPool(t);
  const all = loadMigrations(POSTGRES_MIGRATIONS_DIR);
  t.true(all.length >= 1);
  t.deepEqual(await migrateWith(pool), all.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`));
  t.deepEqual(await migrateWith(pool), []);
  const head = await pool.query('SELECT revision, hash FROM log_head');
  t.deepEqual(head.rows, [{ revision: '0', hash: '0'.repeat(64) }]);
});

test('nodes starting together never race: the advisory lock lets one apply and the others find nothing pending', async (t) => {
  const url = await freshDatabase();
  const runners = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: url, max: 1 }));
  t.teardown(() => Promise.all(runners.map((p) => p.end())));
  const results = await Promise.all(runners.map((p) => migrateWith(p)));
  t.is(results.filter((r) => r.length > 0).length, 1);
  const applied = await runners[0]!.query('SELECT count(*)::int AS n FROM schema_migrations');
  t.is(applied.rows[0].n, loadMigrations(POSTGRES_MIGRATIONS_DIR).length);
});

test('a migration edited after it was applied, or a database newer than the code, is refused', async (t) => {
  const pool = await freshPool(t);
  const all = loadMigrations(POSTGRES_MIGRATIONS_DIR);
  await migrateWith(pool);
  const edited = all.map((m, i) => (i === 0 ? { ...m, checksum: 'f'.repeat(64) } : m));
  await t.throwsAsync(migrateWith(pool, edited), { message: /was edited after it was applied/ });
  await t.throwsAsync(migrateWith(pool, all.slice(0, 0)), { message: /newer than this varledger/ });
});

test('events and the chain refuse UPDATE, DELETE and TRUNCATE', async (t) => {
  const pool = await freshPool(t);
  await migrateWith(pool);
  await pool.query(
    `INSERT INTO events (revision, commit_id, session_id, variable_id, kind, version, time, actor, payload)
     VALUES (1, 1, 's', NULL, 'session_created', NULL, 0, 'a', '{}')`,
  );
  await pool.query(`INSERT INTO event_chain (revision, hash) VALUES (1, '${'a'.repeat(64)}')`);
  for (const sql of [
    "UPDATE events SET actor = 'mallory'",
    'DELETE FROM events',
    'TRUNCATE events',
    "UPDATE event_chain SET hash = 'x'",
    'DELETE FROM event_chain',
    'TRUNCATE event_chain',
  ]) {
    await t.throwsAsync(pool.query(sql), { message: /append-only/ }, sql);
  }
  const rows = await pool.query('SELECT actor FROM events');
  t.deepEqual(rows.rows, [{ actor: 'a' }]);
});
