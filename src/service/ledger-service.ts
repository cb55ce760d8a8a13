/**
 * The application layer: runs each command through decide → append (one
 * transaction) → evolve, keeps session idle timers, and answers reads from
 * the projection. Protocol-neutral: the gRPC handlers (and later the
 * Snakepit-compatible service) translate to and from it.
 */
import {
  DomainError,
  compileGlob,
  decide,
  decideCommit,
  findVariable,
  requireActive,
  requireVariable,
  type Command,
  type Commit,
  type CreateSession,
  type DecideContext,
  type DeleteVariable,
  type NewEvent,
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
  type StoredEvent,
  type ToolEvent,
  type VariableState,
} from '../domain/index.js';
import { Projection } from '../projection/projection.js';
import type { EventStore } from '../store/event-store.js';
import { operationVariables } from './commit-results.js';
import { foldSessionAt } from './past-session.js';
import { readWholeCommits } from '../store/whole-commits.js';
import type { Clock } from './clock.js';

export interface LedgerServiceOptions {
  readonly store: EventStore;
  readonly clock: Clock;
  readonly newIdSuffix: () => string;
  readonly newSessionId: () => string;
  /** Idle TTL for sessions created without one. */
  readonly defaultTtlSeconds?: number;
  /** Write a snapshot of the projection after this many events; 0 never (but still on close). */
  readonly snapshotEvery?: number;
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

/** What a listener hears after each commit: the events, and each touched session's state before them. */
export interface CommitNotice {
  readonly events: readonly StoredEvent[];
  readonly before: ReadonlyMap<SessionId, SessionState | undefined>;
}

/**
 * Called after every commit (ours, or another process's once noticed),
 * outside the transaction. Must not throw: the write is already durable.
 */
export type CommitListener = (notice: CommitNotice) => void;

/** A tool event as the tool hub describes it; the service adds time and actor. */
export type ToolRecord = ToolEvent extends infer E ? (E extends ToolEvent ? Omit<E, 'time' | 'actor'> : never) : never;

/** The actor recorded on events the server makes itself (expiry). */
export const SYSTEM_ACTOR = 'varledger';

export const DEFAULT_TTL_SECONDS = 3600;
export const DEFAULT_SNAPSHOT_EVERY = 10_000;
const DEFAULT_HISTORY_LIMIT = 100;
const MAX_HISTORY_LIMIT = 10_000;

export class LedgerService {
  private readonly projection: Projection;
  /** Last call per session. Kept in memory: reads and heartbeats are not facts worth a log row. */
  private readonly activity = new Map<string, number>();
  /** After a restart every live session's idle timer starts afresh. */
  private readonly startedAt: number;
  private readonly listeners = new Set<CommitListener>();
  private externalCounter = -1;
  private readonly snapshotEvery: number;
  private lastSnapshotRevision: Revision;
  readonly defaultTtlSeconds: number;

  constructor(private readonly options: LedgerServiceOptions) {
    this.projection = Projection.load(options.store);
    this.startedAt = options.clock.now();
    this.defaultTtlSeconds = options.defaultTtlSeconds ?? DEFAULT_TTL_SECONDS;
    this.snapshotEvery = options.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
    this.lastSnapshotRevision = this.projection.snapshotRevision;
  }

  get head(): Revision {
    return this.projection.head;
  }

  get store(): EventStore {
    return this.options.store;
  }

  /** The current state of a session in any status, without touching its idle timer. */
  peekSession(sessionId: SessionId): SessionState | undefined {
    return this.projection.session(sessionId);
  }

  /** The session for a live call: expired if idle, refused if ended, idle timer refreshed. */
  liveSession(sessionId: SessionId): SessionState {
    return this.enter(sessionId);
  }

  /**
   * Folds in commits another process made to the same file, if any. Cheap
   * when there are none (one pragma read); the server polls it.
   */
  pollExternalWrites(): void {
    const counter = this.options.store.externalChangeCounter();
    if (counter === this.externalCounter) return;
    this.externalCounter = counter;
    this.catchUp(this.options.store.head());
  }

  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ── sessions ───────────────────────────────────────────────────────────

  createSession(command: Omit<CreateSession, 'kind' | 'sessionId'> & { sessionId?: SessionId }, actor: string): SessionView {
    const sessionId = command.sessionId ?? (this.options.newSessionId() as SessionId);
    this.execute(sessionId, actor, (session, ctx) => decide(session, { ...command, kind: 'create_session', sessionId }, ctx));
    return this.view(sessionId);
  }

  /** Reports a session in any state; an idle one is expired first, a live one's timer refreshed. */
  getSession(sessionId: SessionId): SessionView {
    this.expireIfIdle(sessionId);
    if (this.projection.session(sessionId)?.status === 'active') this.activity.set(sessionId, this.options.clock.now());
    return this.view(sessionId);
  }

  heartbeat(sessionId: SessionId): SessionView {
    this.enter(sessionId);
    return this.view(sessionId);
  }

  closeSession(sessionId: SessionId, actor: string): SessionView {
    this.run({ kind: 'close_session', sessionId }, actor);
    return this.view(sessionId);
  }

  /** Sessions in id order, after `pageToken` (the last id of the previous page). */
  listSessions(pageSize: number, pageToken: string): { sessions: SessionView[]; nextPageToken: string } {
    const all = this.projection.sessionsInOrder();
    const start = pageToken ? all.findIndex((s) => s.id > pageToken) : 0;
    const page = start < 0 ? [] : all.slice(start, start + pageSize);
    const last = page[page.length - 1];
    const more = start >= 0 && start + pageSize < all.length;
    return { sessions: page.map((s) => this.view(s.id)), nextPageToken: more && last ? last.id : '' };
  }

  /** Expires every session idle past its TTL; returns how many. */
  expireIdleSessions(): number {
    let expired = 0;
    for (const session of this.projection.sessionsInOrder()) {
      if (this.expireIfIdle(session.id)) expired++;
    }
    return expired;
  }

  // ── variables ──────────────────────────────────────────────────────────

  register(command: Omit<RegisterVariable, 'kind'>, actor: string): VariableState {
    const session = this.run({ ...command, kind: 'register_variable' }, actor);
    return requireVariable(session, command.name);
  }

  set(command: Omit<SetVariable, 'kind'>, actor: string): VariableState {
    const stored = this.run({ ...command, kind: 'set_variable' }, actor);
    return requireVariable(stored, command.identifier);
  }

  delete(command: Omit<DeleteVariable, 'kind'>, actor: string): Revision {
    this.run({ ...command, kind: 'delete_variable' }, actor);
    return this.projection.head;
  }

  /** A variable's versions, newest first, below `beforeVersion` (0: all), from the log's variable index. */
  history(sessionId: SessionId, identifier: string, limit: number, beforeVersion: number): HistoryEntry[] {
    const variable = requireVariable(this.enter(sessionId), identifier);
    const events = this.options.store.readHistory(
      variable.id,
      beforeVersion > 0 ? beforeVersion : Number.MAX_SAFE_INTEGER,
      limit > 0 ? Math.min(limit, MAX_HISTORY_LIMIT) : DEFAULT_HISTORY_LIMIT,
    );
    return events.flatMap((e) =>
      e.kind === 'variable_registered' || e.kind === 'variable_set' || e.kind === 'variable_rolled_back'
        ? [{ version: e.version, value: e.value, revision: e.revision, time: e.time, actor: e.actor, metadata: e.metadata, kind: e.kind }]
        : [],
    );
  }

  /** Appends a new version holding the value of `targetVersion`. */
  rollback(command: Omit<RollbackVariable, 'kind' | 'targetValue'>, actor: string): VariableState {
    const variable = requireVariable(this.enter(command.sessionId), command.identifier);
    const target = this.options.store.readVersion(variable.id, command.targetVersion);
    const targetValue = target && 'value' in target ? target.value : undefined;
    const session = this.run({ ...command, kind: 'rollback_variable', targetValue }, actor);
    return requireVariable(session, variable.id);
  }

  getVariable(sessionId: SessionId, identifier: string, atRevision: Revision): VariableState {
    return requireVariable(this.sessionAt(sessionId, atRevision), identifier);
  }

  getVariables(
    sessionId: SessionId,
    identifiers: readonly string[],
    atRevision: Revision,
  ): { found: Map<string, VariableState>; missing: string[]; revision: Revision } {
    const session = this.sessionAt(sessionId, atRevision);
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
  listVariables(sessionId: SessionId, pattern: string, atRevision: Revision): VariablesAt {
    const matches = compileGlob(pattern);
    const session = this.sessionAt(sessionId, atRevision);
    const variables = [...session.variables.values()]
      .filter((v) => matches(v.name))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { variables, revision: this.revisionOf(atRevision) };
  }

  commit(command: Omit<Commit, 'kind'>, actor: string): CommitResult {
    let outcomes: readonly OperationOutcome[] = [];
    let eventCounts: readonly number[] = [];
    const before = this.projection.session(command.sessionId);
    const stored = this.execute(command.sessionId, actor, (session, ctx) => {
      const decision = decideCommit(session, { ...command, kind: 'commit' }, ctx);
      outcomes = decision.outcomes;
      eventCounts = decision.eventCounts;
      return [...decision.events];
    });
    return { revision: stored.length ? this.projection.head : (0 as Revision), outcomes: operationVariables(before, this.projection.session(command.sessionId), outcomes, eventCounts, stored) };
  }

  // ── tools ──────────────────────────────────────────────────────────────

  /**
   * Records a tool call's start or end, in its own transaction. The session
   * must exist, in any status: a call that began before a close may end
   * after it. Does not refresh the idle timer (the call's entry did).
   */
  recordTool(record: ToolRecord, actor: string): Revision {
    const ctx = this.context(actor);
    this.append(record.sessionId, ctx, (session) => {
      if (!session) throw new DomainError('not_found', `Session not found: ${record.sessionId}`);
      return [{ ...record, time: ctx.now, actor } as NewEvent];
    });
    return this.projection.head;
  }

  /** Writes a snapshot at the head unless one is there already; true if written. */
  snapshot(): boolean {
    const head = this.projection.head;
    if (head === 0 || head === this.lastSnapshotRevision) return false;
    this.lastSnapshotRevision = head;
    return this.options.store.snapshots.write(head, this.projection.sessions(), this.options.clock.now());
  }

  /** Snapshots (so the next start folds little) and closes the store. */
  close(): void {
    this.listeners.clear();
    this.snapshot();
    this.options.store.close();
  }

  // ── internals ──────────────────────────────────────────────────────────

  /** Runs one command; returns the session's state after it. */
  private run(command: Command, actor: string): SessionState {
    this.execute(command.sessionId, actor, (session, ctx) => decide(session, command, ctx));
    return this.projection.session(command.sessionId) as SessionState;
  }

  /**
   * decide → append → evolve. The decision runs inside the write transaction
   * after folding in anything another process appended, so it always sees
   * the newest state; the projection advances only once the commit is durable.
   */
  private execute(
    sessionId: SessionId,
    actor: string,
    decideEvents: (session: SessionState | undefined, ctx: DecideContext) => NewEvent[],
  ): StoredEvent[] {
    this.expireIfIdle(sessionId);
    const ctx = this.context(actor);
    const stored = this.append(sessionId, ctx, decideEvents);
    this.activity.set(sessionId, ctx.now);
    return stored;
  }

  private append(
    sessionId: SessionId,
    ctx: DecideContext,
    decideEvents: (session: SessionState | undefined, ctx: DecideContext) => NewEvent[],
  ): StoredEvent[] {
    const stored = this.options.store.write((tx) => {
      this.catchUp(tx.head());
      const events = decideEvents(this.projection.session(sessionId), ctx);
      return events.length > 0 ? tx.append(events) : [];
    });
    this.applyAndNotify(stored);
    return stored;
  }

  private applyAndNotify(events: readonly StoredEvent[]): void {
    if (events.length === 0) return;
    const notice: CommitNotice = { events, before: this.projection.apply(events) };
    for (const listener of this.listeners) listener(notice);
    // Inline, on the write that crosses the threshold: simple, and the cost
    // is one pass over the state every `snapshotEvery` events.
    if (this.snapshotEvery > 0 && this.projection.head - this.lastSnapshotRevision >= this.snapshotEvery) this.snapshot();
  }

  private context(actor: string): DecideContext {
    return {
      now: this.options.clock.now(),
      actor,
      newIdSuffix: this.options.newIdSuffix,
      defaultTtlSeconds: this.defaultTtlSeconds,
    };
  }

  /** Folds events another process appended since our head. */
  private catchUp(storeHead: Revision): void {
    while (this.projection.head < storeHead) {
      const read = (after: Revision, limit: number) => this.options.store.readAfter(after, limit);
      const tail = readWholeCommits(read, this.projection.head, 10_000);
      if (tail.length === 0) break;
      this.applyAndNotify(tail);
    }
  }

  private expiresAt(session: SessionState): number {
    const lastActive = Math.max(this.activity.get(session.id) ?? 0, session.modifiedAt, this.startedAt);
    return lastActive + session.ttlSeconds * 1000;
  }

  /** Records expiry of an idle session; true when it expired now. */
  private expireIfIdle(sessionId: SessionId): boolean {
    const session = this.projection.session(sessionId);
    if (session?.status !== 'active' || this.options.clock.now() < this.expiresAt(session)) return false;
    const expire = (s: SessionState | undefined, ctx: DecideContext) => decide(s, { kind: 'expire_session', sessionId }, ctx);
    return this.append(sessionId, this.context(SYSTEM_ACTOR), expire).length > 0;
  }

  /** The live session for a call: expired if idle, refused if ended, timer refreshed. */
  private enter(sessionId: SessionId): SessionState {
    this.expireIfIdle(sessionId);
    const session = requireActive(this.projection.session(sessionId), sessionId);
    this.activity.set(sessionId, this.options.clock.now());
    return session;
  }

  private view(sessionId: SessionId): SessionView {
    const session = this.projection.session(sessionId);
    if (!session) throw new DomainError('not_found', `Session not found: ${sessionId}`);
    return { session, expiresAt: this.expiresAt(session) };
  }

  private revisionOf(atRevision: Revision): Revision {
    return atRevision > 0 ? atRevision : this.projection.head;
  }

  /**
   * The session as of a revision (0 = now). Current reads need a live
   * session; past reads are history and work on ended sessions too.
   */
  sessionAt(sessionId: SessionId, atRevision: Revision): SessionState {
    if (atRevision === 0) return this.enter(sessionId);
    const head = this.projection.head;
    if (atRevision > head) {
      throw new DomainError('revision_out_of_range', `Revision ${atRevision} is beyond the head of the log (${head})`);
    }
    const live = this.projection.session(sessionId);
    // Nothing changed in this session since atRevision: the live state is that state.
    if (live && live.modifiedRevision <= atRevision) return live;
    const past = foldSessionAt(this.options.store, sessionId, atRevision);
    if (!past) throw new DomainError('not_found', `Session not found at revision ${atRevision}: ${sessionId}`);
    return past;
  }
}
