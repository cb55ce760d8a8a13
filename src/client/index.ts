/** The TypeScript client: `connect()` → `VarledgerClient` → `Session`. */
export { connect, VarledgerClient, type ConnectOptions, type CreateSessionOptions } from './client.js';
export { Session, type SessionOptions, type UpdateOptions, type HistoryOptions } from './session.js';
export { SessionAt } from './session-at.js';
export {
  BatchBuilder,
  type BatchOptions,
  type BatchResult,
  type OperationResult,
  type OperationKind,
  type RegisterOptions,
  type SetOptions,
  type DeleteOptions,
} from './batch.js';
export type { CacheMode, CacheStats } from './variable-cache.js';
export type { WatchOptions } from './watch-stream.js';
export type { WatchEvent, WatchEventKind, WatchBatch, WatchResync } from './watch-event.js';
export type { Variable, HistoryEntry, HistoryKind, SessionInfo, SessionState } from './variable.js';
export type { VariableValue, Tensor } from './values.js';
export type { BackoffOptions } from './backoff.js';
export type { SpawnOptions, LocalServer } from './local-server.js';
export {
  VarledgerError,
  ConstraintError,
  NotFoundError,
  AlreadyExistsError,
  SessionEndedError,
  SessionClosedError,
  SessionExpiredError,
  VersionConflictError,
  OutOfRangeError,
  ResourceExhaustedError,
  UnavailableError,
  UnauthenticatedError,
  PermissionDeniedError,
  CommitRejectedError,
  type OperationFailure,
} from './errors.js';
export { LedgerRpc, type CallOptions } from './ledger-rpc.js';
export type { ConnectionOptions, TlsOptions } from './connection.js';
