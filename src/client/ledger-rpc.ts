/**
 * A thin promise-based caller for varledger.v1.Ledger unary RPCs, typed from
 * the generated service definition. Requests are partial messages: omitted
 * fields take their proto defaults.
 */
import { Client, Metadata, type ChannelOptions, type ClientReadableStream } from '@grpc/grpc-js';
import * as gen from '../gen/varledger/v1/ledger.js';
import { ACTOR_HEADER } from '../server/call-context.js';
import { addToken, channelCredentials, type ConnectionOptions } from './connection.js';

type Definition = typeof gen.LedgerService;
export type UnaryMethod = { [K in keyof Definition]: Definition[K]['responseStream'] extends false ? K : never }[keyof Definition];
export type RequestOf<K extends UnaryMethod> = Parameters<Definition[K]['requestSerialize']>[0];
export type ResponseOf<K extends UnaryMethod> = ReturnType<Definition[K]['responseDeserialize']>;

const REQUEST_TYPES: { [K in UnaryMethod]: gen.MessageFns<RequestOf<K>> } = {
  createSession: gen.CreateSessionRequest,
  getSession: gen.GetSessionRequest,
  heartbeat: gen.HeartbeatRequest,
  closeSession: gen.CloseSessionRequest,
  listSessions: gen.ListSessionsRequest,
  registerVariable: gen.RegisterVariableRequest,
  getVariable: gen.GetVariableRequest,
  getVariables: gen.GetVariablesRequest,
  listVariables: gen.ListVariablesRequest,
  setVariable: gen.SetVariableRequest,
  deleteVariable: gen.DeleteVariableRequest,
  commit: gen.CommitRequest,
  getHistory: gen.GetHistoryRequest,
  rollbackVariable: gen.RollbackVariableRequest,
  getDigest: gen.GetDigestRequest,
  listTools: gen.ListToolsRequest,
  executeTool: gen.ExecuteToolRequest,
};

export interface CallOptions {
  /** Recorded as the actor of any change the call makes. */
  readonly actor?: string;
  readonly deadline?: Date;
}

export class LedgerRpc {
  readonly grpc: Client;
  private readonly token: string | undefined;

  /** `connection`: a bearer token for every call, and TLS (see ConnectionOptions). */
  constructor(address: string, channelOptions: ChannelOptions = {}, connection: ConnectionOptions = {}) {
    this.grpc = new Client(address, channelCredentials(connection.tls), channelOptions);
    this.token = connection.token;
  }

  /** Headers of one call: the token, and the actor if given. */
  metadata(options: CallOptions = {}): Metadata {
    const metadata = addToken(new Metadata(), this.token);
    if (options.actor) metadata.set(ACTOR_HEADER, options.actor);
    return metadata;
  }

  call<K extends UnaryMethod>(method: K, request: gen.DeepPartial<RequestOf<K>>, options: CallOptions = {}): Promise<ResponseOf<K>> {
    const definition = gen.LedgerService[method] as unknown as {
      path: string;
      requestSerialize: (value: RequestOf<K>) => Buffer;
      responseDeserialize: (value: Buffer) => ResponseOf<K>;
    };
    const message = REQUEST_TYPES[method].fromPartial(request);
    const metadata = this.metadata(options);
    return new Promise((resolve, reject) => {
      this.grpc.makeUnaryRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        message,
        metadata,
        options.deadline ? { deadline: options.deadline } : {},
        (error, response) => (error || response === undefined ? reject(error) : resolve(response)),
      );
    });
  }

  /** Opens a WatchVariables stream; cancel it with `stream.cancel()`. */
  watch(request: gen.DeepPartial<gen.WatchVariablesRequest>, options: CallOptions = {}): ClientReadableStream<gen.WatchResponse> {
    const definition = gen.LedgerService.watchVariables;
    const metadata = this.metadata(options);
    return this.grpc.makeServerStreamRequest(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize,
      gen.WatchVariablesRequest.fromPartial(request),
      metadata,
      options.deadline ? { deadline: options.deadline } : {},
    );
  }

  close(): void {
    this.grpc.close();
  }
}
