/**
 * The SQLite file: WAL journal, one row per event, revisions assigned inside
 * an IMMEDIATE transaction so they stay gapless even when another process
 * writes to the same file; each event sealed into the hash chain in the same
 * transaction. Synchronous, as better-sqlite3 is: the server reaches it
 * through the asynchronous contract in sqlite-log.ts; the CLI and tests use
 * it directly.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { storedEvent, type NewEvent, type Revision, type SessionId, type StoredEvent, type VariableId } from '../domain/index.js';
import { EVENT_COLUMNS, fromRow, toRow, type EventRow } from './event-codec.js';
import { AppendConflict, type AppendCommit, type AppendOutcome, type Durability, type StorageStats } from './event-store.js';
import { chainHash, GENESIS_HASH, type Digest } from './hash-chain.js';
import { checkHistory, loadMigrations, MigrationError } from './migrations.js';
import { migrate } from './sqlite-migrations.js';
import { SnapshotTable } from './sqlite-snapshots.js';
import { AuditQueries } from './sqlite-audit-queries.js';
import { EventImporter } from './sqlite-importer.js';
import { SqliteCompaction } from './sqlite-compaction.js';
import type { CompactionRequest, CompactionResult } from './compaction.js';
import { VariableIndex } from './sqlite-variable-index.js';
import { RowInserter } from './sqlite-row-inserter.js';
import { DEFAULT_CACHE_MIB } from './sqlite-page-cache.js';

/** Operations valid only inside `SqliteEventStore.write` (tools and tests). */
export interface WriteTransaction {
  /** The newest revision in the log, including writes by other processes. */
  head(): Revision;
  /** Appends events as one commit; returns them with revisions and commit id. */
  append(events: readonly NewEvent[]): StoredEvent[];
}

export interface SqliteStoreOptions {
  readonly durability?: Durability;
  /** Directory of NNNN_name.sql files; defaults to the package's migrations/. */
  readonly migrationsDir?: string;
  /**
   * Opens for reading only (the CLI's audit commands, safe beside a running
   * server): applies no migration and refuses a database not fully migrated.
   */
  readonly readonly?: boolean;
  /** How many unindexed events an append may leave for reads to scan (sqlite-variable-index.ts); small in tests. */
  readonly variableIndexTail?: number;
  /** The connection's page cache, MiB (default DEFAULT_CACHE_MIB). */
  readonly cacheMiB?: number;
}


/** Rows of appended events not inserted yet (see `append`). */
interface PendingRows {
  readonly events: EventRow[];
  readonly chain: [number, string][];
}

/** Waits this long for another process's write lock before failing. */
const BUSY_TIMEOUT_MS = 5_000;

/** Event kinds that give a variable a new value, for history. */
const VALUE_KINDS = "('variable_registered', 'variable_set', 'variable_rolled_back')";

/** `events` columns of the event joined to its variable_versions row `v`, with the version taken from `v` (see `history`). */
const INDEXED_EVENT_COLUMNS = EVENT_COLUMNS.split(', ')
  .map((c) => (c === 'version' ? 'v.version' : `e.${c}`))
  .join(', ');

/** The unindexed tail (migrations/0006_variable_versions.sql): a revision-range scan no longer than the tail. */
const IN_TAIL = 'revision > (SELECT indexed_through FROM variable_index_state)';

export class SqliteEventStore {
  readonly db: Database.Database;
  readonly snapshots: SnapshotTable;
  private readonly compaction: SqliteCompaction;
  private readonly variableIndex: VariableIndex;
  /** Multi-row inserts of a commit's events and their chain hashes (sqlite-row-inserter.ts). */
  private readonly eventRows: RowInserter<EventRow>;
  private readonly chainRows: RowInserter<[number, string]>;
  /** True once the current write transaction appended (its tail may need indexing). */
  private appendedInTx = false;
  private readonly statements;
  private readonly tx: WriteTransaction;
  /** Built once: better-sqlite3 makes new wrapper functions on every `transaction()` call. */
  private readonly runImmediate: (fn: (tx: WriteTransaction) => unknown) => unknown;
  /** Chain head inside the current write transaction, read once per transaction. */
  private txHead: Digest | undefined;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    if (options.readonly) {
      this.db = new Database(path, { readonly: true, fileMustExist: true });
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      const applied = this.db.prepare('SELECT version, name, checksum FROM schema_migrations ORDER BY version').all() as Parameters<
        typeof checkHistory
      >[0];
      const migrations = loadMigrations(options.migrationsDir);
      checkHistory(applied, migrations);
      if (applied.length < migrations.length) {
        throw new MigrationError(`Database ${path} is not fully migrated; start the server on it once to migrate it`);
      }
    } else {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path);
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      // Takes effect only in a new, empty file (before its first table): retention can then give
      // freed pages back cheaply (sqlite-compaction.ts); older files are converted on their first compaction.
      this.db.pragma('auto_vacuum = INCREMENTAL');
      this.db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode survives a process crash (kill -9); FULL also
      // survives power loss at the price of an fsync per commit.
      this.db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      // Each logical commit of a group runs in a SAVEPOINT, whose undo copies of the pages it touches
      // go to a temporary file once they pass 64 KB: in memory, inserts under a savepoint cost 0.55 ms
      // per 100 instead of 1.1 ms (measured when every commit also touched ~100 index pages). Only
      // rollback of a savepoint reads them; crash recovery never does (that is the WAL's job).
      this.db.pragma('temp_store = MEMORY');
      migrate(this.db, loadMigrations(options.migrationsDir));
    }

    // Negative: a size in KiB rather than in pages, whatever the page size.
    this.db.pragma(`cache_size = ${-Math.round((options.cacheMiB ?? DEFAULT_CACHE_MIB) * 1024)}`);
    const db = this.db;
    this.statements = {
      insertHash: db.prepare<[number, string]>('INSERT INTO event_chain (revision, hash) VALUES (?, ?)'),
      head: db.prepare<[], number>('SELECT coalesce(max(revision), 0) FROM events').pluck(),
      pageBytes: db.prepare<[], number>('SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()').pluck(),
      chainHead: db.prepare<[], [number, string]>('SELECT revision, hash FROM event_chain ORDER BY revision DESC LIMIT 1').raw(),
      after: db
        .prepare<[number, number], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE revision > ? ORDER BY revision LIMIT ?`)
        .raw(),
      all: db.prepare<[], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY revision`).raw(),
      allAfter: db.prepare<[number], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE revision > ? ORDER BY revision`).raw(),
      session: db
        .prepare<[string, number], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE session_id = ? AND revision <= ? ORDER BY revision`)
        .raw(),
      // Walks events_by_session in id order; each session's created event is its first entry there.
      sessionIds: db
        .prepare<[string, number, number], string>(
          `SELECT session_id FROM events WHERE session_id > ? AND kind = 'session_created' AND revision <= ? ORDER BY session_id LIMIT ?`,
        )
        .pluck(),
      sessionBetween: db
        .prepare<[string, number, number], EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE session_id = ? AND revision > ? AND revision <= ? ORDER BY revision`,
        )
        .raw(),
      sessionAfter: db
        .prepare<[string, number, number], EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE session_id = ? AND revision > ? ORDER BY revision LIMIT ?`,
        )
        .raw(),
      // Many sessions in one read: a watch hub catching up lagging watchers of many sessions at once.
      sessionsAfter: db
        .prepare<[string, number, number], EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE session_id IN (SELECT value FROM json_each(?)) AND revision > ? ORDER BY revision LIMIT ?`,
        )
        .raw(),
      // Events by revision, many in one statement (the primary key finds each).
      at: db
        .prepare<[string], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE revision IN (SELECT value FROM json_each(?)) ORDER BY revision`)
        .raw(),
      // The indexed versions, newest first straight from the index (the left arm orders by v.version, which
      // the key holds in order, so LIMIT stops early), merged with the tail's: one statement, one snapshot.
      // Versions are never negative (-1 stands for none in the index).
      history: db
        .prepare<{ id: string; before: number; limit: number }, EventRow>(
          `SELECT ${INDEXED_EVENT_COLUMNS} FROM variable_versions v JOIN events e ON e.revision = v.revision
           WHERE v.variable_id = @id AND v.version >= 0 AND v.version < @before AND e.kind IN ${VALUE_KINDS}
           UNION ALL
           SELECT ${EVENT_COLUMNS} FROM events
           WHERE ${IN_TAIL} AND variable_id = @id AND version >= 0 AND version < @before AND kind IN ${VALUE_KINDS}
           ORDER BY 6 DESC LIMIT @limit`,
        )
        .raw(),
      version: db
        .prepare<{ id: string; version: number }, EventRow>(
          `SELECT ${INDEXED_EVENT_COLUMNS} FROM variable_versions v JOIN events e ON e.revision = v.revision
           WHERE v.variable_id = @id AND v.version = @version AND v.version >= 0 AND e.kind IN ${VALUE_KINDS}
           UNION ALL
           SELECT ${EVENT_COLUMNS} FROM events
           WHERE ${IN_TAIL} AND variable_id = @id AND version = @version AND version >= 0 AND kind IN ${VALUE_KINDS}
           LIMIT 1`,
        )
        .raw(),
      sessionMovedBetween: db
        .prepare<[string, number, number], number>('SELECT 1 FROM events WHERE session_id = ? AND revision > ? AND revision < ? LIMIT 1')
        .pluck(),
      touch: db.prepare<[string, number]>(
        `INSERT INTO session_activity (session_id, last_active) VALUES (?, ?)
         ON CONFLICT (session_id) DO UPDATE SET last_active = max(last_active, excluded.last_active)`,
      ),
      activity: db.prepare<[string], number>('SELECT last_active FROM session_activity WHERE session_id = ?').pluck(),
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
      // Prepared once: `exec` parses its SQL on every call, twice per logical commit.
      savepoint: db.prepare('SAVEPOINT logical_commit'),
      release: db.prepare('RELEASE logical_commit'),
      rollbackTo: db.prepare('ROLLBACK TO logical_commit'),
      rowsWithHashes: db
        .prepare<[], [...EventRow, string | null]>(
          `SELECT ${EVENT_COLUMNS.split(', ')
            .map((c) => `e.${c}`)
            .join(', ')}, c.hash FROM events e LEFT JOIN event_chain c ON c.revision = e.revision ORDER BY e.revision`,
        )
        .raw(),
    };
    this.eventRows = new RowInserter(db, 'events', EVENT_COLUMNS.split(', '));
    this.chainRows = new RowInserter(db, 'event_chain', ['revision', 'hash']);
    this.snapshots = new SnapshotTable(db);
    this.variableIndex = new VariableIndex(db, options.variableIndexTail);
    this.compaction = new SqliteCompaction(db, this.variableIndex);
    this.tx = {
      head: () => this.chainHeadInTx().revision as Revision,
      append: (events) => this.append(events),
    };
    const transaction = db.transaction((fn: (tx: WriteTransaction) => unknown) => {
      this.txHead = undefined;
      this.appendedInTx = false;
      try {
        const result = fn(this.tx);
        // Whoever appends indexes: the tail stays bounded after every append, in any process.
        if (this.appendedInTx) this.variableIndex.afterAppend(this.chainHeadInTx().revision);
        return result;
      } finally {
        this.txHead = undefined;
      }
    });
    this.runImmediate = (fn) => {
      let committed = false;
      try {
        const result = transaction.immediate(fn);
        committed = true;
        return result;
      } finally {
        this.variableIndex.settled(committed);
      }
    };
    if (!options.readonly) {
      this.sealUnhashedEvents();
      // A tail left longer by a store with a larger limit (tests): bounded for this one from the start.
      if (this.variableIndex.tailTooLong(this.head())) this.write(() => this.variableIndex.indexTail(this.head()));
    }
  }

  head(): Revision {
    return this.statements.head.get() as Revision;
  }

  /**
   * The file and its WAL as they are on disk (the WAL holds commits not yet
   * checkpointed into the file, and can be the larger of the two under load);
   * an in-memory database counts its pages.
   */
  storageStats(): StorageStats {
    const path = this.db.name;
    const bytes = this.db.memory ? (this.statements.pageBytes.get() as number) : fileSize(path) + fileSize(`${path}-wal`);
    return { bytes };
  }

  /** The chain head: newest revision and its hash (revision 0 and 64 zeros when empty). */
  digest(): Digest {
    const row = this.statements.chainHead.get();
    return row ? { revision: row[0], hash: row[1] } : { revision: 0, hash: GENESIS_HASH };
  }

  write<T>(fn: (tx: WriteTransaction) => T): T {
    // IMMEDIATE takes the write lock up front, so the head read inside is
    // the head the appended revisions follow, even with other writers.
    return this.runImmediate(fn) as T;
  }

  /**
   * Group commit: every commit of the call in one IMMEDIATE transaction (one
   * durable COMMIT, one fsync with `full` durability); a commit that fails
   * fails alone (see below). A commit conflicts when a
   * session it touches got an event after its `decidedAt` that this call did
   * not write, or when an earlier commit of this call on one of its sessions
   * failed (it was decided after that one). The hash chain runs through the
   * commits in order.
   */
  appendCommits(commits: readonly AppendCommit[]): AppendOutcome[] {
    // First without a SAVEPOINT per commit (a statement pair each, ~2 µs per
    // commit): an insert fails only when something beyond the commit's own
    // decision is wrong (a constraint the domain let through, a full disk).
    // Then the whole transaction rolls back and, with several commits, the
    // call is made again with a SAVEPOINT each, so the failing one fails
    // alone. Nobody has been acknowledged in between, and the second try
    // checks conflicts afresh.
    // The rows of every commit go in together at the end (multi-row inserts
    // across commits: a round of 16 single-event commits is two statement
    // runs, not 32); a failing insert fails this pass as a commit's would.
    let failure: Error | undefined;
    const failed = (error: unknown): never => {
      failure = asError(error);
      throw failure;
    };
    const rows: PendingRows = { events: [], chain: [] };
    try {
      return this.appendEach(
        commits,
        (commit) => {
          try {
            return { ok: true, events: this.append(commit.events, rows) };
          } catch (error) {
            return failed(error);
          }
        },
        () => {
          try {
            this.insertRows(rows);
          } catch (error) {
            failed(error);
          }
        },
      );
    } catch (error) {
      // A failure to begin or to COMMIT is the caller's; a commit's own failure is handled below.
      if (failure === undefined || error !== failure) throw error;
    }
    if (commits.length === 1) return [{ ok: false, error: failure }];
    // The group again, each commit in its own SAVEPOINT: one that fails rolls back alone.
    return this.appendEach(commits, (commit, failedSessions) => {
      const chainBefore = this.txHead;
      this.statements.savepoint.run();
      try {
        const events = this.append(commit.events);
        this.statements.release.run();
        return { ok: true, events };
      } catch (error) {
        this.statements.rollbackTo.run();
        this.statements.release.run();
        this.txHead = chainBefore;
        for (const event of commit.events) failedSessions.add(event.sessionId);
        return { ok: false, error: asError(error) };
      }
    });
  }

  /**
   * One write transaction: each commit that does not conflict goes to
   * `appendOne`, in order; then `beforeCommit`, still inside it.
   */
  private appendEach(
    commits: readonly AppendCommit[],
    appendOne: (commit: AppendCommit, failedSessions: Set<string>) => AppendOutcome,
    beforeCommit?: () => void,
  ): AppendOutcome[] {
    return this.write(() => {
      const callStart = this.chainHeadInTx().revision + 1;
      const failedSessions = new Set<string>();
      const outcomes = commits.map((commit): AppendOutcome => {
        const conflict = this.conflictOf(commit, callStart, failedSessions);
        return conflict ? { ok: false, error: conflict } : appendOne(commit, failedSessions);
      });
      beforeCommit?.();
      return outcomes;
    });
  }

  /**
   * The conflict that stops `commit`, if any (see appendCommits); its
   * sessions join `failedSessions` when there is one.
   */
  private conflictOf(commit: AppendCommit, callStart: number, failedSessions: Set<string>): AppendConflict | undefined {
    const sessions = new Set(commit.events.map((e) => e.sessionId));
    for (const sessionId of sessions) {
      const moved =
        failedSessions.has(sessionId) ||
        // Nothing else can have been written between decidedAt and this call: skip the query.
        (commit.decidedAt < callStart - 1 && this.statements.sessionMovedBetween.get(sessionId, commit.decidedAt, callStart) !== undefined);
      const used =
        commit.activeNoLaterThan !== undefined && ((this.statements.activity.get(sessionId) as number | undefined) ?? 0) > commit.activeNoLaterThan;
      if (moved || used) {
        for (const s of sessions) failedSessions.add(s);
        return new AppendConflict(sessionId, commit.decidedAt);
      }
    }
    return undefined;
  }

  private chainHeadInTx(): Digest {
    return (this.txHead ??= this.digest());
  }

  /**
   * Appends `events` as one commit, continuing the chain. Their rows are
   * inserted now, or added to `pending` for the caller to insert (with
   * `insertRows`) before the transaction commits.
   */
  private append(events: readonly NewEvent[], pending?: PendingRows): StoredEvent[] {
    if (!this.db.inTransaction) throw new Error('append outside a write transaction');
    let { revision: head, hash } = this.chainHeadInTx();
    const first = head + 1;
    const rows = pending ?? { events: [], chain: [] };
    const stored = events.map((event) => {
      head++;
      const row = toRow(event, head, first);
      hash = chainHash(hash, row);
      rows.events.push(row);
      rows.chain.push([head, hash]);
      return storedEvent(event, head as Revision, first as Revision);
    });
    if (!pending) this.insertRows(rows);
    this.txHead = { revision: head, hash };
    this.appendedInTx = true;
    return stored;
  }

  private insertRows(rows: PendingRows): void {
    this.eventRows.insert(rows.events);
    this.chainRows.insert(rows.chain);
  }

  /** Seals events written before the chain existed (databases from before migration 0002). */
  private sealUnhashedEvents(): void {
    // The chain's newest revision, not a count: O(log n) on every open.
    if (this.digest().revision === this.head()) return;
    this.write(() => {
      let { revision, hash } = this.digest();
      // In batches: better-sqlite3 cannot insert while a SELECT is still iterating.
      for (let rows = this.statements.after.all(revision, 10_000); rows.length > 0; rows = this.statements.after.all(revision, 10_000)) {
        for (const row of rows) {
          if (row[0] !== revision + 1) throw new Error(`cannot seal the log: revision ${revision + 1} is missing`);
          hash = chainHash(hash, row);
          this.statements.insertHash.run(row[0], hash);
          revision = row[0];
        }
      }
    });
  }

  readAfter(after: Revision, limit: number): StoredEvent[] {
    return this.statements.after.all(after, limit).map(fromRow);
  }

  *readAll(after: Revision = 0 as Revision): IterableIterator<StoredEvent> {
    const rows = after > 0 ? this.statements.allAfter.iterate(after) : this.statements.all.iterate();
    for (const row of rows) yield fromRow(row);
  }

  readSession(sessionId: SessionId, upTo: Revision, after: Revision = 0 as Revision): StoredEvent[] {
    const rows = after > 0 ? this.statements.sessionBetween.all(sessionId, after, upTo) : this.statements.session.all(sessionId, upTo);
    return rows.map(fromRow);
  }

  sessionIds(after: string, limit: number, upTo: Revision): SessionId[] {
    return this.statements.sessionIds.all(after, upTo, limit) as SessionId[];
  }

  readSessionAfter(sessionId: SessionId, after: Revision, limit: number): StoredEvent[] {
    return this.statements.sessionAfter.all(sessionId, after, limit).map(fromRow);
  }

  /** Up to `limit` events of any of the sessions after a revision, oldest first. */
  readSessionsAfter(sessionIds: readonly SessionId[], after: Revision, limit: number): StoredEvent[] {
    if (sessionIds.length === 1) return this.readSessionAfter(sessionIds[0] as SessionId, after, limit);
    return this.statements.sessionsAfter.all(JSON.stringify(sessionIds), after, limit).map(fromRow);
  }

  /** The events at these revisions that are still in the log, oldest first. */
  readAt(revisions: readonly Revision[]): StoredEvent[] {
    if (revisions.length === 0) return [];
    return this.statements.at.all(JSON.stringify(revisions)).map(fromRow);
  }

  readHistory(variableId: VariableId, beforeVersion: number, limit: number): StoredEvent[] {
    return this.statements.history.all({ id: variableId, before: beforeVersion, limit }).map(fromRow);
  }

  readVersion(variableId: VariableId, version: number): StoredEvent | undefined {
    const row = this.statements.version.get({ id: variableId, version });
    return row && fromRow(row);
  }

  /** Every event row as stored, with its chain hash (null if missing), oldest first. */
  rowsWithHashes(): IterableIterator<[...EventRow, string | null]> {
    return this.statements.rowsWithHashes.iterate();
  }

  /** Records a session's use at `time` (the newest time wins). */
  touch(sessionId: SessionId, time: number): void {
    this.statements.touch.run(sessionId, time);
  }

  /** The newest recorded use of a session, if any. */
  lastActivity(sessionId: SessionId): number | undefined {
    return this.statements.activity.get(sessionId) as number | undefined;
  }

  /** The file's path, or undefined for an in-memory database (no WAL). */
  get path(): string | undefined {
    return this.db.memory ? undefined : this.db.name;
  }

  /** Sets how many WAL pages make a COMMIT checkpoint on this connection (0: never; see sqlite-checkpointer.ts). */
  setWalAutoCheckpoint(pages: number): void {
    this.db.pragma(`wal_autocheckpoint = ${Math.max(0, Math.floor(pages))}`);
  }

  /** A number SQLite changes when another connection commits to the file; cheap enough to poll. */
  dataVersion(): number {
    return this.statements.dataVersion.get() as number;
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Retention (compaction.ts): one IMMEDIATE transaction, then the freed
   * pages go back to the file system. The archive is discarded if the
   * transaction fails.
   */
  compact(request: CompactionRequest): CompactionResult {
    let result: CompactionResult;
    try {
      result = this.write((tx) => this.compaction.compactInTransaction(tx, request));
    } catch (error) {
      request.archive.discard();
      throw error;
    }
    if (result) this.compaction.reclaimSpace();
    return result;
  }

  /** The newest revision retention removed; 0 when none. */
  retentionHorizon(): Revision {
    return this.compaction.horizon();
  }

  /** The revision of the compaction that removed a session, if one did. */
  removedBy(sessionId: SessionId): Revision | undefined {
    return this.compaction.removedBy(sessionId);
  }

  /** Retention's records for verify: removed runs, chain rows, removed revisions (sqlite-compaction.ts). */
  get retentionRecords(): Pick<SqliteCompaction, 'removedRuns' | 'chainHashes' | 'removedRevisions'> {
    return this.compaction;
  }

  /** Filtered reads and name lookups for the audit CLI. */
  auditQueries(): AuditQueries {
    return new AuditQueries(this.db);
  }

  /** Starts loading an exported log; throws (writing nothing) unless the log is empty. */
  startImport(): EventImporter {
    return new EventImporter(this.db, this.variableIndex);
  }
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/** A file's size in bytes; 0 when it does not exist (no WAL yet, or just checkpointed away). */
function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
