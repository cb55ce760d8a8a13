/** Snakepit's tool RPCs over real gRPC, on varledger's real tool hub with server-side tools. */
import { status, type ServiceError } from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import type { LedgerRpc } from '../../../src/client/ledger-rpc.js';
import type { ToolChunk } from '../../../src/gen/snakepit/bridge/snakepit_bridge.js';
import type { ToolModuleDefinition } from '../../../src/tools/tool-types.js';
import { floatValue } from '../../helpers/grpc-expect.js';
import { anyJson, anyOf, jsonAny, startBridge, StreamReader, type BridgeRpc } from './bridge-client.js';

const codeOf = (error: unknown) => (error as ServiceError).code;

/** What Snakepit's later Python clients send: raw JSON under the StringValue / Value type URLs. */
const stringValueJson = (value: unknown) => ({
  typeUrl: 'type.googleapis.com/google.protobuf.StringValue',
  value: Buffer.from(JSON.stringify(value), 'utf8'),
});
const protobufValueJson = (value: unknown) => ({
  typeUrl: 'type.googleapis.com/google.protobuf.Value',
  value: Buffer.from(JSON.stringify(value), 'utf8'),
});

const TOOLS: ToolModuleDefinition[] = [
  {
    name: 'scale',
    description: 'Multiplies a float variable by a factor',
    parameters: [
      { name: 'variable', type: 'string', required: true, description: 'the variable to scale' },
      { name: 'factor', type: 'float', required: true },
      { name: 'note', type: 'string', default: 'scaled' },
    ],
    async handler(params, { session }) {
      const name = params['variable'] as string;
      const before = (await session.get(name)) as number;
      const after = before * (params['factor'] as number);
      await session.set(name, after, { note: params['note'] as string });
      return { before, after };
    },
  },
  {
    name: 'count',
    description: 'Streams 1..n',
    parameters: [{ name: 'n', type: 'integer', required: true }],
    supportsStreaming: true,
    async *handler(params) {
      for (let i = 1; i <= (params['n'] as number); i++) yield { i };
    },
  },
  {
    name: 'echo',
    parameters: [{ name: 'value', type: 'json', required: true }],
    handler: (params) => params['value'],
  },
  {
    name: 'fail',
    handler: () => {
      throw new RangeError('nope: out of range');
    },
  },
  {
    name: 'fail_midway',
    supportsStreaming: true,
    async *handler() {
      yield 'first';
      throw new TypeError('broke after one chunk');
    },
  },
];

interface ToolBridge {
  readonly bridge: BridgeRpc;
  readonly rpc: LedgerRpc;
}

/** A real server (temp database, port 0) with TOOLS as its server-side tools, shared by both APIs. */
async function startToolBridge(t: ExecutionContext): Promise<ToolBridge> {
  const s = await startBridge({ tools: TOOLS });
  t.teardown(async () => {
    await s.server.toolHub.idle();
    await s.stop();
  });
  await s.bridge.call('initializeSession', { sessionId: 'w1' });
  await s.bridge.call('registerVariable', { sessionId: 'w1', name: 'lr', type: 'float', initialValue: anyOf('float', 0.5) });
  return { bridge: s.bridge, rpc: s.rpc };
}

async function chunksOf(reader: StreamReader<ToolChunk>): Promise<ToolChunk[]> {
  const chunks: ToolChunk[] = [];
  for (;;) {
    const [chunk] = await reader.next();
    if (!chunk) throw new Error('no chunk');
    chunks.push(chunk);
    if (chunk.isFinal) break;
  }
  await reader.done;
  return chunks;
}

test('GetExposedElixirTools lists the server-side tools as Snakepit ToolSpecs', async (t) => {
  const { bridge } = await startToolBridge(t);
  const { tools } = await bridge.call('getExposedElixirTools', { sessionId: 'w1' });
  t.deepEqual(tools.map((tool) => tool.name).sort(), ['count', 'echo', 'fail', 'fail_midway', 'scale']);
  const scale = tools.find((tool) => tool.name === 'scale');
  t.is(scale?.description, 'Multiplies a float variable by a factor');
  t.false(scale?.supportsStreaming);
  t.is(scale?.metadata['host'], 'server');
  t.deepEqual(
    scale?.parameters.map((p) => [p.name, p.type, p.required]),
    [
      ['variable', 'string', true],
      ['factor', 'float', true],
      ['note', 'string', false],
    ],
  );
  t.is(scale?.parameters[0]?.description, 'the variable to scale');
  t.is(scale?.parameters[2]?.defaultValue?.typeUrl, 'type.googleapis.com/google.protobuf.StringValue');
  t.is(anyJson(scale?.parameters[2]?.defaultValue), 'scaled');
  t.true(tools.find((tool) => tool.name === 'count')?.supportsStreaming);

  // Without a session: the global tools, the same here.
  t.is((await bridge.call('getExposedElixirTools', {})).tools.length, 5);
});

test('InitializeSession offers the tools a session can call, and GetSession counts them', async (t) => {
  const { bridge } = await startToolBridge(t);
  const init = await bridge.call('initializeSession', { sessionId: 'w-tools' });
  t.deepEqual(Object.keys(init.availableTools).sort(), ['count', 'echo', 'fail', 'fail_midway', 'scale']);
  t.true(init.availableTools['count']?.supportsStreaming);
  const session = await bridge.call('getSession', { sessionId: 'w-tools' });
  t.is(session.toolCount, 5);
});

test('ExecuteTool decodes Any parameters, runs the tool, and its write is visible natively with the tool as modified_by', async (t) => {
  const { bridge, rpc } = await startToolBridge(t);
  const reply = await bridge.call(
    'executeTool',
    {
      sessionId: 'w1',
      toolName: 'scale',
      parameters: { variable: anyOf('string', 'lr'), factor: anyOf('float', 3), note: stringValueJson('tripled') },
      metadata: { correlation_id: 'c-1' },
    },
    'python-worker',
  );
  t.true(reply.success, reply.errorMessage);
  t.is(reply.errorMessage, '');
  t.is(reply.result?.typeUrl, 'type.googleapis.com/google.protobuf.StringValue');
  t.deepEqual(anyJson(reply.result), { before: 0.5, after: 1.5 });
  t.true(reply.executionTimeMs >= 0n);
  t.is(reply.metadata['execution_time'], String(reply.executionTimeMs));

  const native = await rpc.call('getVariable', { sessionId: 'w1', identifier: 'lr' });
  t.deepEqual(native.value, floatValue(1.5));
  t.is(native.modifiedBy, 'tool:scale');
  t.is(native.metadata['note'], 'tripled');
  t.is(native.version, 1n);
});

test('ExecuteElixirTool runs a server-side tool; values of every Snakepit encoding arrive as plain JSON', async (t) => {
  const { bridge, rpc } = await startToolBridge(t);
  const reply = await bridge.call('executeElixirTool', {
    sessionId: 'w1',
    toolName: 'scale',
    // Snakepit's call_elixir_tool sends numbers as google.protobuf.Value JSON.
    parameters: { variable: stringValueJson('lr'), factor: protobufValueJson(0.5) },
  });
  t.true(reply.success, reply.errorMessage);
  t.deepEqual(anyJson(reply.result), { before: 0.5, after: 0.25 });
  t.is((await rpc.call('getVariable', { sessionId: 'w1', identifier: 'lr' })).modifiedBy, 'tool:scale');

  const echo = async (value: ReturnType<typeof anyOf>) =>
    anyJson((await bridge.call('executeElixirTool', { sessionId: 'w1', toolName: 'echo', parameters: { value } })).result);
  t.deepEqual(await echo(stringValueJson({ nested: [1, 'two', null] })), { nested: [1, 'two', null] });
  t.deepEqual(await echo(anyOf('embedding', [0.5, 1.5])), [0.5, 1.5]);
  t.is(await echo(jsonAny('float', '"NaN"')), 'NaN');
  // 64-bit integers keep every digit both ways.
  const big = await bridge.call('executeElixirTool', { sessionId: 'w1', toolName: 'echo', parameters: { value: jsonAny('integer', '9007199254740993') } });
  t.is(Buffer.from(big.result?.value ?? []).toString('utf8'), '9007199254740993');
  // A packed google.protobuf.StringValue (what Snakepit's older call_elixir_tool sends for strings).
  const packed = { typeUrl: 'type.googleapis.com/google.protobuf.StringValue', value: Buffer.from([0x0a, 0x02, 0x68, 0x69]) };
  t.is(await echo(packed), 'hi');
});

test('ExecuteStreamingTool streams JSON chunks with ids and marks only the last one final', async (t) => {
  const { bridge } = await startToolBridge(t);
  const reader = new StreamReader(bridge.stream('executeStreamingTool', { sessionId: 'w1', toolName: 'count', parameters: { n: anyOf('integer', 3) } }));
  const chunks = await chunksOf(reader);
  t.true(reader.ended);
  t.deepEqual(
    chunks.map((c) => c.chunkId),
    ['count-1', 'count-2', 'count-3', 'count-4'],
  );
  t.deepEqual(
    chunks.slice(0, 3).map((c) => JSON.parse(c.data.toString('utf8')) as unknown),
    [{ i: 1 }, { i: 2 }, { i: 3 }],
  );
  t.deepEqual(
    chunks.map((c) => c.isFinal),
    [false, false, false, true],
  );
  // The tool's end is a data-less final chunk, as Snakepit's worker sends it.
  t.is(chunks[3]?.data.length, 0);

  // A non-streaming tool streams its result as one final chunk.
  const one = await chunksOf(new StreamReader(bridge.stream('executeStreamingTool', { sessionId: 'w1', toolName: 'echo', parameters: { value: anyOf('string', 'x') } })));
  t.is(one.length, 1);
  t.true(one[0]?.isFinal);
  t.is(one[0]?.data.toString('utf8'), '"x"');
});

test('unknown tools and sessions are NOT_FOUND statuses on every tool RPC', async (t) => {
  const { bridge } = await startToolBridge(t);
  for (const method of ['executeTool', 'executeElixirTool'] as const) {
    const error = await t.throwsAsync(bridge.call(method, { sessionId: 'w1', toolName: 'ghost' }));
    t.is(codeOf(error), status.NOT_FOUND);
    t.regex(error.message, /Tool not found: ghost/);
    const noSession = await t.throwsAsync(bridge.call(method, { sessionId: 'nobody', toolName: 'echo', parameters: { value: anyOf('string', 'x') } }));
    t.is(codeOf(noSession), status.NOT_FOUND);
  }
  const reader = new StreamReader(bridge.stream('executeStreamingTool', { sessionId: 'w1', toolName: 'ghost' }));
  const streamError = await t.throwsAsync(reader.done);
  t.is(codeOf(streamError), status.NOT_FOUND);
  const empty = await t.throwsAsync(bridge.call('executeTool', { sessionId: 'w1', toolName: '' }));
  t.is(codeOf(empty), status.INVALID_ARGUMENT);
});

test('bad parameters are INVALID_ARGUMENT naming the parameter; nothing runs', async (t) => {
  const { bridge, rpc } = await startToolBridge(t);
  const call = (parameters: Record<string, ReturnType<typeof anyOf>>) =>
    t.throwsAsync(bridge.call('executeTool', { sessionId: 'w1', toolName: 'scale', parameters }));

  const notJson = await call({ variable: anyOf('string', 'lr'), factor: jsonAny('float', '{oops') });
  t.is(codeOf(notJson), status.INVALID_ARGUMENT);
  t.regex(notJson.message, /parameters\[factor\]/);

  const wrongType = await call({ variable: anyOf('string', 'lr'), factor: stringValueJson('three') });
  t.is(codeOf(wrongType), status.INVALID_ARGUMENT);
  t.regex(wrongType.message, /factor/);

  const cannotConvert = await call({ variable: anyOf('string', 'lr'), factor: anyOf('float', 'three') });
  t.is(codeOf(cannotConvert), status.INVALID_ARGUMENT);
  t.regex(cannotConvert.message, /parameters\[factor\]/);

  const missing = await call({ variable: anyOf('string', 'lr') });
  t.is(codeOf(missing), status.INVALID_ARGUMENT);
  t.regex(missing.message, /factor/);

  const unknown = await call({ variable: anyOf('string', 'lr'), factor: anyOf('float', 2), bogus: anyOf('string', 'x') });
  t.is(codeOf(unknown), status.INVALID_ARGUMENT);
  t.regex(unknown.message, /bogus/);

  const strayBinary = await t.throwsAsync(
    bridge.call('executeTool', { sessionId: 'w1', toolName: 'echo', parameters: { value: anyOf('string', 'x') }, binaryParameters: { other: Buffer.from([1]) } }),
  );
  t.is(codeOf(strayBinary), status.INVALID_ARGUMENT);

  t.is((await rpc.call('getVariable', { sessionId: 'w1', identifier: 'lr' })).version, 0n);
});

test("a tool's own failure is success=false with its message and type; mid-stream it ends the stream with a status", async (t) => {
  const { bridge } = await startToolBridge(t);
  for (const method of ['executeTool', 'executeElixirTool'] as const) {
    const reply = await bridge.call(method, { sessionId: 'w1', toolName: 'fail' });
    t.false(reply.success);
    t.is(reply.errorMessage, 'nope: out of range');
    t.is(reply.metadata['error_type'], 'RangeError');
    t.is(reply.result, undefined);
    t.true(reply.executionTimeMs >= 0n);
  }

  const reader = new StreamReader(bridge.stream('executeStreamingTool', { sessionId: 'w1', toolName: 'fail_midway' }));
  const [first] = await reader.next();
  t.is(first?.data.toString('utf8'), '"first"');
  t.false(first?.isFinal);
  const error = await t.throwsAsync(reader.done);
  t.is(codeOf(error), status.UNKNOWN);
  t.regex(error.message, /broke after one chunk/);
});

test('RegisterTools records a worker’s declarations; they are not server tools, and executing one says how to host it', async (t) => {
  const { bridge } = await startToolBridge(t);
  const reply = await bridge.call('registerTools', {
    sessionId: 'w1',
    workerId: 'python-42',
    tools: [
      {
        name: 'search',
        description: 'Search for items',
        parameters: [
          { name: 'query', type: 'str', required: true },
          { name: 'limit', type: 'int', required: false, validationJson: '{"default": 10}' },
        ],
        metadata: { adapter_class: 'MyAdapter' },
        supportsStreaming: true,
      },
    ],
  });
  t.true(reply.success);
  t.deepEqual(reply.toolIds, { search: 'w1:search' });

  const exposed = await bridge.call('getExposedElixirTools', { sessionId: 'w1' });
  t.false(exposed.tools.some((tool) => tool.name === 'search'));

  const run = await bridge.call('executeTool', { sessionId: 'w1', toolName: 'search', parameters: { query: anyOf('string', 'q') } });
  t.false(run.success);
  t.is(run.metadata['error_type'], 'unavailable');
  t.regex(run.errorMessage, /python-42/);
  t.regex(run.errorMessage, /ServeTools/);

  // Declaring again replaces; a server tool's name still runs the server tool.
  t.deepEqual((await bridge.call('registerTools', { sessionId: 'w1', workerId: 'python-42', tools: [{ name: 'echo' }] })).toolIds, { echo: 'w1:echo' });
  const echo = await bridge.call('executeTool', { sessionId: 'w1', toolName: 'echo', parameters: { value: anyOf('string', 'x') } });
  t.true(echo.success);

  const noSession = await t.throwsAsync(bridge.call('registerTools', { sessionId: 'nobody', tools: [{ name: 'x' }] }));
  t.is(codeOf(noSession), status.NOT_FOUND);
  const twice = await t.throwsAsync(bridge.call('registerTools', { sessionId: 'w1', tools: [{ name: 'x' }, { name: 'x' }] }));
  t.is(codeOf(twice), status.INVALID_ARGUMENT);
  const unnamed = await t.throwsAsync(bridge.call('registerTools', { sessionId: 'w1', tools: [{ name: '' }] }));
  t.is(codeOf(unnamed), status.INVALID_ARGUMENT);
});
