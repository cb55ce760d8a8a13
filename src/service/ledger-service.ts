/**
 * The application layer, protocol-neutral (the gRPC handlers and the
 * Snakepit bridge translate to and from it): commands go through the
 * command pipeline (decide → append → apply → publish, command-pipeline.ts),
 * idle expiry through session liveness (session-liveness.ts), and reads are
 * answered from the projection, or from the log for past revisions and for
 * ended sessions (ended-sessions.ts: the projection holds live ones only).
 */
import {
  DomainError,
  compileGlob,
  decide,
  decideCommit,
  findVariable,
  requireActive,
  requireVariable,
  RevisionCompactedError,
  type Command,
  type Commit,
  type CreateSession,
  type DecideContext,
  type DeleteVariable,
  type NewEvent,
  type AppliedEvent,
  type OperationOutcome,
  type RegisterVariable,
  type RollbackVariable,
  type Metadata,
  type Value,
  type Version,
  type Revision,
  type SessionId,
  type SessionState,
  type SetVariable,
  type ToolEvent,
  type VariableId,
  type VariableState,
} from '../domain/index.js';
import { Projection } from '../projection/projection.js';
import type { EventStore, LogBatch, ReadOptions, SnapshotWritten } from '../store/event-store.js';
import { DEFAULT_MAX_SESSIONS, type ArchiveWriter, type CompactionResult } from '../store/compaction.js';
import { operationVariables } from './commit-results.js';
import { foldSessionAt } from './past-session.js';
import { EndedSessions } from './ended-sessions.js';
import { SessionIdFilter } from './session-id-filter.js';
import type { Digest } from '../store/hash-chain.js';
import { ChangeFeed, type CommitListener } from './change-feed.js';
import type { Clock } from './clock.js';
import { CommandPipeline, type AppendedRound, type Decider, type Executed } from './command-pipeline.js';
import { SessionLiveness } from './session-liveness.js';

export type { CommitListener, CommitNotice } from './change-feed.js';

export interface LedgerServiceOptions {
  readonly store: EventStore;
  readonly clock: Clock;
  readonly newIdSuffix: () => string;
  readonly newSessionId: () => string;
  /** Idle TTL for sessions created without one. */
  readonly defaultTtlSeconds?: number;
  /** Write a snapshot of the projection after this many events; 0 never (but still on close). */
  readonly snapshotEvery?: number;
  /** Snapshots kept: older ones are pruned when a new one is written; 0 keeps all. */
  readonly snapshotKeep?: number;
  /** Group commit (default): commands of one event-loop turn share a transaction; false: one per write (benchmark baseline). */
  readonly groupCommit?: boolean;
  /** Reports errors that must not reach callers (a throwing change-feed listener). */
  readonly onError?: (error: unknown) => void;
  /** Hears what each round wrote to the store (metrics); must not throw. */
  readonly onAppended?: (round: AppendedRound) => void;
}

/** One version of a variable, as GetHistory reports it. */
export interface HistoryEntry {
  readonly version: Version;
  readonly value: Value;
  readonly revision: Revision;
  readonly time: number;
  readonly actor: string;
  readonly metadata: Metadata;
  readonly kind: 'variable_registered' | 'variable_set' | 'variable_rolled_back';
}

/** A session with the expiry its idle timer gives it now. */
export interface SessionView {
  readonly session: SessionState;
  readonly expiresAt: number;
}

export interface VariablesAt {
  readonly variables: readonly VariableState[];
  readonly revision: Revision;
}

export interface CommitResult {
  /** Revision of the last event written; 0 when nothing was written. */
  readonly revision: Revision;
  readonly outcomes: readonly (OperationOutcome & { readonly variable?: VariableState })[];
}

/** A tool event as the tool hub describes it; the service adds time and actor. */
export type ToolRecord = ToolEvent extends infer E ? (E extends ToolEvent ? Omit<E, 'time' | 'actor'> : never) : never;

/** The actor recorded on events the server makes itself (expiry). */
export const SYSTEM_ACTOR = 'varledger';

export const DEFAULT_TTL_SECONDS = 3600;
export const DEFAULT_SNAPSHOT_EVERY = 10_000;
const DEFAULT_HISTORY_LIMIT = 100;
const MAX_HISTORY_LIMIT = 10_000;
/** Revisions per read when looking up live sessions' creators. */
const CREATORS_CHUNK = 10_000;

export class LedgerService {
  private readonly feed: ChangeFeed;
  private readonly pipeline: CommandPipeline;
  private readonly liveness: SessionLiveness;
  private readonly ended: EndedSessions;
  private readonly snapshotEvery: number;
  private readonly snapshotKeep: number;
  private lastSnapshotRevision: Revision;
  /** The newest revision retention removed (0: none): reads at or below it are out of range. */
  private horizon: Revision;
  /** The newest snapshot this process wrote or started from: the next one writes only what changed since. */
  private snapshotBasis: Revision;
  /** The newest snapshot this process wrote, loaded or saw: a newer one in the store is another process's. */
  private knownSnapshot: Revision;
  readonly defaultTtlSeconds: number;

  private constructor(
    private readonly options: LedgerServiceOptions,
    private readonly projection: Projection,
    horizon: Revision,
    /** Every session id the log has had as of the projection's head (maybe more): a "no" needs no store read. */
    private readonly sessionIds: SessionIdFilter,
  ) {
    this.horizon = horizon;
    this.liveness = new SessionLiveness(options.clock, options.store, options.onError ?? (() => {}));
    this.defaultTtlSeconds = options.defaultTtlSeconds ?? DEFAULT_TTL_SECONDS;
    this.snapshotEvery = options.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
    this.snapshotKeep = options.snapshotKeep ?? 0;
    this.lastSnapshotRevision = projection.snapshotRevision;
    this.snapshotBasis = projection.snapshotRevision;
    this.knownSnapshot = projection.snapshotRevision;
    this.feed = new ChangeFeed(options.onError ?? (() => {}));
    const mayExist = (id: SessionId) => sessionIds.mayContain(id);
    this.ended = new EndedSessions(options.store, undefined, mayExist);
    // Whoever ended a session (this process or another), its liveness bookkeeping goes.
    this.feed.subscribe(({ events }) => {
      for (const e of events) {
        // First, before any listener may look a session up: whoever created it, the filter has it from now on.
        if (e.kind === 'session_created') sessionIds.add(e.sessionId);
        if (e.kind === 'session_closed' || e.kind === 'session_expired') this.liveness.forget(e.sessionId);
        // Whoever compacted (this process, the CLI, another node), the horizon moves when the projection folds it.
        if (e.kind === 'log_compacted') {
          this.horizon = Math.max(this.horizon, e.horizon) as Revision;
          this.ended.forget(e.sessions);
        }
      }
    });
    this.pipeline = new CommandPipeline({
      store: options.store,
      projection,
      feed: this.feed,
      absentSession: (sessionId, at) => this.ended.lookup(sessionId, at),
      mayExist,
      afterRound: () => this.snapshotIfDue(),
      ...(options.groupCommit === false && { maxRoundSize: 1 }),
      ...(options.onAppended && { onAppended: options.onAppended }),
    });
  }

  /** Folds the projection from the store (newest snapshot plus the log after it) and starts the service. */
  static async open(options: LedgerServiceOptions): Promise<LedgerService> {
    const projection = await Projection.load(options.store);
    const sessionIds = await readSessionIds(options.store, projection.head);
    return new LedgerService(options, projection, (await options.store.retention()).horizon, sessionIds);
  }

  /**
   * False only when the log never had this session (as of the head): it
   * exists in no state, and no store read is needed to say so. True may
   * still be a session that never existed (findSession tells).
   */
  mayHaveSession(sessionId: SessionId): boolean {
    return this.projection.session(sessionId) !== undefined || this.sessionIds.mayContain(sessionId);
  }

  /** The oldest revision reads can still ask for: everything at or below the retention horizon was removed. */
  get oldestRevision(): Revision {
    return (this.horizon + 1) as Revision;
  }

  /**
   * Retention: moves the events of sessions that ended before `endedBefore`
   * into `archive` and removes them from the log (EventStore.compact), folds
   * the resulting log_compacted event in (the sessions leave the projection)
   * and writes a snapshot (the store dropped the older ones) unless
   * `snapshot` is false (a sweep of several compactions writes one at its
   * end). Resolves to the event, or undefined when no session had ended
   * before then.
   */
  async compact(request: {
    endedBefore: number;
    archive: ArchiveWriter;
    maxSessions?: number;
    maxEvents?: number;
    snapshot?: boolean;
  }): Promise<CompactionResult> {
    const result = await this.options.store.compact({
      endedBefore: request.endedBefore,
      archive: request.archive,
      maxSessions: request.maxSessions ?? DEFAULT_MAX_SESSIONS,
      ...(request.maxEvents !== undefined && { maxEvents: request.maxEvents }),
      time: this.options.clock.now(),
      actor: SYSTEM_ACTOR,
    });
    if (!result) return undefined;
    await this.catchUp();
    if (request.snapshot !== false) await this.snapshot();
    return result;
  }

  /**
   * Why a session is not in the projection: retention removed it
   * (RevisionCompactedError, OUT_OF_RANGE) or it never existed (NOT_FOUND).
   * Only called on a miss, so the store lookup costs nothing on the hot path.
   */
  async missingSession(sessionId: SessionId): Promise<never> {
    await this.requireNotRemoved(sessionId);
    throw new DomainError('not_found', `Session not found: ${sessionId}`);
  }

  /** Throws RevisionCompactedError if retention removed the session; otherwise returns. */
  private async requireNotRemoved(sessionId: SessionId): Promise<void> {
    const compaction = await this.options.store.removedBy(sessionId);
    if (compaction !== undefined) {
      throw new RevisionCompactedError(
        `Session ${sessionId} ended and retention moved its events to an archive (compaction at revision ${compaction})`,
        this.oldestRevision,
      );
    }
  }

  /** Refuses a read or watch start at or below the retention horizon. */
  requireRetained(revision: Revision, what = 'Revision'): void {
    if (revision > 0 && revision <= this.horizon) {
      throw new RevisionCompactedError(`${what} ${revision} has been compacted`, this.oldestRevision);
    }
  }

  /** The newest revision the projection has applied. */
  get head(): Revision {
    return this.projection.head;
  }

  /** Sessions neither closed nor expired (the projection holds no others). */
  liveSessionCount(): number {
    return this.projection.sessionCount;
  }

  /** How many ended sessions this process holds in memory: until the next snapshot, and a bounded cache (tests pin this). */
  endedSessionsHeld(): number {
    return this.projection.endedHeldCount + this.ended.size;
  }

  /**
   * Who created each live session: the actor of its session_created event,
   * read from the log at the sessions' `createdRevision`s, so the cost is
   * one read of as many events as there are live sessions, never a scan of
   * the log. Sessions live when called; some may have ended by the time it
   * resolves (check `peekSession` before relying on one).
   */
  async liveSessionCreators(): Promise<Map<SessionId, string>> {
    const wanted = new Map<Revision, SessionId>();
    for (const session of this.projection.sessions()) if (session.status === 'active') wanted.set(session.createdRevision, session.id);
    const creators = new Map<SessionId, string>();
    const revisions = [...wanted.keys()];
    // In chunks: one statement's parameter stays small however many sessions are live.
    for (let i = 0; i < revisions.length; i += CREATORS_CHUNK) {
      for (const event of await this.options.store.readAt(revisions.slice(i, i + CREATORS_CHUNK))) {
        if (event.kind === 'session_created' && wanted.get(event.revision) === event.sessionId) creators.set(event.sessionId, event.actor);
      }
    }
    return creators;
  }

  /** The head of the log's hash chain. */
  digest(): Promise<Digest> {
    return this.options.store.digest();
  }

  /**
   * A session this process holds, without touching its idle timer or the
   * store: every live one, and ended ones only while still held (just
   * ended, or looked up lately). Callers that must know about any ended
   * session use `findSession`.
   */
  peekSession(sessionId: SessionId): SessionState | undefined {
    return this.projection.session(sessionId) ?? this.projection.endedSession(sessionId) ?? this.ended.cached(sessionId);
  }

  /**
   * The current state of a session in any status, without touching its
   * idle timer: live from the projection, ended (compact: no variables)
   * from memory or the store. Undefined when it never existed or retention
   * removed it.
   */
  async findSession(sessionId: SessionId): Promise<SessionState | undefined> {
    const held = this.peekSession(sessionId);
    if (held) return held;
    const found = await this.ended.lookup(sessionId, this.projection.head);
    // Folded as of the head when asked: a session created or ended since is the projection's to tell.
    const now = this.peekSession(sessionId);
    if (now || found?.status !== 'active') return now ?? found;
    // Active then, and neither live nor held now: it ended and a snapshot let it go meanwhile (rare); read it again.
    const again = await this.ended.lookup(sessionId, this.projection.head);
    return this.peekSession(sessionId) ?? (again?.status === 'active' ? undefined : again);
  }

  /** The session for a live call: expired if idle, refused if ended, idle timer refreshed. */
  liveSession(sessionId: SessionId): Promise<SessionState> {
    return this.enter(sessionId);
  }

  /** Folds in commits another process made to the log, if any (the store's notifier does this on its own too). */
  catchUp(): Promise<void> {
    return this.pipeline.catchUp();
  }

  /**
   * The change feed: `listener` hears every batch the projection applies
   * (our commits and other processes'), once, after it is durable and
   * outside any transaction, with each event's variable before and after.
   * Returns the function that stops listening. See CommitNotice.
   */
  onCommit(listener: CommitListener): () => void {
    return this.feed.subscribe(listener);
  }

  /** The log after a revision, in batches ending with a caught-up marker (EventStore.read): for consumers that catch up, such as watch hubs. */
  readLog(options: ReadOptions): AsyncGenerator<LogBatch> {
    return this.options.store.read(options);
  }

  /** The session as it was at a revision (nearest snapshot plus the log), owned by the caller; undefined before it existed. */
  pastSession(sessionId: SessionId, at: Revision): Promise<SessionState | undefined> {
    return foldSessionAt(this.options.store, sessionId, at);
  }

  /**
   * Where a fold of a session that must reach revision `at` can start: its
   * nearest stored state at or below `at` (a snapshot row) and the revision
   * it holds from, or, without one, no state and the revision before the
   * session's creation. Never revision 0 for a session that exists.
   */
  async foldStart(sessionId: SessionId, at: Revision): Promise<{ after: Revision; session?: SessionState }> {
    const stored = await this.options.store.snapshots.loadSession(sessionId, at);
    if (stored) return { after: stored.revision, session: stored.session };
    const known = await this.findSession(sessionId);
    return { after: (known ? Math.max(0, known.createdRevision - 1) : 0) as Revision };
  }

  /** A variable's versions below `beforeVersion`, newest first, without touching its session's idle timer (the web view). */
  async variableHistory(variableId: VariableId, beforeVersion: number, limit: number): Promise<HistoryEntry[]> {
    return historyEntries(await this.options.store.readHistory(variableId, beforeVersion, limit));
  }

  /** The first event after `after` (of one session when given): who did what, when. */
  async eventAfter(after: Revision, sessionId?: SessionId): Promise<AppliedEvent['event'] | undefined> {
    for await (const batch of this.options.store.read({ after, batchSize: 1, ...(sessionId && { sessionId }) })) {
      return batch.kind === 'events' ? batch.events[0] : undefined;
    }
    return undefined;
  }

  // ── sessions ───────────────────────────────────────────────────────────

  async createSession(command: Omit<CreateSession, 'kind' | 'sessionId'> & { sessionId?: SessionId }, actor: string): Promise<SessionView> {
    const sessionId = command.sessionId ?? (this.options.newSessionId() as SessionId);
    // An archived session's id stays taken: the archive and the audit trail must name one session.
    if (!this.projection.session(sessionId) && (await this.options.store.removedBy(sessionId)) !== undefined) {
      throw new DomainError('already_exists', `Session ${sessionId} existed and was moved to an archive by retention; choose another id`);
    }
    const done = await this.execute(sessionId, actor, (session, ctx) => decide(session, { ...command, kind: 'create_session', sessionId }, ctx), true);
    return this.view(sessionId, done.session);
  }

  /** Reports a session in any state; an idle one is expired first, a live one's timer refreshed. */
  async getSession(sessionId: SessionId): Promise<SessionView> {
    await this.expireIfIdle(sessionId);
    const session = (await this.findSession(sessionId)) ?? (await this.missingSession(sessionId));
    if (session.status === 'active') this.liveness.touch(session);
    return this.view(sessionId, session);
  }

  async heartbeat(sessionId: SessionId): Promise<SessionView> {
    return this.view(sessionId, await this.enter(sessionId));
  }

  async closeSession(sessionId: SessionId, actor: string): Promise<SessionView> {
    const done = await this.run({ kind: 'close_session', sessionId }, actor);
    return this.view(sessionId, done.session);
  }

  /**
   * Sessions in any state, in id order, after `pageToken` (the last id of
   * the previous page). Ended sessions are not in memory, so the ids come
   * from the log a page at a time (one more than asked, to know whether
   * another page follows) and each is looked up.
   */
  async listSessions(pageSize: number, pageToken: string): Promise<{ sessions: SessionView[]; nextPageToken: string }> {
    const head = this.projection.head;
    const ids = await this.options.store.sessionIds(pageToken, pageSize + 1, head);
    const page = ids.slice(0, pageSize);
    const found = await Promise.all(page.map((id) => this.findSession(id)));
    const sessions: SessionView[] = [];
    for (const session of found) if (session) sessions.push(this.view(session.id, session));
    const last = page[page.length - 1];
    return { sessions, nextPageToken: ids.length > pageSize && last ? last : '' };
  }

  /** Expires every session idle past its TTL (as every process on the log sees it); resolves to how many. */
  async expireIdleSessions(): Promise<number> {
    const candidates = [...this.projection.sessions()].filter((s) => this.liveness.seemsIdle(s)).map((s) => s.id);
    if (candidates.length === 0) return 0;
    const recorded = await this.options.store.activity(candidates);
    const expired = await Promise.all(candidates.map((id) => this.expireIfIdle(id, recorded)));
    return expired.filter(Boolean).length;
  }

  // ── variables ──────────────────────────────────────────────────────────

  async register(command: Omit<RegisterVariable, 'kind'>, actor: string): Promise<VariableState> {
    return variableOf(await this.run({ ...command, kind: 'register_variable' }, actor));
  }

  async set(command: Omit<SetVariable, 'kind'>, actor: string): Promise<VariableState> {
    // A literal rather than `{ ...command, kind }` (see commit-results.ts): every SetVariable comes this way.
    const { sessionId, identifier, value, metadata, expectedVersion } = command;
    return variableOf(await this.run({ kind: 'set_variable', sessionId, identifier, value, metadata, expectedVersion }, actor));
  }

  /** Resolves to the revision of the delete. */
  async delete(command: Omit<DeleteVariable, 'kind'>, actor: string): Promise<Revision> {
    const done = await this.run({ ...command, kind: 'delete_variable' }, actor);
    return (done.stored[done.stored.length - 1]?.revision ?? this.projection.head) as Revision;
  }

  /** A variable's versions, newest first, below `beforeVersion` (0: all), from the log's variable index. */
  async history(sessionId: SessionId, identifier: string, limit: number, beforeVersion: number): Promise<HistoryEntry[]> {
    const variable = requireVariable(await this.enter(sessionId), identifier);
    const events = await this.options.store.readHistory(
      variable.id,
      beforeVersion > 0 ? beforeVersion : Number.MAX_SAFE_INTEGER,
      limit > 0 ? Math.min(limit, MAX_HISTORY_LIMIT) : DEFAULT_HISTORY_LIMIT,
    );
    return historyEntries(events);
  }

  /** Appends a new version holding the value of `targetVersion`. */
  async rollback(command: Omit<RollbackVariable, 'kind' | 'targetValue'>, actor: string): Promise<VariableState> {
    const variable = requireVariable(await this.enter(command.sessionId), command.identifier);
    const target = await this.options.store.readVersion(variable.id, command.targetVersion);
    const targetValue = target && 'value' in target ? target.value : undefined;
    return variableOf(await this.run({ ...command, identifier: variable.id, kind: 'rollback_variable', targetValue }, actor));
  }

  async getVariable(sessionId: SessionId, identifier: string, atRevision: Revision): Promise<VariableState> {
    return requireVariable(await this.sessionAt(sessionId, atRevision), identifier);
  }

  async getVariables(
    sessionId: SessionId,
    identifiers: readonly string[],
    atRevision: Revision,
  ): Promise<{ found: Map<string, VariableState>; missing: string[]; revision: Revision }> {
    const session = await this.sessionAt(sessionId, atRevision);
    const found = new Map<string, VariableState>();
    const missing: string[] = [];
    for (const identifier of identifiers) {
      const variable = findVariable(session, identifier);
      if (variable) found.set(identifier, variable);
      else missing.push(identifier);
    }
    return { found, missing, revision: this.revisionOf(atRevision) };
  }

  /** Variables whose names match a glob (`*`, `?`; empty = all), in name order. */
  async listVariables(sessionId: SessionId, pattern: string, atRevision: Revision): Promise<VariablesAt> {
    const matches = compileGlob(pattern);
    const session = await this.sessionAt(sessionId, atRevision);
    const variables = [...session.variables.values()]
      .filter((v) => matches(v.name))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { variables, revision: this.revisionOf(atRevision) };
  }

  async commit(command: Omit<Commit, 'kind'>, actor: string): Promise<CommitResult> {
    let outcomes: readonly OperationOutcome[] = [];
    let eventCounts: readonly number[] = [];
    const done = await this.execute(command.sessionId, actor, (session, ctx) => {
      const decision = decideCommit(session, { ...command, kind: 'commit' }, ctx);
      outcomes = decision.outcomes;
      eventCounts = decision.eventCounts;
      return [...decision.events];
    });
    const last = done.stored[done.stored.length - 1];
    return { revision: last ? last.revision : (0 as Revision), outcomes: operationVariables(outcomes, eventCounts, done.applied) };
  }

  // ── tools ──────────────────────────────────────────────────────────────

  /**
   * Records a tool call's start or end, in its own commit. The session
   * must exist, in any status: a call that began before a close may end
   * after it. Does not refresh the idle timer (the call's entry did).
   */
  async recordTool(record: ToolRecord, actor: string): Promise<Revision> {
    const done = await this.pipeline.execute(
      record.sessionId,
      (session, ctx) => {
        if (!session) throw new DomainError('not_found', `Session not found: ${record.sessionId}`);
        return [{ ...record, time: ctx.now, actor } as NewEvent];
      },
      () => this.context(actor),
    );
    return (done.stored[done.stored.length - 1] as AppliedEvent['event']).revision;
  }

  /**
   * Writes a snapshot at the head unless one is there already; true if
   * written. Only the sessions changed since the last snapshot are written;
   * when that one is gone (pruned by another process), every session.
   */
  async snapshot(): Promise<boolean> {
    if (this.projection.head === 0 || this.projection.head === this.lastSnapshotRevision) return false;
    const basis = await this.basisFor();
    const head = this.projection.head;
    if (head === this.lastSnapshotRevision) return false;
    this.lastSnapshotRevision = head;
    let revision = head;
    let result = await this.writeSnapshot(revision, basis);
    if (result === 'basis_missing') {
      revision = this.projection.head;
      result = await this.writeSnapshot(revision, 0 as Revision);
    }
    if (result === 'skipped') {
      // Another process wrote a snapshot at or after ours (several nodes on one log): when we have
      // folded up to it, it is our basis from now on, and the ended sessions it holds rows for need
      // not wait in our memory for a snapshot of ours (else a node that keeps losing the race would
      // hold every session that ends). Every writer's snapshot holds every session as at its revision.
      const newest = await this.options.store.snapshots.newest();
      this.knownSnapshot = Math.max(this.knownSnapshot, newest) as Revision;
      if (newest > this.snapshotBasis && newest <= this.projection.head && this.projection.mayAdopt(newest)) {
        this.snapshotBasis = newest;
        this.projection.snapshotted(newest);
      }
      return false;
    }
    if (result !== 'written') return false;
    this.knownSnapshot = Math.max(this.knownSnapshot, revision) as Revision;
    // Concurrent snapshots may finish out of order: the basis only moves forward.
    if (revision > this.snapshotBasis) {
      this.snapshotBasis = revision;
      this.projection.snapshotted(revision);
    }
    return true;
  }

  /**
   * The basis for the next snapshot, after one cheap read: has a process
   * this one did not know of written a snapshot? Then it writes snapshots
   * too, and may hold active rows of sessions this one let go (Projection
   * holds every ended session from now on). If this one let go a session
   * such a snapshot may have live, building on it would carry that row on
   * as if the session were live, and building on ours would not verify
   * (its header does not count the other's rows): so the sessions that
   * snapshot holds live and this one does not are read back from the store
   * and held until ours writes them ended (holdEndedRowsOf, once per
   * process: from now on it lets no ended session go unwritten). Then, or
   * when nothing stood in the way, it becomes the basis, as in the skipped
   * case; if it does not verify, ours is written whole.
   */
  private async basisFor(): Promise<Revision> {
    const newest = await this.options.store.snapshots.newest();
    if (newest <= this.knownSnapshot) return this.snapshotBasis;
    this.knownSnapshot = newest;
    this.projection.othersWrite();
    if (!this.projection.mayAdopt(newest) && !(await this.holdEndedRowsOf(newest))) return 0 as Revision;
    // Built on the newest: rows others wrote since our basis are then counted (on ours they would not be).
    if (newest > this.snapshotBasis && newest <= this.projection.head) {
      this.snapshotBasis = newest;
      this.projection.snapshotted(newest);
    }
    return this.snapshotBasis;
  }

  /**
   * Holds, ended, every session another process's snapshot at `revision`
   * holds live and this projection does not (it let them go); false when
   * that snapshot does not verify (nothing can be built on it).
   */
  private async holdEndedRowsOf(revision: Revision): Promise<boolean> {
    const other = await this.options.store.snapshots.loadLatest(revision);
    if (other?.revision !== revision) return false;
    for (const [id, session] of other.sessions) {
      if (session.status !== 'active' || this.projection.session(id as SessionId)) continue;
      const now = await this.ended.lookup(id as SessionId, this.projection.head);
      if (now && now.status !== 'active') this.projection.holdEnded(now);
    }
    this.projection.droppedResolved();
    return true;
  }

  /** The store reads the states before it first yields: they are the projection's at `revision`. */
  private writeSnapshot(revision: Revision, basis: Revision): Promise<SnapshotWritten> {
    // Whole: the store carries over the rows of sessions that ended before (carriedEndedRows).
    const changed = basis === 0 ? this.projection.unsavedSessions() : this.projection.changedSessions();
    this.projection.snapshotStarting(revision);
    return this.options.store.snapshots.write({ revision, basis, changed, now: this.options.clock.now(), keep: this.snapshotKeep });
  }

  /** Lets queued commands finish, snapshots (so the next start folds little) and closes the store. */
  async close(): Promise<void> {
    await this.pipeline.close();
    await this.liveness.flush();
    this.feed.clear();
    await this.snapshot();
    await this.options.store.close();
  }

  // ── internals ──────────────────────────────────────────────────────────

  /** Runs one command. */
  private run(command: Command, actor: string): Promise<Executed> {
    return this.execute(command.sessionId, actor, (session, ctx) => decide(session, command, ctx));
  }

  private async execute(sessionId: SessionId, actor: string, decideEvents: Decider, creating = false): Promise<Executed> {
    // A command on a missing session may create it (decide says); on a removed one it is out of range.
    if (!creating && !this.projection.session(sessionId)) await this.requireNotRemoved(sessionId);
    if (this.mayBeIdle(sessionId)) await this.expireIfIdle(sessionId);
    const done = await this.pipeline.execute(sessionId, decideEvents, () => this.context(actor));
    const session = this.projection.session(sessionId);
    if (session?.status === 'active') this.liveness.touch(session);
    return done;
  }

  /** Inline, after the round that crosses the threshold, outside any transaction. */
  private async snapshotIfDue(): Promise<void> {
    if (this.snapshotEvery > 0 && this.projection.head - this.lastSnapshotRevision >= this.snapshotEvery) await this.snapshot();
  }

  private context(actor: string): DecideContext {
    return {
      now: this.options.clock.now(),
      actor,
      newIdSuffix: this.options.newIdSuffix,
      defaultTtlSeconds: this.defaultTtlSeconds,
    };
  }

  /**
   * Records expiry of an idle session; true when it expired now. Idle means
   * idle for every process: the use others recorded is read from the store
   * (`recorded`, when the caller read it for many sessions at once). The
   * append is conditional: refused if the session got an event after the
   * state it was decided from, or a newer recorded use — then decided again
   * against the news, which may show it in use after all.
   */
  private async expireIfIdle(sessionId: SessionId, recorded?: ReadonlyMap<SessionId, number>): Promise<boolean> {
    const session = this.projection.session(sessionId);
    if (!session || !this.liveness.seemsIdle(session)) return false;
    const activity = recorded ?? (await this.options.store.activity([sessionId]));
    let recordedAt = activity.get(sessionId);
    if (!this.liveness.isIdle(session, recordedAt)) return false;
    const done = await this.pipeline.execute(
      sessionId,
      (s, ctx) => (s && this.liveness.isIdle(s, recordedAt) ? decide(s, { kind: 'expire_session', sessionId }, ctx) : []),
      () => this.context(SYSTEM_ACTOR),
      {
        activeNoLaterThan: () => recordedAt ?? 0,
        // A retry reads the recorded use again: it is what made the first try fail.
        beforeRetry: async () => {
          recordedAt = (await this.options.store.activity([sessionId])).get(sessionId);
        },
      },
    );
    if (done.stored.length > 0) this.liveness.forget(sessionId);
    return done.stored.length > 0;
  }

  /** Cheap and synchronous: whether expiry is worth looking into (the hot path skips the await). */
  private mayBeIdle(sessionId: SessionId): boolean {
    const session = this.projection.session(sessionId);
    return session !== undefined && this.liveness.seemsIdle(session);
  }

  /** The live session for a call: expired if idle, refused if ended, timer refreshed. */
  private async enter(sessionId: SessionId): Promise<SessionState> {
    if (!this.projection.session(sessionId)) await this.requireNotRemoved(sessionId);
    if (this.mayBeIdle(sessionId)) await this.expireIfIdle(sessionId);
    // An ended session is looked up only to say so (closed / expired rather than not found).
    const session = requireActive(this.projection.session(sessionId) ?? (await this.findSession(sessionId)), sessionId);
    this.liveness.touch(session);
    return session;
  }

  private view(sessionId: SessionId, session: SessionState | undefined): SessionView {
    if (!session) throw new DomainError('not_found', `Session not found: ${sessionId}`);
    return { session, expiresAt: this.liveness.expiresAt(session) };
  }

  private revisionOf(atRevision: Revision): Revision {
    return atRevision > 0 ? atRevision : this.projection.head;
  }

  /**
   * The session as of a revision (0 = now). Current reads need a live
   * session; past reads are history and work on ended sessions too.
   */
  async sessionAt(sessionId: SessionId, atRevision: Revision): Promise<SessionState> {
    if (atRevision === 0) return this.enter(sessionId);
    // A revision seen on another node (or process) may not have reached us yet: read-your-writes across nodes.
    if (atRevision > this.projection.head) await this.catchUp();
    const head = this.projection.head;
    if (atRevision > head) {
      throw new DomainError('revision_out_of_range', `Revision ${atRevision} is beyond the head of the log (${head})`);
    }
    this.requireRetained(atRevision);
    const live = this.projection.session(sessionId);
    // Nothing changed in this session since atRevision: the live state is that state.
    if (live?.status === 'active' && live.modifiedRevision <= atRevision) return live;
    const past = await foldSessionAt(this.options.store, sessionId, atRevision);
    if (!past) {
      if (!live) await this.missingSession(sessionId);
      throw new DomainError('not_found', `Session not found at revision ${atRevision}: ${sessionId}`);
    }
    return past;
  }
}

/** Ids per read of the store's session index when the filter is built. */
const SESSION_IDS_PAGE = 10_000;

/** Every session id in the log up to `head`, paged through the store's index of session creations. */
async function readSessionIds(store: EventStore, head: Revision): Promise<SessionIdFilter> {
  const filter = new SessionIdFilter();
  let after = '';
  for (;;) {
    const page = await store.sessionIds(after, SESSION_IDS_PAGE, head);
    for (const id of page) filter.add(id);
    if (page.length < SESSION_IDS_PAGE) return filter;
    after = page[page.length - 1] as string;
  }
}

/** Value-giving events as history entries. */
function historyEntries(events: readonly AppliedEvent['event'][]): HistoryEntry[] {
  return events.flatMap((e) =>
    e.kind === 'variable_registered' || e.kind === 'variable_set' || e.kind === 'variable_rolled_back'
      ? [{ version: e.version, value: e.value, revision: e.revision, time: e.time, actor: e.actor, metadata: e.metadata, kind: e.kind }]
      : [],
  );
}

/** The variable a single-variable command left, read off its applied events. */
function variableOf(done: Executed): VariableState {
  const last = done.applied[done.applied.length - 1];
  if (!last?.variable) throw new Error('a variable command applied no variable event');
  return last.variable;
}
