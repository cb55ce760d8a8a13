/**
 * Helpers for tool tests: a streaming-tool reader and a scripted worker that
 * speaks ServeTools over real gRPC, all promise-based (no timers).
 */
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import type { ExecutionContext } from 'ava';
import * as gen from '../../src/gen/varledger/v1/ledger.js';
import type { LedgerRpc } from '../../src/client/ledger-rpc.js';
import type { StoredEvent } from '../../src/domain/index.js';
import type { TestLedger } from '../helpers/harness.js';

/** JSON texts of parameters, as the wire wants them. */
export const json = (params: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(params).map(([k, v]) => [k, JSON.stringify(v)]));

export async function createSession(ledger: TestLedger, sessionId = 's1'): Promise<void> {
  await ledger.rpc.call('createSession', { sessionId });
}

/** Runs ExecuteStreamingTool to its end; resolves with the chunks, or rejects with the status. */
export function executeStreaming(
  rpc: LedgerRpc,
  request: gen.DeepPartial<gen.ExecuteToolRequest>,
  options: { actor?: string; deadline?: Date } = {},
): { chunks: Promise<gen.ToolChunk[]>; cancel: () => void; first: Promise<gen.ToolChunk> } {
  const definition = gen.LedgerService.executeStreamingTool;
  const metadata = rpc.metadata(options.actor === undefined ? {} : { actor: options.actor });
  const stream = rpc.grpc.makeServerStreamRequest(
    definition.path,
    definition.requestSerialize,
    definition.responseDeserialize,
    gen.ExecuteToolRequest.fromPartial(request),
    metadata,
    options.deadline ? { deadline: options.deadline } : {},
  );
  const received: gen.ToolChunk[] = [];
  let onFirst!: (chunk: gen.ToolChunk) => void;
  const first = new Promise<gen.ToolChunk>((resolve) => (onFirst = resolve));
  const chunks = new Promise<gen.ToolChunk[]>((resolve, reject) => {
    stream.on('data', (chunk: gen.ToolChunk) => {
      received.push(chunk);
      if (received.length === 1) onFirst(chunk);
    });
    stream.on('error', reject);
    stream.on('end', () => resolve(received));
  });
  chunks.catch(() => undefined);
  return { chunks, cancel: () => stream.cancel(), first };
}

export type Invocation = gen.ToolInvocation;

/**
 * A worker over ServeTools. `onInvocation` answers each call (or not: the
 * test decides). Invocations and cancellations are also kept for assertions.
 */
export class TestWorker {
  readonly stream: ClientDuplexStream<gen.ServeToolsRequest, gen.ServeToolsResponse>;
  readonly invocations: Invocation[] = [];
  readonly cancellations: gen.ToolCancellation[] = [];
  private readonly declaredWaiters: ((d: gen.ToolsDeclared) => void)[] = [];
  private readonly invocationWaiters: ((i: Invocation) => void)[] = [];
  private readonly cancellationWaiters: ((c: gen.ToolCancellation) => void)[] = [];
  /** Resolves with the status when the server ends the stream (undefined: cleanly). */
  readonly closed: Promise<ServiceError | undefined>;

  constructor(
    rpc: LedgerRpc,
    private readonly onInvocation: (worker: TestWorker, invocation: Invocation) => void = () => undefined,
  ) {
    const d = gen.LedgerService.serveTools;
    this.stream = rpc.grpc.makeBidiStreamRequest(d.path, d.requestSerialize, d.responseDeserialize, rpc.metadata(), {});
    this.stream.on('data', (message: gen.ServeToolsResponse) => {
      const msg = message.msg;
      if (msg?.$case === 'declared') this.declaredWaiters.shift()?.(msg.declared);
      if (msg?.$case === 'invocation') {
        this.invocations.push(msg.invocation);
        this.invocationWaiters.shift()?.(msg.invocation);
        this.onInvocation(this, msg.invocation);
      }
      if (msg?.$case === 'cancellation') {
        this.cancellations.push(msg.cancellation);
        this.cancellationWaiters.shift()?.(msg.cancellation);
      }
    });
    this.closed = new Promise((resolve) => {
      this.stream.on('error', (error: ServiceError) => resolve(error));
      this.stream.on('end', () => resolve(undefined));
    });
  }

  /** Declares tools and resolves once the server acknowledges them. */
  declare(declare: gen.DeepPartial<gen.DeclareTools>): Promise<gen.ToolsDeclared> {
    const acknowledged = new Promise<gen.ToolsDeclared>((resolve) => this.declaredWaiters.push(resolve));
    this.send({ msg: { $case: 'declare', declare: gen.DeclareTools.fromPartial(declare) } });
    return acknowledged;
  }

  nextInvocation(): Promise<Invocation> {
    return new Promise((resolve) => this.invocationWaiters.push(resolve));
  }

  nextCancellation(): Promise<gen.ToolCancellation> {
    return new Promise((resolve) => this.cancellationWaiters.push(resolve));
  }

  result(callId: string, value: unknown): void {
    this.send({ msg: { $case: 'result', result: { callId, resultJson: JSON.stringify(value) } } });
  }

  chunk(callId: string, value: unknown, isFinal = false): void {
    this.send({ msg: { $case: 'chunk', chunk: { callId, dataJson: value === undefined ? '' : JSON.stringify(value), isFinal } } });
  }

  error(callId: string, type: string, message: string): void {
    this.send({ msg: { $case: 'error', error: { callId, type, message } } });
  }

  private send(message: gen.ServeToolsRequest): void {
    this.stream.write(message);
  }
}

export function openWorker(t: ExecutionContext, rpc: LedgerRpc, onInvocation?: (worker: TestWorker, invocation: Invocation) => void): TestWorker {
  const worker = new TestWorker(rpc, onInvocation);
  t.teardown(() => worker.stream.cancel());
  return worker;
}

/** The tool events of the log, in order. */
export function toolEvents(ledger: TestLedger): StoredEvent[] {
  return [...ledger.server.file!.readAll()].filter((e) => e.kind.startsWith('tool_'));
}

/** Parses a tool error trailer from a failed call. */
export function toolErrorTrailer(error: ServiceError): { type: string; message: string } | undefined {
  const raw = error.metadata?.get('varledger-tool-error-bin')[0];
  return raw === undefined ? undefined : (JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : raw) as { type: string; message: string });
}
