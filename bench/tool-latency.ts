/**
 * Tools: ExecuteTool round trips and ExecuteStreamingTool throughput, each
 * for a server-side tool (a module definition run in the server process)
 * and for the same tool hosted by a worker connected over ServeTools.
 *
 * - Latency: sequential ExecuteTool calls (one in flight) measured with
 *   tinybench, p50/p99 from `task.result.latency`. The tool is `echo`, which
 *   returns its `text` parameter. Health/Check on the same channel is the
 *   gRPC floor. Every call also commits two events (`tool_called`, then
 *   `tool_completed`), so a tool call costs two small transactions.
 * - Streaming: one ExecuteStreamingTool call of `count` with n = 10,000
 *   yields 10,000 small chunks (`{"i":k}`) plus the final marker; chunks/s
 *   is chunks received by the client over the call's wall time. Several
 *   sequential rounds after a warm-up; the median is the figure.
 *
 * The worker is a ServeTools client in this same process, on its own HTTP/2
 * connection (a local subchannel pool), answering each invocation as soon as
 * it arrives and writing chunks with flow control. The server always runs in
 * this process too (BENCH_SERVER does not apply: the forked bench server
 * has no tools), so client, server and worker share one event loop.
 */
import { join } from 'node:path';
import { Metadata, type ClientDuplexStream } from '@grpc/grpc-js';
import { pino } from 'pino';
import { Bench } from 'tinybench';
import { LedgerRpc } from '../src/client/ledger-rpc.js';
import * as gen from '../src/gen/varledger/v1/ledger.js';
import { ACTOR_HEADER } from '../src/server/call-context.js';
import { startServer } from '../src/server/server.js';
import type { ToolModuleDefinition } from '../src/tools/tool-types.js';
import { ACTOR } from './ledger-setup.js';
import { BENCH_SERVER_OPTIONS, makeTempDir } from './server-fixture.js';
import { median, round, since } from './stats.js';
import { latencyFigure, type LatencyFigure } from './latency-figure.js';

export interface StreamFigure {
  readonly chunksPerCall: number;
  /** Median over the measured rounds. */
  readonly chunksPerSecond: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly roundsMs: readonly number[];
}

export interface ToolLatencyResult {
  readonly grpcFloor: LatencyFigure;
  readonly serverEcho: LatencyFigure;
  readonly workerEcho: LatencyFigure;
  readonly serverStream: StreamFigure;
  readonly workerStream: StreamFigure;
  readonly conditions: {
    readonly serverPlacement: 'inproc';
    readonly worker: string;
    readonly timeMsPerTask: number;
    readonly warmupMsPerTask: number;
    readonly minIterationsPerTask: number;
    readonly streamChunks: number;
    readonly streamRounds: number;
    readonly streamWarmupRounds: number;
    /** Log events committed by the section (tool_called + tool_completed per call). */
    readonly eventsWritten: number;
  };
}

const TIME_MS = Number(process.env.BENCH_TOOLS_LATENCY_MS ?? 2500);
const WARMUP_MS = 500;
const MIN_ITERATIONS = 500;
const STREAM_CHUNKS = Number(process.env.BENCH_TOOLS_STREAM_CHUNKS ?? 10_000);
const STREAM_ROUNDS = 5;
const STREAM_WARMUP_ROUNDS = 1;
const SESSION = 'tools-bench';
const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
const EMPTY = Buffer.alloc(0);
const ECHO_TEXT = 'hello';

/** The server-side tools; the worker declares the same two under other names. */
const SERVER_TOOLS: ToolModuleDefinition[] = [
  {
    name: 'echo',
    description: 'returns its text',
    parameters: [{ name: 'text', type: 'string', required: true }],
    handler: ({ text }) => text,
  },
  {
    name: 'count',
    description: 'streams {i} for i = 1..n',
    supportsStreaming: true,
    parameters: [{ name: 'n', type: 'integer', required: true }],
    async *handler({ n }) {
      for (let i = 1; i <= (n as number); i++) yield { i };
    },
  },
];

const WORKER_TOOLS: gen.DeepPartial<gen.ToolSpec>[] = [
  { name: 'w_echo', description: 'returns its text', parameters: [{ name: 'text', type: 'string', required: true }] },
  { name: 'w_count', description: 'streams {i} for i = 1..n', supportsStreaming: true, parameters: [{ name: 'n', type: 'integer', required: true }] },
];

/**
 * A ServeTools worker: declares `w_echo` and `w_count` and answers every
 * invocation at once. Chunks are written respecting the stream's flow
 * control, as a real worker would.
 */
class BenchWorker {
  private readonly stream: ClientDuplexStream<gen.ServeToolsRequest, gen.ServeToolsResponse>;
  readonly declared: Promise<gen.ToolsDeclared>;
  readonly closed: Promise<void>;
  private failure: Error | undefined;

  constructor(rpc: LedgerRpc) {
    const d = gen.LedgerService.serveTools;
    this.stream = rpc.grpc.makeBidiStreamRequest(d.path, d.requestSerialize, d.responseDeserialize, new Metadata(), {});
    let onDeclared!: (declared: gen.ToolsDeclared) => void;
    this.declared = new Promise((resolve, reject) => {
      onDeclared = resolve;
      this.stream.once('error', reject);
    });
    this.declared.catch(() => undefined);
    this.closed = new Promise((resolve) => this.stream.once('close', () => resolve()));
    this.stream.on('error', (error: Error) => (this.failure ??= error));
    this.stream.on('data', (message: gen.ServeToolsResponse) => {
      const msg = message.msg;
      if (msg?.$case === 'declared') onDeclared(msg.declared);
      else if (msg?.$case === 'invocation') void this.answer(msg.invocation).catch((error: unknown) => (this.failure ??= error as Error));
    });
    this.stream.write({ msg: { $case: 'declare', declare: gen.DeclareTools.fromPartial({ workerId: 'bench', tools: WORKER_TOOLS }) } });
  }

  /** Throws if the stream failed while the bench was running. */
  check(): void {
    if (this.failure) throw new Error(`bench worker failed: ${this.failure.message}`);
  }

  private async answer(inv: gen.ToolInvocation): Promise<void> {
    const callId = inv.callId;
    if (inv.toolName === 'w_echo') {
      // Parameters arrive as JSON text: the echo's result is that same text.
      this.stream.write({ msg: { $case: 'result', result: { callId, resultJson: inv.parameters['text'] ?? 'null' } } });
      return;
    }
    if (inv.toolName === 'w_count') {
      const n = Number(inv.parameters['n']);
      for (let i = 1; i <= n; i++) {
        const ok = this.stream.write({ msg: { $case: 'chunk', chunk: { callId, dataJson: `{"i":${i}}`, isFinal: false } } });
        if (!ok) await new Promise((resolve) => this.stream.once('drain', resolve));
      }
      this.stream.write({ msg: { $case: 'chunk', chunk: { callId, dataJson: '', isFinal: true } } });
      return;
    }
    this.stream.write({ msg: { $case: 'error', error: { callId, type: 'NotFound', message: `no tool ${inv.toolName}` } } });
  }

  async close(): Promise<void> {
    this.stream.end();
    this.stream.cancel();
    await this.closed;
  }
}

/** One ExecuteStreamingTool call read to its end; resolves with the number of chunks received. */
function streamOnce(rpc: LedgerRpc, toolName: string, n: number): Promise<{ chunks: number; lastData: string }> {
  const d = gen.LedgerService.executeStreamingTool;
  const metadata = new Metadata();
  metadata.set(ACTOR_HEADER, ACTOR.actor);
  const request = gen.ExecuteToolRequest.fromPartial({ sessionId: SESSION, toolName, parameters: { n: String(n) } });
  const stream = rpc.grpc.makeServerStreamRequest(d.path, d.requestSerialize, d.responseDeserialize, request, metadata, {});
  let chunks = 0;
  let lastData = '';
  let finals = 0;
  return new Promise((resolve, reject) => {
    stream.on('data', (chunk: gen.ToolChunk) => {
      chunks++;
      if (chunk.dataJson !== '') lastData = chunk.dataJson;
      if (chunk.isFinal) finals++;
    });
    stream.on('error', reject);
    stream.on('end', () => (finals === 1 ? resolve({ chunks, lastData }) : reject(new Error(`${toolName}: ${finals} final chunks`))));
  });
}

async function streamFigure(rpc: LedgerRpc, toolName: string, worker?: BenchWorker): Promise<StreamFigure> {
  const rounds: number[] = [];
  let perCall = 0;
  for (let r = 0; r < STREAM_WARMUP_ROUNDS + STREAM_ROUNDS; r++) {
    const start = performance.now();
    const { chunks, lastData } = await streamOnce(rpc, toolName, STREAM_CHUNKS);
    const ms = since(start);
    worker?.check();
    // 10,000 data chunks and the final marker, the last data chunk being {"i":10000}.
    if (chunks !== STREAM_CHUNKS + 1 || lastData !== `{"i":${STREAM_CHUNKS}}`) {
      throw new Error(`${toolName}: got ${chunks} chunks ending ${lastData}, expected ${STREAM_CHUNKS + 1} ending {"i":${STREAM_CHUNKS}}`);
    }
    perCall = chunks;
    if (r >= STREAM_WARMUP_ROUNDS) rounds.push(ms);
  }
  const medianMs = median(rounds);
  return {
    chunksPerCall: perCall,
    // Data chunks only: the final marker carries nothing.
    chunksPerSecond: round(STREAM_CHUNKS / (medianMs / 1000), 0),
    medianMs: round(medianMs, 1),
    minMs: round(Math.min(...rounds), 1),
    maxMs: round(Math.max(...rounds), 1),
    roundsMs: rounds.map((ms) => round(ms, 1)),
  };
}

export async function runToolLatency(): Promise<ToolLatencyResult> {
  const tmp = makeTempDir('varledger-bench-tools-');
  const server = await startServer({
    ...BENCH_SERVER_OPTIONS,
    dataPath: join(tmp.dir, 'ledger.db'),
    logger: pino({ level: 'silent' }),
    tools: SERVER_TOOLS,
  }).catch((error: unknown) => {
    tmp.remove();
    throw error;
  });
  const address = `127.0.0.1:${server.port}`;
  const rpc = new LedgerRpc(address);
  // Its own connection, as a worker in another process would have.
  const workerRpc = new LedgerRpc(address, { 'grpc.use_local_subchannel_pool': 1 });
  const worker = new BenchWorker(workerRpc);
  try {
    const declared = await worker.declared;
    if (declared.tools.join(',') !== 'w_echo,w_count') throw new Error(`worker declared ${declared.tools.join(',')}`);
    await rpc.call('createSession', { sessionId: SESSION, ttlSeconds: 3600 }, ACTOR);
    const headBefore = server.service.head;

    const echoParameters = { text: JSON.stringify(ECHO_TEXT) };
    const execute = async (toolName: string) => {
      const reply = await rpc.call('executeTool', { sessionId: SESSION, toolName, parameters: echoParameters }, ACTOR);
      if (reply.resultJson !== '"hello"') throw new Error(`${toolName} answered ${reply.resultJson}`);
    };
    // Both paths answer correctly before anything is timed.
    await execute('echo');
    await execute('w_echo');

    const bench = new Bench({
      name: 'tool latency',
      time: TIME_MS,
      iterations: MIN_ITERATIONS,
      warmupTime: WARMUP_MS,
      warmupIterations: 200,
      throws: true,
    });
    const healthCheck = () =>
      new Promise<void>((resolve, reject) => {
        rpc.grpc.makeUnaryRequest<Buffer, Buffer>(HEALTH_CHECK_PATH, (b) => b, (b) => b, EMPTY, (error) => (error ? reject(error) : resolve()));
      });
    bench
      .add('Health/Check (gRPC floor)', healthCheck)
      .add('ExecuteTool echo (server-side)', () => execute('echo'))
      .add('ExecuteTool echo (worker-hosted)', () => execute('w_echo'));
    await bench.run();
    worker.check();

    const figure = (taskName: string): LatencyFigure => latencyFigure(bench.getTask(taskName), taskName);

    const serverStream = await streamFigure(rpc, 'count');
    const workerStream = await streamFigure(rpc, 'w_count', worker);
    await server.toolHub.idle();

    return {
      grpcFloor: figure('Health/Check (gRPC floor)'),
      serverEcho: figure('ExecuteTool echo (server-side)'),
      workerEcho: figure('ExecuteTool echo (worker-hosted)'),
      serverStream,
      workerStream,
      conditions: {
        serverPlacement: 'inproc',
        worker: 'ServeTools client in the bench process, own HTTP/2 connection',
        timeMsPerTask: TIME_MS,
        warmupMsPerTask: WARMUP_MS,
        minIterationsPerTask: MIN_ITERATIONS,
        streamChunks: STREAM_CHUNKS,
        streamRounds: STREAM_ROUNDS,
        streamWarmupRounds: STREAM_WARMUP_ROUNDS,
        eventsWritten: server.service.head - headBefore,
      },
    };
  } finally {
    await worker.close();
    workerRpc.close();
    rpc.close();
    await server.shutdown();
    tmp.remove();
  }
}
