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

/**
 * Tool events record calls, not state: folding them changes nothing (not even
 * a session's modifiedRevision), so reads, snapshots and watchers are as if
 * they were not there. Each is its own commit.
 */
interface ToolEventBase extends Envelope {
  /** Correlates the called event with its completed / failed one. */
  readonly callId: string;
  readonly tool: string;
  /** `server` or `worker:<id>`. */
  readonly host: string;
}

export interface ToolCalled extends ToolEventBase {
  readonly kind: 'tool_called';
  /** JSON of the validated parameters, cut to a size cap. */
  readonly parameters: string;
  readonly metadata: Metadata;
}

export interface ToolCompleted extends ToolEventBase {
  readonly kind: 'tool_completed';
  readonly durationMs: number;
  /** JSON of the result (streaming: the chunk count), cut to a size cap. */
  readonly result: string;
}

export interface ToolFailed extends ToolEventBase {
  readonly kind: 'tool_failed';
  readonly durationMs: number;
  /** The tool's error type, or the failure (deadline_exceeded, cancelled, unavailable, invalid_argument). */
  readonly errorType: string;
  readonly message: string;
}

export type ToolEvent = ToolCalled | ToolCompleted | ToolFailed;

/**
 * Retention moved whole ended sessions out of the log into an archive file.
 * An event of the log, not of a session: its `sessionId` is empty (no client
 * can name that session). Folding it drops the removed sessions, so a
 * snapshot taken before it cannot bring them back.
 */
export interface LogCompacted extends Envelope {
  readonly kind: 'log_compacted';
  /** Sessions that ended (closed or expired) before this time were removed. */
  readonly endedBefore: number;
  readonly sessions: readonly SessionId[];
  /** How many events were removed. */
  readonly events: number;
  /** The newest revision removed so far by any compaction: reads at or below it are out of range. */
  readonly horizon: Revision;
  /** SHA-256 (hex) of the archive file's bytes. */
  readonly archiveSha256: string;
}

/** The session id of events that belong to the log rather than to a session. */
export const LOG_SESSION_ID = '' as SessionId;

export const isToolEvent = (event: NewEvent): event is ToolEvent =>
  event.kind === 'tool_called' || event.kind === 'tool_completed' || event.kind === 'tool_failed';

export type NewEvent =
  | SessionCreated
  | SessionClosed
  | SessionExpired
  | VariableRegistered
  | VariableSet
  | VariableRolledBack
  | VariableDeleted
  | ToolCalled
  | ToolCompleted
  | ToolFailed
  | LogCompacted;

export type EventKind = NewEvent['kind'];

export const EVENT_KINDS: readonly EventKind[] = [
  'session_created',
  'session_closed',
  'session_expired',
  'variable_registered',
  'variable_set',
  'variable_rolled_back',
  'variable_deleted',
  'tool_called',
  'tool_completed',
  'tool_failed',
  'log_compacted',
];

export type StoredEvent = NewEvent & {
  readonly revision: Revision;
  /** All events of one transaction share it: the revision of its first event. */
  readonly commitId: Revision;
};

/**
 * A new event as the log stored it. Copied with Object.assign and two
 * stores rather than `{ ...event, revision, commitId }`: in Node 20 a spread
 * that adds keys costs ~1.5 µs, and each object it makes gets a hidden class
 * of its own, which slowed every later read of the event (projection,
 * watch hubs, commit results) by as much again.
 */
export function storedEvent(event: NewEvent, revision: Revision, commitId: Revision): StoredEvent {
  const stored = Object.assign({}, event) as NewEvent & { revision: Revision; commitId: Revision };
  stored.revision = revision;
  stored.commitId = commitId;
  return stored;
}
