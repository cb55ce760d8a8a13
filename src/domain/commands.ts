/** Commands: what callers ask for, already parsed into domain types. */
import type { SessionId, Version } from './ids.js';
import type { Constraints, Metadata, Value, VariableType } from './types.js';

export interface CreateSession {
  readonly kind: 'create_session';
  readonly sessionId: SessionId;
  readonly metadata: Metadata;
  /** 0 means the server default. */
  readonly ttlSeconds: number;
}

export interface CloseSession {
  readonly kind: 'close_session';
  readonly sessionId: SessionId;
}

/** Issued by the server when a session has been idle past its TTL. */
export interface ExpireSession {
  readonly kind: 'expire_session';
  readonly sessionId: SessionId;
}

export interface RegisterVariable {
  readonly kind: 'register_variable';
  readonly sessionId: SessionId;
  readonly name: string;
  readonly type: VariableType;
  readonly value: Value;
  readonly constraints: Constraints;
  readonly metadata: Metadata;
  readonly description: string;
}

export interface SetVariable {
  readonly kind: 'set_variable';
  readonly sessionId: SessionId;
  readonly identifier: string;
  readonly value: Value;
  readonly metadata: Metadata;
  readonly expectedVersion?: Version | undefined;
}

export interface RollbackVariable {
  readonly kind: 'rollback_variable';
  readonly sessionId: SessionId;
  readonly identifier: string;
  readonly targetVersion: Version;
  /**
   * The value the variable had at `targetVersion`, looked up in the log by
   * the caller (the domain does no I/O); undefined when no such version exists.
   */
  readonly targetValue: Value | undefined;
  readonly metadata: Metadata;
  readonly expectedVersion?: Version | undefined;
}

export interface DeleteVariable {
  readonly kind: 'delete_variable';
  readonly sessionId: SessionId;
  readonly identifier: string;
  readonly metadata: Metadata;
  readonly expectedVersion?: Version | undefined;
}

export type Operation = RegisterVariable | SetVariable | DeleteVariable;

export interface Commit {
  readonly kind: 'commit';
  readonly sessionId: SessionId;
  readonly operations: readonly Operation[];
  readonly atomic: boolean;
}

export type Command = CreateSession | CloseSession | ExpireSession | Operation | RollbackVariable;
