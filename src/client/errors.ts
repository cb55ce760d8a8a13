/**
 * Typed client errors. Every failed call rejects with a `VarledgerError`
 * whose `code` is the gRPC status; the subclass says what went wrong in the
 * server's terms (see the error table in the README), so callers can
 * `catch (e) { if (e instanceof VersionConflictError) … }` without status numbers.
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import { COMMIT_FAILURES_TRAILER, OLDEST_REVISION_TRAILER, RETRY_AFTER_TRAILER } from '../server/status-table.js';

export class VarledgerError extends Error {
  /** The gRPC status code, e.g. `status.NOT_FOUND` (5). */
  readonly code: status;
  constructor(code: status, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
  /** The status name, e.g. "NOT_FOUND". */
  get codeName(): string {
    return status[this.code] ?? String(this.code);
  }
}

/** INVALID_ARGUMENT: a wrong type, a failed conversion, a broken constraint or a malformed request. */
export class ConstraintError extends VarledgerError {}
/** NOT_FOUND: an unknown session or variable. */
export class NotFoundError extends VarledgerError {}
/** ALREADY_EXISTS: a variable name or session id that is taken. */
export class AlreadyExistsError extends VarledgerError {}
/** FAILED_PRECONDITION: the session has ended. */
export class SessionEndedError extends VarledgerError {}
export class SessionClosedError extends SessionEndedError {}
export class SessionExpiredError extends SessionEndedError {}
/** ABORTED: `expected_version` did not match; nothing was written. */
export class VersionConflictError extends VarledgerError {
  /** Parsed from the server's message when it has the usual form, else undefined. */
  readonly expectedVersion: number | undefined;
  readonly currentVersion: number | undefined;
  constructor(code: status, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    const match = /expected (\d+), current (\d+)/.exec(message);
    this.expectedVersion = match ? Number(match[1]) : undefined;
    this.currentVersion = match ? Number(match[2]) : undefined;
  }
}
/**
 * OUT_OF_RANGE: a revision beyond the head of the log, or one retention
 * compacted away — then `oldestRevision` (from the server's
 * `varledger-oldest-revision` trailer) is the oldest revision still
 * available: read the current state afresh and go on from there.
 */
export class OutOfRangeError extends VarledgerError {
  oldestRevision: number | undefined;
  /** True when the revision (or session) was compacted away rather than not yet written. */
  get compacted(): boolean {
    return this.oldestRevision !== undefined;
  }
}
/**
 * RESOURCE_EXHAUSTED: a message, metadata or batch over a limit, or a
 * principal over its rate, byte or session limit; then `retryAfterMs` says
 * how long to wait (from the server's `varledger-retry-after-ms` trailer).
 */
export class ResourceExhaustedError extends VarledgerError {
  retryAfterMs: number | undefined;
}
/** UNAUTHENTICATED: no token or client certificate, or one the server does not know. */
export class UnauthenticatedError extends VarledgerError {}
/** PERMISSION_DENIED: the principal's grants do not cover this session or operation. */
export class PermissionDeniedError extends VarledgerError {}
/** UNAVAILABLE: the server cannot be reached (not started, restarting, shut down). */
export class UnavailableError extends VarledgerError {}

/** One failed operation of a batch. */
export interface OperationFailure {
  readonly index: number;
  /** The operation's variable name (or id). */
  readonly identifier: string;
  /** The typed error the operation alone would have raised. */
  readonly error: VarledgerError;
}

/** An atomic batch in which at least one operation failed: nothing was written. */
export class CommitRejectedError extends VarledgerError {
  constructor(
    code: status,
    message: string,
    readonly failures: readonly OperationFailure[],
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

type ErrorClass = new (code: status, message: string, options?: { cause?: unknown }) => VarledgerError;

const CLASS_OF: Partial<Record<status, ErrorClass>> = {
  [status.INVALID_ARGUMENT]: ConstraintError,
  [status.NOT_FOUND]: NotFoundError,
  [status.ALREADY_EXISTS]: AlreadyExistsError,
  [status.FAILED_PRECONDITION]: SessionEndedError,
  [status.ABORTED]: VersionConflictError,
  [status.OUT_OF_RANGE]: OutOfRangeError,
  [status.RESOURCE_EXHAUSTED]: ResourceExhaustedError,
  [status.UNAVAILABLE]: UnavailableError,
  [status.UNAUTHENTICATED]: UnauthenticatedError,
  [status.PERMISSION_DENIED]: PermissionDeniedError,
};

/** The typed error for a status and message (as the server words them). */
export function errorFor(code: status, message: string, cause?: unknown): VarledgerError {
  let Class = CLASS_OF[code] ?? VarledgerError;
  if (code === status.FAILED_PRECONDITION) {
    if (message.startsWith('Session expired')) Class = SessionExpiredError;
    else if (message.startsWith('Session closed')) Class = SessionClosedError;
  }
  return new Class(code, message, cause === undefined ? undefined : { cause });
}

/** The status for a name such as "INVALID_ARGUMENT" (per-operation results carry names). */
export function statusOfName(name: string): status {
  const code = (status as unknown as Record<string, unknown>)[name];
  return typeof code === 'number' ? (code as status) : status.UNKNOWN;
}

const isServiceError = (error: unknown): error is ServiceError =>
  error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number' && 'details' in error;

/**
 * Turns whatever a gRPC call rejected with into a `VarledgerError`; an atomic
 * commit's trailer becomes a `CommitRejectedError` listing every failure.
 * Errors that are already typed pass through unchanged.
 */
export function toVarledgerError(error: unknown): VarledgerError {
  if (error instanceof VarledgerError) return error;
  if (!isServiceError(error)) {
    return new VarledgerError(status.UNKNOWN, error instanceof Error ? error.message : String(error), { cause: error });
  }
  const failures = commitFailures(error);
  if (failures) return new CommitRejectedError(error.code, error.details, failures, { cause: error });
  const typed = errorFor(error.code, error.details, error);
  if (typed instanceof ResourceExhaustedError) {
    const retry = Number(error.metadata?.get(RETRY_AFTER_TRAILER)[0]);
    if (Number.isFinite(retry) && retry > 0) typed.retryAfterMs = retry;
  }
  if (typed instanceof OutOfRangeError) {
    const oldest = Number(error.metadata?.get(OLDEST_REVISION_TRAILER)[0]);
    if (Number.isSafeInteger(oldest) && oldest > 0) typed.oldestRevision = oldest;
  }
  return typed;
}

interface WireFailure {
  readonly index: number;
  readonly identifier: string;
  readonly code: string;
  readonly message: string;
}

function commitFailures(error: ServiceError): OperationFailure[] | undefined {
  const raw = error.metadata?.get(COMMIT_FAILURES_TRAILER)[0];
  if (raw === undefined) return undefined;
  try {
    const parsed = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8')) as WireFailure[];
    return parsed.map((f) => ({ index: f.index, identifier: f.identifier, error: errorFor(statusOfName(f.code), f.message) }));
  } catch {
    return undefined;
  }
}
