/**
 * Events: the facts the log records. `NewEvent` is what `decide` returns;
 * the store gives each one a revision and a commit id (`StoredEvent`).
 */
import type { Revision, SessionId, VariableId, Version } from './ids.js';
import type { Constraints, Metadata, Value, VariableType } from './types.js';

interface Envelope {
  readonly sessionId: SessionId;
  /** Wall-clock milliseconds since the epoch, from the injected clock. */
  readonly time: number;
  readonly actor: string;
}

export interface SessionCreated extends Envelope {
  readonly kind: 'session_created';
  readonly metadata: Metadata;
  readonly ttlSeconds: number;
}

export interface SessionClosed extends Envelope {
  readonly kind: 'session_closed';
}

export interface SessionExpired extends Envelope {
  readonly kind: 'session_expired';
}

export interface VariableRegistered extends Envelope {
  readonly kind: 'variable_registered';
  readonly variableId: VariableId;
  readonly version: Version;
  readonly name: string;
  readonly type: VariableType;
  readonly value: Value;
  readonly constraints: Constraints;
  readonly metadata: Metadata;
  readonly description: string;
}

export interface VariableSet extends Envelope {
  readonly kind: 'variable_set';
  readonly variableId: VariableId;
  readonly version: Version;
  readonly value: Value;
  /** The update's own metadata (e.g. a `reason`), merged into the variable's. */
  readonly metadata: Metadata;
}

/**
 * A set that restores the value of an earlier version. History is never
 * rewritten: the variable moves forward to a new version holding old data.
 */
export interface VariableRolledBack extends Envelope {
  readonly kind: 'variable_rolled_back';
  readonly variableId: VariableId;
  readonly version: Version;
  readonly value: Value;
  /** The update's metadata; includes `rolled_back_from` and `rolled_back_to`. */
  readonly metadata: Metadata;
  readonly targetVersion: Version;
}

export interface VariableDeleted extends Envelope {
  readonly kind: 'variable_deleted';
  readonly variableId: VariableId;
  /** The version the variable had when it was deleted. */
  readonly version: Version;
  readonly metadata: Metadata;
}

export type NewEvent =
  | SessionCreated
  | SessionClosed
  | SessionExpired
  | VariableRegistered
  | VariableSet
  | VariableRolledBack
  | VariableDeleted;

export type EventKind = NewEvent['kind'];

export const EVENT_KINDS: readonly EventKind[] = [
  'session_created',
  'session_closed',
  'session_expired',
  'variable_registered',
  'variable_set',
  'variable_rolled_back',
  'variable_deleted',
];

export type StoredEvent = NewEvent & {
  readonly revision: Revision;
  /** All events of one transaction share it: the revision of its first event. */
  readonly commitId: Revision;
};
