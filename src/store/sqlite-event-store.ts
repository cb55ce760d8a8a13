/**
 * The SQLite event store: WAL journal, one row per event, revisions assigned
 * inside an IMMEDIATE transaction so they stay gapless even when another
 * process writes to the same file.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { NewEvent, Revision, SessionId, StoredEvent } from '../domain/index.js';
import { EVENT_COLUMNS, fromRow, toRow, type EventRow } from './event-codec.js';
import type { Durability, EventStore, WriteTransaction } from './event-store.js';
import { loadMigrations, migrate } from './migrations.js';

export interface SqliteStoreOptions {
  readonly durability?: Durability;
  /** Directory of NNNN_name.sql files; defaults to the package's migrations/. */
  readonly migrationsDir?: string;
}

/** Waits this long for another process's write lock before failing. */
const BUSY_TIMEOUT_MS = 5_000;

export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly insertRow: Database.Statement<EventRow>;
  private readonly selectHead: Database.Statement<[], number>;
  private readonly selectAfter: Database.Statement<[number, number], EventRow>;
  private readonly selectAll: Database.Statement<[], EventRow>;
  private readonly selectSession: Database.Statement<[string, number], EventRow>;
  private readonly selectSessionAfter: Database.Statement<[string, number, number], EventRow>;
  private readonly tx: WriteTransaction;
  /** Built once: better-sqlite3 makes new wrapper functions on every `transaction()` call. */
  private readonly runImmediate: (fn: (tx: WriteTransaction) => unknown) => unknown;
  /** The head inside the current write transaction, read once per transaction. */
  private txHead: Revision | undefined;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a process crash (kill -9); FULL also
    // survives power loss at the price of an fsync per commit.
    this.db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    migrate(this.db, loadMigrations(options.migrationsDir));

    this.insertRow = this.db.prepare(`INSERT INTO events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.selectHead = this.db.prepare<[], number>('SELECT coalesce(max(revision), 0) FROM events').pluck();
    this.selectAfter = this.db
      .prepare<[number, number], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE revision > ? ORDER BY revision LIMIT ?`)
      .raw();
    this.selectAll = this.db.prepare<[], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY revision`).raw();
    this.selectSession = this.db
      .prepare<[string, number], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE session_id = ? AND revision <= ? ORDER BY revision`,
      )
      .raw();
    this.selectSessionAfter = this.db
      .prepare<[string, number, number], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE session_id = ? AND revision > ? ORDER BY revision LIMIT ?`,
      )
      .raw();
    this.tx = {
      head: () => (this.txHead ??= this.head()),
      append: (events) => this.append(events),
    };
    const transaction = this.db.transaction((fn: (tx: WriteTransaction) => unknown) => {
      this.txHead = undefined;
      try {
        return fn(this.tx);
      } finally {
        this.txHead = undefined;
      }
    });
    this.runImmediate = (fn) => transaction.immediate(fn);
  }

  head(): Revision {
    return this.selectHead.get() as Revision;
  }

  write<T>(fn: (tx: WriteTransaction) => T): T {
    // IMMEDIATE takes the write lock up front, so the head read inside is
    // the head the appended revisions follow, even with other writers.
    return this.runImmediate(fn) as T;
  }

  private append(events: readonly NewEvent[]): StoredEvent[] {
    if (!this.db.inTransaction) throw new Error('append outside a write transaction');
    const first = this.tx.head() + 1;
    const stored = events.map((event, i) => {
      const row = toRow(event, first + i, first);
      this.insertRow.run(...row);
      return { ...event, revision: (first + i) as Revision, commitId: first as Revision };
    });
    this.txHead = (first + events.length - 1) as Revision;
    return stored;
  }

  readAfter(after: Revision, limit: number): StoredEvent[] {
    return this.selectAfter.all(after, limit).map(fromRow);
  }

  *readAll(): IterableIterator<StoredEvent> {
    for (const row of this.selectAll.iterate()) yield fromRow(row);
  }

  readSession(sessionId: SessionId, upTo: Revision): StoredEvent[] {
    return this.selectSession.all(sessionId, upTo).map(fromRow);
  }

  readSessionAfter(sessionId: SessionId, after: Revision, limit: number): StoredEvent[] {
    return this.selectSessionAfter.all(sessionId, after, limit).map(fromRow);
  }

  externalChangeCounter(): number {
    // SQLite bumps data_version when another connection commits to the file.
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
