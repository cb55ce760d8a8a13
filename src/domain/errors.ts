/**
 * Typed domain errors. The code says what went wrong in domain terms; the
 * server's single status table (src/server/status-table.ts) turns it into a
 * gRPC status, so no other place decides protocol codes.
 */
export type ErrorCode =
  /** The request is malformed: missing field, bad identifier, unknown enum. */
  | 'invalid_request'
  /** A value has the wrong type or breaks a constraint. */
  | 'invalid_value'
  | 'not_found'
  | 'already_exists'
  /** The session is closed or expired. */
  | 'session_ended'
  | 'version_conflict'
  /** A revision not yet written. */
  | 'revision_out_of_range'
  /** A revision (or a whole session) that retention moved out of the log; see RevisionCompactedError. */
  | 'revision_compacted'
  /** A message, field or batch over a limit. */
  | 'too_large'
  /** A tool's handler failed; see ToolFailedError. */
  | 'tool_failed'
  /** A tool call ran past its deadline. */
  | 'deadline_exceeded'
  /** The caller cancelled a tool call. */
  | 'cancelled'
  /** Whoever hosts a tool (a worker) went away during the call. */
  | 'unavailable'
  /** No credentials, or credentials nobody issued. */
  | 'unauthenticated'
  /** A known principal asked for more than its grants allow. */
  | 'permission_denied'
  /** A principal went over a rate, byte or session limit; see LimitExceededError. */
  | 'limit_exceeded';

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** One failing operation of a commit, as reported to the caller. */
export interface OperationFailure {
  readonly index: number;
  readonly identifier: string;
  readonly error: DomainError;
}

/**
 * An atomic commit in which at least one operation failed. It carries every
 * failure so the caller can fix them all at once; nothing was written.
 */
/** Failures named in the message; the rest are counted (a status message travels in a header). */
const FAILURES_IN_MESSAGE = 10;

export class CommitRejectedError extends DomainError {
  constructor(readonly failures: readonly OperationFailure[]) {
    const first = failures[0];
    if (!first) throw new Error('CommitRejectedError needs at least one failure');
    const named = failures.slice(0, FAILURES_IN_MESSAGE);
    const detail = named.map((f) => `[${f.index}] ${f.identifier}: ${f.error.message}`).join('; ');
    const more = failures.length > named.length ? `; and ${failures.length - named.length} more` : '';
    super(first.error.code, `Commit rejected, ${failures.length} of its operations failed: ${detail}${more}`);
    this.name = 'CommitRejectedError';
  }
}

/**
 * A tool's own failure: its message as the tool gave it, plus a type the
 * caller can branch on (the thrown error's name, or what a worker sent).
 */
export class ToolFailedError extends DomainError {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super('tool_failed', message);
    this.name = 'ToolFailedError';
  }
}

/** Over a per-principal limit: nothing was done; `retryAfterMs` says when to try again (0: when something is freed). */
export class LimitExceededError extends DomainError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super('limit_exceeded', message);
    this.name = 'LimitExceededError';
  }
}

/**
 * What a call needs was moved out of the log by retention (etcd's "required
 * revision has been compacted"). `oldestRevision` is the oldest revision
 * still readable: a client resyncs from a fresh read and resumes from there.
 */
export class RevisionCompactedError extends DomainError {
  constructor(
    message: string,
    readonly oldestRevision: number,
  ) {
    super('revision_compacted', `${message}; the oldest revision available is ${oldestRevision}`);
    this.name = 'RevisionCompactedError';
  }
}
