/**
 * A promise-based caller for snakepit.bridge.BridgeService unary RPCs, for
 * the bridge benchmarks; values encoded as Snakepit's Python worker encodes
 * them (JSON in a google.protobuf.Any).
 */
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import * as gen from '../src/gen/snakepit/bridge/snakepit_bridge.js';
import type { Any } from '../src/gen/google/protobuf/any.js';

type Definition = typeof gen.BridgeServiceService;
type Method = 'initializeSession' | 'registerVariable' | 'getVariable' | 'getVariables' | 'setVariable' | 'setVariables';
type RequestOf<K extends Method> = Parameters<Definition[K]['requestSerialize']>[0];
type ResponseOf<K extends Method> = ReturnType<Definition[K]['responseDeserialize']>;

const REQUEST_TYPES: { [K in Method]: gen.MessageFns<RequestOf<K>> } = {
  initializeSession: gen.InitializeSessionRequest,
  registerVariable: gen.RegisterVariableRequest,
  getVariable: gen.GetVariableRequest,
  getVariables: gen.BatchGetVariablesRequest,
  setVariable: gen.SetVariableRequest,
  setVariables: gen.BatchSetVariablesRequest,
};

/** A value as `SessionContext` sends it: `type.googleapis.com/snakepit.<type>` with its JSON. */
export const jsonAny = (type: string, value: unknown): Any => ({
  typeUrl: `type.googleapis.com/snakepit.${type}`,
  value: Buffer.from(JSON.stringify(value), 'utf8'),
});

export class BridgeRpc {
  private readonly grpc: Client;

  constructor(address: string) {
    this.grpc = new Client(address, credentials.createInsecure(), {});
  }

  call<K extends Method>(method: K, request: gen.DeepPartial<RequestOf<K>>): Promise<ResponseOf<K>> {
    const d = gen.BridgeServiceService[method] as unknown as {
      path: string;
      requestSerialize: (value: RequestOf<K>) => Buffer;
      responseDeserialize: (value: Buffer) => ResponseOf<K>;
    };
    const message = REQUEST_TYPES[method].fromPartial(request);
    return new Promise((resolve, reject) => {
      this.grpc.makeUnaryRequest(d.path, d.requestSerialize, d.responseDeserialize, message, new Metadata(), {}, (error, response) =>
        error || response === undefined ? reject(error) : resolve(response),
      );
    });
  }

  close(): void {
    this.grpc.close();
  }
}
