/**
 * The one place that turns errors into gRPC statuses. Domain errors map by
 * code; anything else is a bug or an outage, so the caller gets a generic
 * INTERNAL and the details go to the log.
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { CommitRejectedError, DomainError, LimitExceededError, RevisionCompactedError, ToolFailedError, type ErrorCode } from '../domain/index.js';

export const STATUS_OF: Readonly<Record<ErrorCode, status>> = {
  invalid_request: status.INVALID_ARGUMENT,
  invalid_value: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  session_ended: status.FAILED_PRECONDITION,
  version_conflict: status.ABORTED,
  revision_out_of_range: status.OUT_OF_RANGE,
  // The trailer below tells it apart from a revision not yet written: resync from a fresh read.
  revision_compacted: status.OUT_OF_RANGE,
  too_large: status.RESOURCE_EXHAUSTED,
  // The tool's own failure: UNKNOWN is gRPC's code for errors from another
  // error space; the trailer below says which (type) and why (message).
  tool_failed: status.UNKNOWN,
  deadline_exceeded: status.DEADLINE_EXCEEDED,
  cancelled: status.CANCELLED,
  unavailable: status.UNAVAILABLE,
  unauthenticated: status.UNAUTHENTICATED,
  permission_denied: status.PERMISSION_DENIED,
  limit_exceeded: status.RESOURCE_EXHAUSTED,
};

/** The status name a client sees, e.g. "INVALID_ARGUMENT", for per-operation results. */
export const statusName = (code: ErrorCode): string => status[STATUS_OF[code]];

/** Trailer carrying an atomic commit's failures as JSON: [{index, identifier, code, message}]. */
export const COMMIT_FAILURES_TRAILER = 'varledger-operation-errors-bin';

/** Trailer carrying a failed tool's error as JSON: {type, message}. */
export const TOOL_ERROR_TRAILER = 'varledger-tool-error-bin';

/** Trailer of a call refused over a limit: milliseconds to wait before retrying (absent: until something is freed). */
export const RETRY_AFTER_TRAILER = 'varledger-retry-after-ms';

/** Trailer of a call that needed events retention removed: the oldest revision still available. */
export const OLDEST_REVISION_TRAILER = 'varledger-oldest-revision';

/**
 * Trailers are HTTP/2 headers, and a client refuses headers over its limit
 * (8 KiB by default in grpc-js) — the call then never completes. So the
 * trailer holds the first failures that fit this budget, and the status
 * message says how many failed in all.
 */
const TRAILER_BUDGET_BYTES = 4 * 1024;
const MAX_DETAIL_LENGTH = 300;

function failuresTrailer(error: CommitRejectedError): Buffer {
  const failures: { index: number; identifier: string; code: string; message: string }[] = [];
  let size = 2;
  for (const f of error.failures) {
    const entry = {
      index: f.index,
      identifier: f.identifier.slice(0, MAX_DETAIL_LENGTH),
      code: statusName(f.error.code),
      message: f.error.message.slice(0, MAX_DETAIL_LENGTH),
    };
    const entrySize = Buffer.byteLength(JSON.stringify(entry)) + 1;
    if (size + entrySize > TRAILER_BUDGET_BYTES) break;
    failures.push(entry);
    size += entrySize;
  }
  return Buffer.from(JSON.stringify(failures));
}

export type GrpcError = Partial<ServiceError> & { code: status; details: string };

/** Longest status message sent; it travels in a header too. */
const MAX_MESSAGE_BYTES = 1024;

export function toGrpcError(error: unknown, logger: Logger): GrpcError {
  if (error instanceof DomainError) {
    const details = error.message.length > MAX_MESSAGE_BYTES ? `${error.message.slice(0, MAX_MESSAGE_BYTES)}…` : error.message;
    const result: GrpcError = { code: STATUS_OF[error.code], details };
    if (error instanceof CommitRejectedError) {
      const metadata = new Metadata();
      metadata.set(COMMIT_FAILURES_TRAILER, failuresTrailer(error));
      result.metadata = metadata;
    }
    if (error instanceof ToolFailedError) {
      const metadata = new Metadata();
      const detail = { type: error.errorType.slice(0, MAX_DETAIL_LENGTH), message: details };
      metadata.set(TOOL_ERROR_TRAILER, Buffer.from(JSON.stringify(detail)));
      result.metadata = metadata;
    }
    if (error instanceof RevisionCompactedError) {
      const metadata = new Metadata();
      metadata.set(OLDEST_REVISION_TRAILER, String(error.oldestRevision));
      result.metadata = metadata;
    }
    if (error instanceof LimitExceededError && error.retryAfterMs > 0) {
      const metadata = new Metadata();
      metadata.set(RETRY_AFTER_TRAILER, String(error.retryAfterMs));
      result.metadata = metadata;
    }
    return result;
  }
  logger.error({ err: error }, 'unexpected error while handling a call');
  return { code: status.INTERNAL, details: 'Internal error; the server log has the details' };
}
