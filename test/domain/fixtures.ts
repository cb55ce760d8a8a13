/**
 * Given / when / then over events for the pure domain: a fixed context, small
 * builders for commands and values, and a scenario that folds what it is
 * given and decides what it is asked, without any I/O.
 */
import type { ExecutionContext } from 'ava';
import {
  decide,
  decideCommit,
  DomainError,
  evolve,
  parseSessionId,
  type Command,
  type CommitDecision,
  type Constraints,
  type DecideContext,
  type ErrorCode,
  type Metadata,
  type NewEvent,
  type Operation,
  type Revision,
  type SessionId,
  type SessionState,
  type StoredEvent,
  type Value,
  type VariableState,
  type VariableType,
  type Version,
} from '../../src/domain/index.js';

export const NOW = Date.UTC(2026, 0, 1);
export const ACTOR = 'tester';

/** A fixed context whose id suffixes count up from 1. */
export function makeCtx(overrides: Partial<DecideContext> = {}): DecideContext {
  let counter = 0;
  return { now: NOW, actor: ACTOR, newIdSuffix: () => String(++counter), defaultTtlSeconds: 3600, ...overrides };
}

export const S1: SessionId = parseSessionId('s1');

// Values ------------------------------------------------------------------
export const float = (value: number): Value => ({ kind: 'float', value });
export const int = (value: bigint | number): Value => ({ kind: 'integer', value: BigInt(value) });
export const str = (value: string): Value => ({ kind: 'string', value });
export const bool = (value: boolean): Value => ({ kind: 'boolean', value });
export const vec = (values: number[]): Value => ({ kind: 'vector', values });
export const tensor = (shape: number[], data: number[], dtype = 'float64'): Value => ({ kind: 'tensor', shape, data, dtype });

// Commands ----------------------------------------------------------------
export const createSession = (opts: { sessionId?: SessionId; metadata?: Metadata; ttlSeconds?: number } = {}): Command => ({
  kind: 'create_session',
  sessionId: opts.sessionId ?? S1,
  metadata: opts.metadata ?? {},
  ttlSeconds: opts.ttlSeconds ?? 0,
});
export const closeSession = (sessionId: SessionId = S1): Command => ({ kind: 'close_session', sessionId });
export const expireSession = (sessionId: SessionId = S1): Command => ({ kind: 'expire_session', sessionId });

export interface RegisterOptions {
  sessionId?: SessionId;
  constraints?: Constraints;
  metadata?: Metadata;
  description?: string;
}
export const register = (name: string, type: VariableType, value: Value, opts: RegisterOptions = {}): Operation => ({
  kind: 'register_variable',
  sessionId: opts.sessionId ?? S1,
  name,
  type,
  value,
  constraints: opts.constraints ?? {},
  metadata: opts.metadata ?? {},
  description: opts.description ?? '',
});

export interface WriteOptions {
  sessionId?: SessionId;
  metadata?: Metadata;
  expectedVersion?: number;
}
export const setVar = (identifier: string, value: Value, opts: WriteOptions = {}): Operation => ({
  kind: 'set_variable',
  sessionId: opts.sessionId ?? S1,
  identifier,
  value,
  metadata: opts.metadata ?? {},
  expectedVersion: opts.expectedVersion as Version | undefined,
});
export const deleteVar = (identifier: string, opts: WriteOptions = {}): Operation => ({
  kind: 'delete_variable',
  sessionId: opts.sessionId ?? S1,
  identifier,
  metadata: opts.metadata ?? {},
  expectedVersion: opts.expectedVersion as Version | undefined,
});

/** Gives events gapless revisions from `first`, one commit per call. */
export function stored(events: readonly NewEvent[], first: number): StoredEvent[] {
  return events.map((e, i) => ({ ...e, revision: (first + i) as Revision, commitId: first as Revision }));
}

/**
 * One session's history: `given` folds commands or raw events into state,
 * `when` decides a command against it (without applying), `apply` decides
 * and folds.
 */
export class Scenario {
  readonly log: StoredEvent[] = [];
  state: SessionState | undefined;

  constructor(readonly ctx: DecideContext = makeCtx()) {}

  /** Folds already-decided facts, as if read from the log. */
  givenEvents(...events: NewEvent[]): this {
    const batch = stored(events, this.log.length + 1);
    this.log.push(...batch);
    this.state = evolve(this.state, batch);
    return this;
  }

  /** Decides each command in turn and folds its events. */
  given(...commands: Command[]): this {
    for (const command of commands) this.apply(command);
    return this;
  }

  when(command: Command): NewEvent[] {
    return decide(this.state, command, this.ctx);
  }

  whenCommit(operations: Operation[], atomic: boolean, sessionId: SessionId = S1): CommitDecision {
    return decideCommit(this.state, { kind: 'commit', sessionId, operations, atomic }, this.ctx);
  }

  apply(command: Command): NewEvent[] {
    const events = this.when(command);
    if (events.length > 0) this.givenEvents(...events);
    return events;
  }

  variable(identifier: string): VariableState {
    const state = this.state;
    if (!state) throw new Error('no session');
    const id = state.names.get(identifier) ?? identifier;
    const v = state.variables.get(id as VariableState['id']);
    if (!v) throw new Error(`no variable ${identifier}`);
    return v;
  }
}

export const given = (...commands: Command[]): Scenario => new Scenario().given(...commands);

/** Asserts `fn` throws a DomainError with this code and message. */
export function throwsDomain(
  t: ExecutionContext,
  fn: () => unknown,
  code: ErrorCode,
  message: string | RegExp,
): DomainError | undefined {
  const error = t.throws(fn, { instanceOf: DomainError, message });
  if (error) t.is((error as DomainError).code, code);
  return error as DomainError | undefined;
}
