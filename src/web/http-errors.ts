/**
 * Errors as HTTP responses. The domain → status decision stays in the one
 * table (src/server/status-table.ts); this maps its gRPC statuses to HTTP
 * the way grpc-gateway does, so a failure means the same on both APIs, and
 * the body names the gRPC status too.
 */
import { status } from '@grpc/grpc-js';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import { DomainError } from '../domain/index.js';
import { STATUS_OF } from '../server/status-table.js';
import type { ErrorJson } from './api-types.js';

const HTTP_OF: Readonly<Partial<Record<status, ContentfulStatusCode>>> = {
  [status.INVALID_ARGUMENT]: 400,
  [status.FAILED_PRECONDITION]: 400,
  [status.OUT_OF_RANGE]: 400,
  [status.UNAUTHENTICATED]: 401,
  [status.PERMISSION_DENIED]: 403,
  [status.NOT_FOUND]: 404,
  [status.ALREADY_EXISTS]: 409,
  [status.ABORTED]: 409,
  [status.RESOURCE_EXHAUSTED]: 429,
  [status.CANCELLED]: 499 as ContentfulStatusCode,
  [status.UNAVAILABLE]: 503,
  [status.DEADLINE_EXCEEDED]: 504,
};

const HTTP_TO_STATUS: Readonly<Record<number, status>> = { 401: status.UNAUTHENTICATED, 403: status.PERMISSION_DENIED, 404: status.NOT_FOUND, 413: status.RESOURCE_EXHAUSTED, 503: status.UNAVAILABLE };

/** A request the web layer itself refuses (bad parameter, no permission). */
export function httpError(httpStatus: 400 | 401 | 403 | 404 | 413 | 503, message: string): HTTPException {
  const code = HTTP_TO_STATUS[httpStatus] ?? status.INVALID_ARGUMENT;
  const body: ErrorJson = { error: message, code: status[code] };
  return new HTTPException(httpStatus, { res: Response.json(body, { status: httpStatus }) });
}

export function errorResponse(error: unknown, c: Context, logger: Logger): Response {
  if (error instanceof HTTPException) return error.getResponse();
  if (error instanceof DomainError) {
    const code = STATUS_OF[error.code];
    const body: ErrorJson = { error: error.message, code: status[code] };
    return c.json(body, HTTP_OF[code] ?? 500);
  }
  logger.error({ err: error, path: c.req.path }, 'unexpected error in the web view');
  const body: ErrorJson = { error: 'Internal error; the server log has the details', code: 'INTERNAL' };
  return c.json(body, 500);
}
