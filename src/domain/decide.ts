/**
 * decide: turns a command and the current state of its session into the
 * events that record it, or throws a DomainError and records nothing.
 * Pure: time, actor and id suffixes arrive in the context.
 */
import { checkConstraints, checkValue } from './constraints.js';
import { convertValue } from './convert.js';
import { CommitRejectedError, DomainError, type OperationFailure } from './errors.js';
import { ScratchSession } from './evolve.js';
import type { Commit, Command, CreateSession, DeleteVariable, Operation, RegisterVariable, RollbackVariable, SetVariable } from './commands.js';
import type { NewEvent, SessionCreated } from './events.js';
import { makeVariableId, type SessionId, type VariableId, type Version } from './ids.js';
import { checkMetadata, hasEntries, LIMITS } from './limits.js';
import { findVariable, type SessionState, type VariableState } from './state.js';

export interface DecideContext {
  /** Milliseconds since the epoch. */
  readonly now: number;
  readonly actor: string;
  /** A fresh, unique suffix for a variable id. */
  readonly newIdSuffix: () => string;
  readonly defaultTtlSeconds: number;
}

export function requireActive(session: SessionState | undefined, sessionId: SessionId): SessionState {
  if (!session) throw new DomainError('not_found', `Session not found: ${sessionId}`);
  if (session.status === 'closed') throw new DomainError('session_ended', `Session closed: ${sessionId}`);
  if (session.status === 'expired') throw new DomainError('session_ended', `Session expired: ${sessionId}`);
  return session;
}

export function requireVariable(session: SessionState, identifier: string): VariableState {
  const variable = findVariable(session, identifier);
  if (!variable) throw new DomainError('not_found', `Variable not found: ${identifier}`);
  return variable;
}

function checkExpectedVersion(variable: VariableState, expected: Version | undefined): void {
  if (expected !== undefined && expected !== variable.version) {
    throw new DomainError(
      'version_conflict',
      `Version conflict on ${variable.name}: expected ${expected}, current ${variable.version}`,
    );
  }
}

function sessionCreated(command: CreateSession, ctx: DecideContext): SessionCreated {
  checkMetadata(command.metadata, 'session metadata');
  if (command.ttlSeconds > LIMITS.ttlSecondsMax) {
    throw new DomainError('invalid_request', `ttl_seconds ${command.ttlSeconds} is above the limit of ${LIMITS.ttlSecondsMax}`);
  }
  return {
    kind: 'session_created',
    sessionId: command.sessionId,
    time: ctx.now,
    actor: ctx.actor,
    metadata: command.metadata,
    ttlSeconds: command.ttlSeconds > 0 ? command.ttlSeconds : ctx.defaultTtlSeconds,
  };
}

function decideRegister(session: SessionState | undefined, command: RegisterVariable, ctx: DecideContext): NewEvent[] {
  // Registering into an unknown session creates it, as the Snakepit bridge does.
  const creation = session
    ? []
    : [sessionCreated({ kind: 'create_session', sessionId: command.sessionId, metadata: {}, ttlSeconds: 0 }, ctx)];
  if (session) requireActive(session, command.sessionId);
  if (session?.names.has(command.name)) {
    throw new DomainError('already_exists', `Variable already exists: ${command.name}`);
  }
  checkConstraints(command.type, command.constraints);
  const value = convertValue(command.type, command.value);
  checkValue(command.type, command.constraints, value);
  checkMetadata(command.metadata);
  if (command.description.length > LIMITS.descriptionLength) {
    throw new DomainError('too_large', `description is longer than ${LIMITS.descriptionLength} characters`);
  }
  let variableId: VariableId = makeVariableId(command.name, ctx.newIdSuffix());
  while (session?.variables.has(variableId)) variableId = makeVariableId(command.name, ctx.newIdSuffix());
  return [
    ...creation,
    {
      kind: 'variable_registered',
      sessionId: command.sessionId,
      time: ctx.now,
      actor: ctx.actor,
      variableId,
      version: 0 as Version,
      name: command.name,
      type: command.type,
      value,
      constraints: command.constraints,
      metadata: command.metadata,
      description: command.description,
    },
  ];
}

function decideSet(session: SessionState | undefined, command: SetVariable, ctx: DecideContext): NewEvent[] {
  const variable = requireVariable(requireActive(session, command.sessionId), command.identifier);
  checkExpectedVersion(variable, command.expectedVersion);
  const value = convertValue(variable.type, command.value);
  checkValue(variable.type, variable.constraints, value);
  checkMetadata(command.metadata);
  // The update's metadata is merged into the variable's: bound the result,
  // or repeated sets with new keys would grow the projection without limit.
  // (Without new keys the result is the variable's own metadata, bounded already.)
  if (hasEntries(command.metadata)) checkMetadata({ ...variable.metadata, ...command.metadata }, 'merged metadata');
  return [
    {
      kind: 'variable_set',
      sessionId: command.sessionId,
      time: ctx.now,
      actor: ctx.actor,
      variableId: variable.id,
      version: (variable.version + 1) as Version,
      value,
      metadata: command.metadata,
    },
  ];
}

function decideRollback(session: SessionState | undefined, command: RollbackVariable, ctx: DecideContext): NewEvent[] {
  const variable = requireVariable(requireActive(session, command.sessionId), command.identifier);
  checkExpectedVersion(variable, command.expectedVersion);
  if (command.targetValue === undefined || command.targetVersion > variable.version) {
    throw new DomainError('not_found', `Version ${command.targetVersion} of ${variable.name} not found (current version ${variable.version})`);
  }
  // The old value must still satisfy the variable's current type and constraints.
  const value = convertValue(variable.type, command.targetValue);
  checkValue(variable.type, variable.constraints, value);
  checkMetadata(command.metadata);
  return [
    {
      kind: 'variable_rolled_back',
      sessionId: command.sessionId,
      time: ctx.now,
      actor: ctx.actor,
      variableId: variable.id,
      version: (variable.version + 1) as Version,
      value,
      targetVersion: command.targetVersion,
      metadata: {
        ...command.metadata,
        rolled_back_from: String(variable.version),
        rolled_back_to: String(command.targetVersion),
      },
    },
  ];
}

function decideDelete(session: SessionState | undefined, command: DeleteVariable, ctx: DecideContext): NewEvent[] {
  const variable = requireVariable(requireActive(session, command.sessionId), command.identifier);
  checkExpectedVersion(variable, command.expectedVersion);
  checkMetadata(command.metadata);
  return [
    {
      kind: 'variable_deleted',
      sessionId: command.sessionId,
      time: ctx.now,
      actor: ctx.actor,
      variableId: variable.id,
      version: variable.version,
      metadata: command.metadata,
    },
  ];
}

/** Decides a single command. Throws a DomainError when it is refused. */
export function decide(session: SessionState | undefined, command: Command, ctx: DecideContext): NewEvent[] {
  switch (command.kind) {
    case 'create_session':
      if (session) throw new DomainError('already_exists', `Session already exists: ${command.sessionId}`);
      return [sessionCreated(command, ctx)];
    case 'close_session':
      requireActive(session, command.sessionId);
      return [{ kind: 'session_closed', sessionId: command.sessionId, time: ctx.now, actor: ctx.actor }];
    case 'expire_session':
      // Idempotent: a session that already ended has nothing left to expire.
      if (session?.status !== 'active') return [];
      return [{ kind: 'session_expired', sessionId: command.sessionId, time: ctx.now, actor: ctx.actor }];
    case 'register_variable':
      return decideRegister(session, command, ctx);
    case 'set_variable':
      return decideSet(session, command, ctx);
    case 'delete_variable':
      return decideDelete(session, command, ctx);
    case 'rollback_variable':
      return decideRollback(session, command, ctx);
    default: {
      const exhaustive: never = command;
      throw new Error(`unhandled command ${JSON.stringify(exhaustive)}`);
    }
  }
}

export type OperationOutcome =
  | { readonly ok: true; readonly variableId: VariableId }
  | { readonly ok: false; readonly error: DomainError };

export interface CommitDecision {
  readonly events: readonly NewEvent[];
  /** One per operation, in request order. */
  readonly outcomes: readonly OperationOutcome[];
  /** How many of `events` each operation produced (0 for a failed one). */
  readonly eventCounts: readonly number[];
}

const identifierOf = (op: Operation): string => (op.kind === 'register_variable' ? op.name : op.identifier);

/**
 * Decides a batch. Each operation is decided against the state left by the
 * ones before it, so a batch may register a variable and then set it.
 * Atomic: any failure throws CommitRejectedError naming every failing
 * operation. Non-atomic: failures are reported per operation and the
 * successes are returned to be written together.
 */
export function decideCommit(session: SessionState | undefined, command: Commit, ctx: DecideContext): CommitDecision {
  if (command.operations.length > LIMITS.commitOperations) {
    throw new DomainError('too_large', `Commit has ${command.operations.length} operations; the limit is ${LIMITS.commitOperations}`);
  }
  // Like RegisterVariable, a batch holding a register may create its session;
  // each operation then meets the state the ones before it left.
  const mayCreate = command.operations.some((op) => op.kind === 'register_variable');
  if (session || !mayCreate) requireActive(session, command.sessionId);

  const events: NewEvent[] = [];
  const outcomes: OperationOutcome[] = [];
  const failures: OperationFailure[] = [];
  const eventCounts: number[] = [];
  const scratch = new ScratchSession(session);
  const { operations } = command;
  for (let index = 0; index < operations.length; index++) {
    const op = operations[index] as Operation;
    try {
      const produced = decide(scratch.state, op, ctx);
      scratch.apply(produced);
      for (const event of produced) events.push(event);
      const last = produced[produced.length - 1];
      if (!last || !('variableId' in last)) throw new Error('an operation produced no variable event');
      outcomes.push({ ok: true, variableId: last.variableId });
      eventCounts.push(produced.length);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      outcomes.push({ ok: false, error });
      eventCounts.push(0);
      failures.push({ index, identifier: identifierOf(op), error });
    }
  }
  if (command.atomic && failures.length > 0) throw new CommitRejectedError(failures);
  return { events, outcomes, eventCounts };
}
