/**
 * The audit source on PostgreSQL: one connection of its own (no pool, no
 * LISTEN: a CLI command reads and ends). A view is a REPEATABLE READ, READ
 * ONLY transaction, so a long audit, export or verify sees one state of the
 * log while nodes keep appending. Reading never migrates: a schema that is
 * missing, older or newer than this code is refused, as on SQLite.
 */
import pg from 'pg';
import type { AuditSource, AuditView, ImportTarget, LogImporter } from './audit-source.js';
import { checkHistory, loadMigrations, MigrationError } from './migrations.js';
import { PostgresAuditView } from './postgres-audit-view.js';
import { PostgresImporter } from './postgres-importer.js';
import { migratePostgres, POSTGRES_MIGRATIONS_DIR, readApplied } from './postgres-migrations.js';
import { PG_TYPES } from './postgres-types.js';

const CONNECT_TIMEOUT_MS = 10_000;

export class PostgresAuditSource implements AuditSource, ImportTarget {
  private constructor(private readonly client: pg.Client) {}

  /** Connects; `read` checks the schema is fully migrated, `write` migrates it (under the advisory lock). */
  static async open(connectionString: string, mode: 'read' | 'write'): Promise<PostgresAuditSource> {
    // A command run by hand against an unreachable host should say so, not wait for TCP to give up.
    const client = new pg.Client({ connectionString, types: PG_TYPES, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    // A connection the server drops fails the next query; without a listener it would crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
      if (mode === 'write') {
        await migratePostgres(client);
      } else {
        const applied = await readApplied(client);
        const migrations = loadMigrations(POSTGRES_MIGRATIONS_DIR);
        checkHistory(applied, migrations);
        if (applied.length < migrations.length) {
          throw new MigrationError('the database is not fully migrated; start a varledger server on it once to migrate it');
        }
      }
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return new PostgresAuditSource(client);
  }

  async read<T>(fn: (view: AuditView) => Promise<T>): Promise<T> {
    await this.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      return await fn(new PostgresAuditView(this.client));
    } finally {
      await this.client.query('ROLLBACK').catch(() => undefined);
    }
  }

  startImport(): Promise<LogImporter> {
    return PostgresImporter.start(this.client);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
