/**
 * The migrations runner for PostgreSQL: the same rules as on SQLite
 * (migrations.ts: numbered, checksummed, a missing, edited, reordered or
 * newer history is refused), with the files of migrations/postgres/, and
 * applied under a transaction-scoped advisory lock so that several nodes
 * starting at once never race: the first applies, the others wait, then find
 * nothing pending.
 */
import { join } from 'node:path';
import type { ClientBase } from 'pg';
import { PACKAGE_ROOT } from '../package-root.js';
import { checkHistory, label, loadMigrations, type AppliedRow, type Migration } from './migrations.js';

export const POSTGRES_MIGRATIONS_DIR = join(PACKAGE_ROOT, 'migrations', 'postgres');

/** Any fixed 64-bit key; every node must use the same one. */
const MIGRATION_LOCK_KEY = 7_361_201_511n;

/**
 * Verifies the applied history against the migrations, then applies the
 * pending ones, all in one transaction. Returns the labels it applied.
 */
export async function migratePostgres(client: ClientBase, migrations: readonly Migration[] = loadMigrations(POSTGRES_MIGRATIONS_DIR)): Promise<string[]> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text    NOT NULL,
      checksum   text    NOT NULL,
      applied_at bigint  NOT NULL
    )`);
    const applied = await readApplied(client);
    checkHistory(applied, migrations);
    const pending = migrations.slice(applied.length);
    for (const m of pending) {
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)', [
        m.version,
        m.name,
        m.checksum,
        Date.now(),
      ]);
    }
    await client.query('COMMIT');
    return pending.map(label);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The applied history; empty when the schema was never migrated. */
export async function readApplied(client: ClientBase): Promise<AppliedRow[]> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('schema_migrations') AS t");
  if (!exists.rows[0]?.t) return [];
  const result = await client.query<AppliedRow>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
  return result.rows;
}
