/**
 * A zero-work grpc-js server with varledger's call shapes: the same service
 * definition (so the same protobuf decoding and encoding), handlers that
 * answer at once with a reply of the real shape and do nothing else. What
 * varledger costs is then the ratio to it, measured in the same run.
 */
import { Server, ServerCredentials, type handleUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { GetVariableRequest, SetVariableRequest, Variable } from '../src/gen/varledger/v1/ledger.js';
import { VariableType } from '../src/gen/varledger/v1/ledger.js';
import { LedgerServiceDefinition } from '../src/server/service-definition.js';

export interface ZeroWorkServer {
  readonly address: string;
  stop(): Promise<void>;
}

const now = new Date(0);
let version = 0n;

/** A reply of the shape SetVariable and GetVariable return. */
function variable(sessionId: string, identifier: string, value: Variable['value']): Variable {
  return {
    id: `var_${identifier}`,
    sessionId,
    name: identifier,
    type: VariableType.VARIABLE_TYPE_FLOAT,
    value,
    constraints: undefined,
    metadata: {},
    description: '',
    version: ++version,
    createdRevision: 1n,
    modifiedRevision: version,
    createdAt: now,
    updatedAt: now,
    modifiedBy: 'bench',
  } as Variable;
}

export async function startZeroWorkServer(): Promise<ZeroWorkServer> {
  const server = new Server();
  const setVariable: handleUnaryCall<SetVariableRequest, Variable> = (call, callback) =>
    callback(null, variable(call.request.sessionId, call.request.identifier, call.request.value));
  const getVariable: handleUnaryCall<GetVariableRequest, Variable> = (call, callback) =>
    callback(null, variable(call.request.sessionId, call.request.identifier, { kind: { $case: 'floatValue', floatValue: 0 } }));
  server.addService(LedgerServiceDefinition, { setVariable, getVariable } as UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
