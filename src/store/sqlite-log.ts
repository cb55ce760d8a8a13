/**
 * The event-store contract over a SQLite file. better-sqlite3 is synchronous,
 * so every method does its work at once and resolves; what makes this worth
 * a layer is the shape: the service sees the same optimistic, batched,
 * notifier-driven contract a network database will offer.
 */
import type { Revision, SessionId, StoredEvent, VariableId } from '../domain/index.js';
import type { AppendCommit, AppendOutcome, EventStore, LogBatch, LogNotifier, ReadOptions, SnapshotStore, StorageStats } from './event-store.js';
import type { CompactionRequest, CompactionResult, RetentionState } from './compaction.js';
import type { Digest } from './hash-chain.js';
import { WalCheckpointer } from './sqlite-checkpointer.js';
import type { SqliteEventStore } from './sqlite-event-store.js';
import { readLog } from './whole-commits.js';

export interface SqliteLogOptions {
  /** How often `PRAGMA data_version` is polled for other processes' commits while anyone listens; 0: never. */
  readonly pollMs?: number;
  /** WAL checkpoints in a worker thread (default), or false: SQLite's automatic checkpoint inside COMMIT. */
  readonly checkpointInWorker?: boolean;
}

// A prepared PRAGMA read: polling it 100 times a second costs next to nothing.
const DEFAULT_POLL_MS = 10;

/** Polls `data_version` (changed by commits of other connections) while it has listeners. */
class DataVersionNotifier implements LogNotifier {
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private last = -1;

  constructor(
    private readonly file: SqliteEventStore,
    private readonly pollMs: number,
  ) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.timer && this.pollMs > 0) {
      this.last = this.file.dataVersion();
      this.timer = setInterval(() => this.poll(), this.pollMs).unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Tells listeners now (own appends, for followers). */
  notify(): void {
    for (const listener of this.listeners) listener();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private poll(): void {
    // Closed under us (a crash-like stop in tests): nothing more will move.
    if (!this.file.isOpen) return this.stop();
    const version = this.file.dataVersion();
    if (version === this.last) return;
    this.last = version;
    this.notify();
  }
}

export class SqliteLog implements EventStore {
  readonly notifier: DataVersionNotifier;
  readonly snapshots: SnapshotStore;
  /** Wakes `follow` readers after our own appends (data_version only counts other connections). */
  private readonly appended = new Set<() => void>();
  /** Off-thread WAL checkpoints; undefined for an in-memory or read-only file. */
  readonly checkpointer: WalCheckpointer | undefined;

  constructor(
    readonly file: SqliteEventStore,
    options: SqliteLogOptions = {},
  ) {
    this.notifier = new DataVersionNotifier(file, options.pollMs ?? DEFAULT_POLL_MS);
    const path = file.path;
    this.checkpointer =
      path !== undefined && options.checkpointInWorker !== false ? new WalCheckpointer(path, (pages) => file.setWalAutoCheckpoint(pages)) : undefined;
    const table = file.snapshots;
    this.snapshots = {
      write: async (snapshot) => table.write(snapshot),
      loadLatest: async (atOrBelow) => table.loadLatest(atOrBelow),
      loadSession: async (sessionId, atOrBelow) => table.loadSession(sessionId, atOrBelow),
      newest: async () => (table.list()[0]?.revision ?? 0) as Revision,
    };
  }

  async head(): Promise<Revision> {
    return this.file.head();
  }

  async storageStats(): Promise<StorageStats> {
    return this.file.storageStats();
  }

  async append(commits: readonly AppendCommit[]): Promise<AppendOutcome[]> {
    if (commits.length === 0) return [];
    const outcomes = this.file.appendCommits(commits);
    for (const wake of this.appended) wake();
    let events = 0;
    for (const outcome of outcomes) if (outcome.ok) events += outcome.events.length;
    this.checkpointer?.appended(events);
    return outcomes;
  }

  read(options: ReadOptions): AsyncGenerator<LogBatch> {
    return readLog(
      {
        head: () => this.file.head(),
        page: (after, limit, sessionIds) => (sessionIds ? this.file.readSessionsAfter(sessionIds, after, limit) : this.file.readAfter(after, limit)),
        moved: (signal) => this.moved(signal),
        isOpen: () => this.file.isOpen,
      },
      options,
    );
  }

  async readSession(sessionId: SessionId, upTo: Revision, after?: Revision): Promise<StoredEvent[]> {
    return this.file.readSession(sessionId, upTo, after);
  }

  async sessionIds(after: string, limit: number, upTo: Revision): Promise<SessionId[]> {
    return this.file.sessionIds(after, limit, upTo);
  }

  async readAt(revisions: readonly Revision[]): Promise<StoredEvent[]> {
    return this.file.readAt(revisions);
  }

  async readHistory(variableId: VariableId, beforeVersion: number, limit: number): Promise<StoredEvent[]> {
    return this.file.readHistory(variableId, beforeVersion, limit);
  }

  async readVersion(variableId: VariableId, version: number): Promise<StoredEvent | undefined> {
    return this.file.readVersion(variableId, version);
  }

  async digest(): Promise<Digest> {
    return this.file.digest();
  }

  async compact(request: CompactionRequest): Promise<CompactionResult> {
    const result = this.file.compact(request);
    if (result) for (const wake of this.appended) wake();
    return result;
  }

  async retention(): Promise<RetentionState> {
    return { horizon: this.file.retentionHorizon() };
  }

  async removedBy(sessionId: SessionId): Promise<Revision | undefined> {
    return this.file.removedBy(sessionId);
  }

  async touch(sessionId: SessionId, time: number): Promise<void> {
    this.file.touch(sessionId, time);
  }

  async activity(sessionIds: readonly SessionId[]): Promise<Map<SessionId, number>> {
    const found = new Map<SessionId, number>();
    for (const id of sessionIds) {
      const time = this.file.lastActivity(id);
      if (time !== undefined) found.set(id, time);
    }
    return found;
  }

  async close(): Promise<void> {
    this.notifier.stop();
    // First: the writer's connection, closing last, checkpoints and removes the WAL as before.
    await this.checkpointer?.close();
    this.file.close();
  }

  /** Resolves when the log moves (our appends or another process's) or `signal` aborts. */
  private moved(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        stopNotifier();
        this.appended.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const stopNotifier = this.notifier.subscribe(done);
      this.appended.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
