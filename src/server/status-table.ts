/**
 * The one place that turns errors into gRPC statuses. Domain errors map by
 * code; anything else is a bug or an outage, so the caller gets a generic
 * INTERNAL and the details go to the log.
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { CommitRejectedError, DomainError, type ErrorCode } from '../domain/index.js';

export const STATUS_OF: Readonly<Record<ErrorCode, status>> = {
  invalid_request: status.INVALID_ARGUMENT,
  invalid_value: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  session_ended: status.FAILED_PRECONDITION,
  version_conflict: status.ABORTED,
  revision_out_of_range: status.OUT_OF_RANGE,
  too_large: status.RESOURCE_EXHAUSTED,
};

/** The status name a client sees, e.g. "INVALID_ARGUMENT", for per-operation results. */
export const statusName = (code: ErrorCode): string => status[STATUS_OF[code]];

/** Trailer carrying an atomic commit's failures as JSON: [{index, identifier, code, message}]. */
export const COMMIT_FAILURES_TRAILER = 'varledger-operation-errors-bin';

export type GrpcError = Partial<ServiceError> & { code: status; details: string };

export function toGrpcError(error: unknown, logger: Logger): GrpcError {
  if (error instanceof DomainError) {
    const result: GrpcError = { code: STATUS_OF[error.code], details: error.message };
    if (error instanceof CommitRejectedError) {
      const metadata = new Metadata();
      const failures = error.failures.map((f) => ({
        index: f.index,
        identifier: f.identifier,
        code: statusName(f.error.code),
        message: f.error.message,
      }));
      metadata.set(COMMIT_FAILURES_TRAILER, Buffer.from(JSON.stringify(failures)));
      result.metadata = metadata;
    }
    return result;
  }
  logger.error({ err: error }, 'unexpected error while handling a call');
  return { code: status.INTERNAL, details: 'Internal error; the server log has the details' };
}
