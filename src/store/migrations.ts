/**
 * Migrations: loading and checking, for every dialect. Files in
 * migrations/ (SQLite) and migrations/postgres/ are named NNNN_name.sql, numbered
 * from 1 without gaps, and never edited once released. The database records
 * each applied file with a SHA-256 checksum; a history that is missing,
 * reordered, edited or newer than this code is refused with a clear message
 * rather than guessed at.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** migrations/ at the package root. */
export const DEFAULT_MIGRATIONS_DIR = join(PACKAGE_ROOT, 'migrations');

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export const label = (m: { version: number; name: string }) => `${String(m.version).padStart(4, '0')}_${m.name}`;

export function loadMigrations(dir = DEFAULT_MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((file) => {
      const match = FILE_NAME.exec(file);
      if (!match) throw new MigrationError(`Migration file ${file} is not named NNNN_name.sql`);
      const sql = readFileSync(join(dir, file), 'utf8');
      return {
        version: Number(match[1]),
        name: match[2] as string,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new MigrationError(`Migration ${label(m)} is out of sequence: expected number ${i + 1}`);
  });
  return migrations;
}

export interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
}

/** Throws MigrationError unless `applied` is a prefix of `migrations`. */
export function checkHistory(applied: readonly AppliedRow[], migrations: readonly Migration[]): void {
  applied.forEach((row, i) => {
    const expected = migrations[i];
    if (row.version !== i + 1) {
      throw new MigrationError(
        `Database migration history is missing ${label({ version: i + 1, name: expected?.name ?? '?' })}: found ${label(row)} in its place`,
      );
    }
    if (!expected) {
      throw new MigrationError(
        `Database has migration ${label(row)}, which this code does not know: the database is newer than this varledger`,
      );
    }
    if (row.name !== expected.name) {
      throw new MigrationError(`Database applied ${label(row)} where this code has ${label(expected)}: migrations were reordered or renamed`);
    }
    if (row.checksum !== expected.checksum) {
      throw new MigrationError(`Migration ${label(expected)} was edited after it was applied (checksum differs)`);
    }
  });
}
