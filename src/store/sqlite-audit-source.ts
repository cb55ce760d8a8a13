/**
 * The audit source over a SQLite file: the synchronous queries of
 * sqlite-audit-queries.ts and the file's own reads, behind the async
 * AuditSource contract. A view is one read transaction (WAL keeps it on one
 * state of the file while a server appends); streams page the rows of one
 * statement, which stays open between pages.
 */
import type { Revision } from '../domain/index.js';
import { AUDIT_PAGE_ROWS, type AuditSource, type AuditView, type ImportTarget, type LogImporter, type SnapshotInfo } from './audit-source.js';
import { AuditQueries } from './sqlite-audit-queries.js';
import type { SqliteEventStore } from './sqlite-event-store.js';

/**
 * Pages of the rows a statement yields. The statement runs only when the
 * first page is asked for, and closes when the pages end or their reader
 * stops early (a `break` returns the generator, which closes the for-of).
 */
async function* pagesOf<T>(rows: () => Iterable<T>, size = AUDIT_PAGE_ROWS): AsyncGenerator<T[]> {
  let page: T[] = [];
  for (const row of rows()) {
    page.push(row);
    if (page.length >= size) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

function viewOf(file: SqliteEventStore, queries: AuditQueries): AuditView {
  return {
    head: async () => file.head(),
    chainHead: async () => file.digest(),
    events: (filter) => pagesOf(() => queries.events(filter)),
    nthNewestRevision: async (filter, n) => queries.nthNewestRevision(filter, n),
    variableEventsBetween: (variableId, after, before) => pagesOf(() => queries.variableEventsBetween(variableId, after, before)),
    variableNames: async (variableIds) => {
      const names = new Map<string, string>();
      for (const id of variableIds) {
        const name = queries.variableName(id);
        if (name !== undefined) names.set(id, name);
      }
      return names;
    },
    findVariable: async (sessionId, identifier) => queries.findVariable(sessionId, identifier),
    eventsOfVariable: async (sessionId, variableId) => queries.eventsOfVariable(sessionId, variableId),
    lastRevisionAt: async (time) => queries.lastRevisionAt(time),
    readSession: async (sessionId, upTo) => file.readSession(sessionId, upTo as Revision),
    chainedRows: () => pagesOf(() => file.rowsWithHashes()),
    removedRuns: () => pagesOf(() => file.retentionRecords.removedRuns()),
    chainHashes: async (revisions) => file.retentionRecords.chainHashes(revisions),
    removedBy: async (revisions) => file.retentionRecords.removedRevisions(revisions),
    snapshots: async (atOrBelow) => file.snapshots.list(atOrBelow),
    snapshotRows: async (info: SnapshotInfo) => {
      const { rows, intact } = file.snapshots.rows(info);
      return { rows: rows.map((r) => [r.sessionId, r.state] as const), intact };
    },
  };
}

export class SqliteAuditSource implements AuditSource, ImportTarget {
  /** Takes over the file: `close` closes it. */
  constructor(private readonly file: SqliteEventStore) {}

  async read<T>(fn: (view: AuditView) => Promise<T>): Promise<T> {
    const { db } = this.file;
    // Deferred: the first read fixes the state every later read of the view sees.
    db.exec('BEGIN');
    try {
      return await fn(viewOf(this.file, this.file.auditQueries()));
    } finally {
      // A read transaction has nothing to keep; ROLLBACK also ends it with a statement still open.
      if (db.open && db.inTransaction) db.exec('ROLLBACK');
    }
  }

  async startImport(): Promise<LogImporter> {
    const importer = this.file.startImport();
    return {
      add: async (row) => importer.add(row),
      commit: async () => importer.commit(),
      rollback: async () => importer.rollback(),
    };
  }

  async close(): Promise<void> {
    this.file.close();
  }
}
