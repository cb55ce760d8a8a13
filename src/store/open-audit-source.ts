/**
 * Opens the log a StoreLocation names for the audit commands. As in
 * open-event-store.ts, the PostgreSQL driver is loaded only when a
 * PostgreSQL log is asked for.
 */
import type { AuditSource, ImportTarget } from './audit-source.js';
import { SqliteAuditSource } from './sqlite-audit-source.js';
import { SqliteEventStore } from './sqlite-event-store.js';
import type { StoreLocation } from './store-location.js';

/** Opens an existing, fully migrated log for reading only: no migration, no write lock, safe beside running servers. */
export async function openAuditSource(location: StoreLocation): Promise<AuditSource> {
  if (location.kind === 'postgres') {
    const { PostgresAuditSource } = await import('./postgres-audit-source.js');
    return PostgresAuditSource.open(location.url, 'read');
  }
  return new SqliteAuditSource(new SqliteEventStore(location.path, { readonly: true }));
}

/** Opens a log for an import, creating and migrating it when needed. */
export async function openImportTarget(location: StoreLocation): Promise<ImportTarget> {
  if (location.kind === 'postgres') {
    const { PostgresAuditSource } = await import('./postgres-audit-source.js');
    return PostgresAuditSource.open(location.url, 'write');
  }
  return new SqliteAuditSource(new SqliteEventStore(location.path));
}
