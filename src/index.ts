/** Package entry point: the TypeScript client, the server, the domain types and the generated wire client. */
export * from './client/index.js';
export { LedgerRpc, type CallOptions } from './client/ledger-rpc.js';
export { startServer, type RunningServer, type ServerOptions } from './server/server.js';
export { ACTOR_HEADER } from './server/call-context.js';
export { COMMIT_FAILURES_TRAILER } from './server/status-table.js';
export * as wire from './gen/varledger/v1/ledger.js';
export type { Constraints, Value, VariableType } from './domain/index.js';
