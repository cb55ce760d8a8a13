/**
 * A promise-based test caller for snakepit.bridge.BridgeService over real
 * gRPC, typed from the generated definition, plus value helpers that encode
 * exactly as Snakepit's Python worker does (JSON in a google.protobuf.Any).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, credentials, Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import * as gen from '../../../src/gen/snakepit/bridge/snakepit_bridge.js';
import type { Any } from '../../../src/gen/google/protobuf/any.js';
import { PACKAGE_ROOT } from '../../../src/package-root.js';
import { startLedger, type TestLedger, type TestServerOptions } from '../../helpers/harness.js';

type Definition = typeof gen.BridgeServiceService;
export type UnaryMethod = { [K in keyof Definition]: Definition[K]['responseStream'] extends false ? K : never }[keyof Definition];
type RequestOf<K extends keyof Definition> = Parameters<Definition[K]['requestSerialize']>[0];
type ResponseOf<K extends keyof Definition> = ReturnType<Definition[K]['responseDeserialize']>;

const REQUEST_TYPES: { [K in keyof Definition]: gen.MessageFns<RequestOf<K>> } = {
  ping: gen.PingRequest,
  initializeSession: gen.InitializeSessionRequest,
  cleanupSession: gen.CleanupSessionRequest,
  getSession: gen.GetSessionRequest,
  heartbeat: gen.HeartbeatRequest,
  getVariable: gen.GetVariableRequest,
  setVariable: gen.SetVariableRequest,
  getVariables: gen.BatchGetVariablesRequest,
  setVariables: gen.BatchSetVariablesRequest,
  registerVariable: gen.RegisterVariableRequest,
  listVariables: gen.ListVariablesRequest,
  deleteVariable: gen.DeleteVariableRequest,
  executeTool: gen.ExecuteToolRequest,
  executeStreamingTool: gen.ExecuteToolRequest,
  registerTools: gen.RegisterToolsRequest,
  getExposedElixirTools: gen.GetExposedElixirToolsRequest,
  executeElixirTool: gen.ExecuteElixirToolRequest,
  watchVariables: gen.WatchVariablesRequest,
  addDependency: gen.AddDependencyRequest,
  startOptimization: gen.StartOptimizationRequest,
  stopOptimization: gen.StopOptimizationRequest,
  getVariableHistory: gen.GetVariableHistoryRequest,
  rollbackVariable: gen.RollbackVariableRequest,
};

export class BridgeRpc {
  readonly grpc: Client;

  /** `token`: sent as `authorization: Bearer <token>` on every call. */
  constructor(
    address: string,
    private readonly token?: string,
  ) {
    this.grpc = new Client(address, credentials.createInsecure(), {});
  }

  private metadata(actor?: string): Metadata {
    const metadata = new Metadata();
    if (actor) metadata.set('x-varledger-actor', actor);
    if (this.token) metadata.set('authorization', `Bearer ${this.token}`);
    return metadata;
  }

  call<K extends UnaryMethod>(method: K, request: gen.DeepPartial<RequestOf<K>>, actor?: string): Promise<ResponseOf<K>> {
    const d = gen.BridgeServiceService[method] as unknown as {
      path: string;
      requestSerialize: (value: RequestOf<K>) => Buffer;
      responseDeserialize: (value: Buffer) => ResponseOf<K>;
    };
    const metadata = this.metadata(actor);
    return new Promise((resolve, reject) => {
      this.grpc.makeUnaryRequest(
        d.path,
        d.requestSerialize,
        d.responseDeserialize,
        REQUEST_TYPES[method].fromPartial(request),
        metadata,
        {},
        (error, response) => (error || response === undefined ? reject(error) : resolve(response)),
      );
    });
  }

  stream<K extends 'watchVariables' | 'executeStreamingTool'>(
    method: K,
    request: gen.DeepPartial<RequestOf<K>>,
  ): ClientReadableStream<ResponseOf<K>> {
    const d = gen.BridgeServiceService[method] as unknown as {
      path: string;
      requestSerialize: (value: RequestOf<K>) => Buffer;
      responseDeserialize: (value: Buffer) => ResponseOf<K>;
    };
    return this.grpc.makeServerStreamRequest(d.path, d.requestSerialize, d.responseDeserialize, REQUEST_TYPES[method].fromPartial(request), this.metadata(), {});
  }

  close(): void {
    this.grpc.close();
  }
}

export interface BridgeTest extends TestLedger {
  readonly bridge: BridgeRpc;
}

/** A fresh server (temp database, port 0) with both a native and a bridge client. */
export async function startBridge(options: TestServerOptions = {}): Promise<BridgeTest> {
  const ledger = await startLedger(options);
  const bridge = new BridgeRpc(ledger.address);
  return {
    ...ledger,
    bridge,
    async stop(opts) {
      bridge.close();
      await ledger.stop(opts);
    },
  };
}

/** What `TypeSerializer.encode_any` sends for a JSON-encoded value. */
export function jsonAny(type: string, json: string): Any {
  return { typeUrl: `type.googleapis.com/snakepit.${type}`, value: Buffer.from(json, 'utf8') };
}

export const anyOf = (type: string, value: unknown): Any => jsonAny(type, JSON.stringify(value));

/** The JSON text inside an Any, parsed. */
export function anyJson(any: Any | undefined): unknown {
  if (!any) throw new Error('no value');
  return JSON.parse(Buffer.from(any.value).toString('utf8'));
}

export function fixture(name: string): Buffer {
  return readFileSync(join(PACKAGE_ROOT, 'test', 'compat', 'bridge', 'fixtures', name));
}

/** Buffers a stream's messages so a test can await them in order. */
export class StreamReader<T> {
  private readonly queue: T[] = [];
  private waiting: { count: number; resolve: (items: T[]) => void; reject: (error: unknown) => void } | undefined;
  private failure: unknown;
  ended = false;
  readonly done: Promise<void>;

  constructor(readonly stream: ClientReadableStream<T>) {
    stream.on('data', (message: T) => {
      this.queue.push(message);
      this.settle();
    });
    this.done = new Promise((resolve, reject) => {
      stream.on('end', () => {
        this.ended = true;
        resolve();
      });
      stream.on('error', (error) => {
        this.failure = error;
        this.waiting?.reject(error);
        reject(error);
      });
    });
    this.done.catch(() => {});
  }

  /** The next `count` messages. */
  next(count = 1): Promise<T[]> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { count, resolve, reject };
      this.settle();
    });
  }

  private settle(): void {
    if (this.waiting && this.queue.length >= this.waiting.count) {
      const { count, resolve } = this.waiting;
      this.waiting = undefined;
      resolve(this.queue.splice(0, count));
    }
  }
}
