/**
 * The migrations runner for SQLite: checks the applied history
 * (migrations.ts), then applies what is pending in one IMMEDIATE transaction.
 */
import type Database from 'better-sqlite3';
import { checkHistory, label, type AppliedRow, type Migration } from './migrations.js';

/**
 * Verifies the applied history against `migrations`, then applies the
 * pending ones in one transaction. Returns the labels it applied.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[]): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    checksum   TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`);
  return db
    .transaction(() => {
      const applied = db.prepare('SELECT version, name, checksum FROM schema_migrations ORDER BY version').all() as AppliedRow[];
      checkHistory(applied, migrations);
      const pending = migrations.slice(applied.length);
      const record = db.prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)');
      for (const m of pending) {
        db.exec(m.sql);
        record.run(m.version, m.name, m.checksum, Date.now());
      }
      return pending.map(label);
    })
    .immediate();
}

