/** Server-side tools: unary and streaming calls, session writes as the tool, errors, and the log. */
import { status } from '@grpc/grpc-js';
import test from 'ava';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import type { ToolModuleDefinition } from '../../src/tools/tool-types.js';
import { cli, jsonLines } from '../cli/fixture.js';
import { expectStatus, floatValue } from '../helpers/grpc-expect.js';
import { ledgerFor, nextWithEvents, openWatch } from '../helpers/watch-helpers.js';
import { createSession, executeStreaming, json, toolErrorTrailer, toolEvents } from './tool-helpers.js';

const tools: ToolModuleDefinition[] = [
  {
    name: 'add',
    description: 'a + b',
    parameters: [
      { name: 'a', type: 'integer', required: true },
      { name: 'b', type: 'integer', default: 10 },
    ],
    handler: ({ a, b }) => (a as number) + (b as number),
  },
  {
    name: 'count',
    supportsStreaming: true,
    parameters: [{ name: 'n', type: 'integer', required: true }],
    async *handler({ n }) {
      for (let i = 1; i <= (n as number); i++) yield { i };
    },
  },
  {
    name: 'bump',
    parameters: [{ name: 'by', type: 'float', default: 0.25 }],
    handler: async ({ by }, ctx) => {
      const current = (await ctx.session.get('temperature')) as number;
      await ctx.session.set('temperature', current + (by as number), { reason: 'bumped' });
      return current + (by as number);
    },
  },
  {
    name: 'explode',
    handler: () => {
      throw new RangeError('too hot to handle');
    },
  },
];

test('ListTools shows server-side tools with their parameters', async (t) => {
  const ledger = await ledgerFor(t, { tools });
  await createSession(ledger);
  const { tools: listed } = await ledger.rpc.call('listTools', { sessionId: 's1' });
  t.deepEqual(
    listed.map((s) => [s.name, s.host, s.supportsStreaming]),
    [
      ['add', 'server', false],
      ['bump', 'server', false],
      ['count', 'server', true],
      ['explode', 'server', false],
    ],
  );
  t.deepEqual(listed[0]?.parameters.map((p) => [p.name, p.type, p.required, p.defaultJson]), [
    ['a', 'integer', true, ''],
    ['b', 'integer', false, '10'],
  ]);
  t.is(ledger.server.toolHub.list().length, 4);
});

test('a unary tool gets validated parameters with defaults applied', async (t) => {
  const ledger = await ledgerFor(t, { tools });
  await createSession(ledger);
  const reply = await ledger.rpc.call('executeTool', { sessionId: 's1', toolName: 'add', parameters: json({ a: 5 }) });
  t.is(reply.resultJson, '15');
  const both = await ledger.rpc.call('executeTool', { sessionId: 's1', toolName: 'add', parameters: json({ a: 5, b: -2 }) });
  t.is(both.resultJson, '3');
});

test('a streaming tool sends its chunks, then a final marker', async (t) => {
  const ledger = await ledgerFor(t, { tools });
  await createSession(ledger);
  const chunks = await executeStreaming(ledger.rpc, { sessionId: 's1', toolName: 'count', parameters: json({ n: 3 }) }).chunks;
  t.deepEqual(
    chunks.map((c) => [c.dataJson, c.isFinal]),
    [
      ['{"i":1}', false],
      ['{"i":2}', false],
      ['{"i":3}', false],
      ['', true],
    ],
  );
  // Called for one result, a streaming tool answers with all its chunks.
  const unary = await ledger.rpc.call('executeTool', { sessionId: 's1', toolName: 'count', parameters: json({ n: 2 }) });
  t.is(unary.resultJson, '[{"i":1},{"i":2}]');
  // And a unary tool streamed is one final chunk.
  const single = await executeStreaming(ledger.rpc, { sessionId: 's1', toolName: 'add', parameters: json({ a: 1 }) }).chunks;
  t.deepEqual(single.map((c) => [c.dataJson, c.isFinal]), [['11', true]]);
});

test('a tool writes its session as tool:<name>, and a watcher sees that actor', async (t) => {
  const ledger = await ledgerFor(t, { tools });
  await createSession(ledger);
  await ledger.rpc.call('registerVariable', {
    sessionId: 's1',
    name: 'temperature',
    type: VariableType.VARIABLE_TYPE_FLOAT,
    initialValue: floatValue(0.5),
  });
  const reader = openWatch(t, ledger, { sessionId: 's1', startRevision: BigInt(ledger.server.service.head + 1) });
  const reply = await ledger.rpc.call('executeTool', { sessionId: 's1', toolName: 'bump', parameters: {} }, { actor: 'optimizer' });
  t.is(reply.resultJson, '0.75');
  const message = await nextWithEvents(reader);
  // Tool events have no variable: the watcher sees only the set.
  t.deepEqual(
    message.events.map((e) => [e.actor, e.variable?.name, e.metadata['reason']]),
    [['tool:bump', 'temperature', 'bumped']],
  );
  const variable = await ledger.rpc.call('getVariable', { sessionId: 's1', identifier: 'temperature' });
  t.is(variable.modifiedBy, 'tool:bump');
});

test('bad parameters are INVALID_ARGUMENT naming the parameter; an unknown tool is NOT_FOUND', async (t) => {
  const ledger = await ledgerFor(t, { tools });
  await createSession(ledger);
  const call = (parameters: Record<string, string>, toolName = 'add') => ledger.rpc.call('executeTool', { sessionId: 's1', toolName, parameters });
  await expectStatus(t, call({}), status.INVALID_ARGUMENT, 'Missing required parameter a of tool add');
  await expectStatus(t, call(json({ a: 'x' })), status.INVALID_ARGUMENT, 'Parameter a of tool add must be an integer, got "x"');
  await expectStatus(t, call(json({ a: 1.5 })), status.INVALID_ARGUMENT, /Parameter a .* must be an integer/);
  await expectStatus(t, call(json({ a: 1, c: 2 })), status.INVALID_ARGUMENT, 'Unknown parameter c for tool add');
  await expectStatus(t, call({ a: '{nope' }), status.INVALID_ARGUMENT, /Parameter a is not valid JSON/);
  await expectStatus(t, call({}, 'nope'), status.NOT_FOUND, 'Tool not found: nope');
  await expectStatus(
    t,
    ledger.rpc.call('executeTool', { sessionId: 'ghost', toolName: 'add', parameters: json({ a: 1 }) }),
    status.NOT_FOUND,
  );
});

test("a handler's error reaches the caller with its message and type", async (t) => {
  const ledger = await ledgerFor(t, { tools });
  await createSession(ledger);
  const error = await expectStatus(t, ledger.rpc.call('executeTool', { sessionId: 's1', toolName: 'explode' }), status.UNKNOWN, 'too hot to handle');
  t.deepEqual(toolErrorTrailer(error), { type: 'RangeError', message: 'too hot to handle' });
});

test('every call is on the record: called, then completed or failed, readable with audit', async (t) => {
  const ledger = await ledgerFor(t, { tools });
  await createSession(ledger);
  const headBefore = ledger.server.service.head;
  await ledger.rpc.call('executeTool', { sessionId: 's1', toolName: 'add', parameters: json({ a: 2 }) }, { actor: 'alice' });
  await t.throwsAsync(ledger.rpc.call('executeTool', { sessionId: 's1', toolName: 'explode' }, { actor: 'bob' }));
  await t.throwsAsync(ledger.rpc.call('executeTool', { sessionId: 's1', toolName: 'add', parameters: json({ a: 'x' }) }));
  const events = toolEvents(ledger);
  t.deepEqual(
    events.map((e) => [e.kind, e.actor, e.kind === 'tool_called' ? e.parameters : e.kind === 'tool_completed' ? e.result : e.kind === 'tool_failed' ? e.errorType : '']),
    [
      ['tool_called', 'alice', '{"a":2,"b":10}'],
      ['tool_completed', 'alice', '12'],
      ['tool_called', 'bob', '{}'],
      ['tool_failed', 'bob', 'RangeError'],
      ['tool_called', 'anonymous', '{"a":"x"}'],
      ['tool_failed', 'anonymous', 'invalid_argument'],
    ],
  );
  // Each in its own commit, none changing the session.
  t.true(events.every((e) => e.commitId === e.revision));
  const session = await ledger.rpc.call('getSession', { sessionId: 's1' });
  t.true(Number(session.modifiedRevision) <= headBefore);

  const run = await cli(['audit', '--data', ledger.dataPath, '--kind', 'tool_called,tool_failed', '--json']);
  t.is(run.code, 0, run.stderr);
  t.deepEqual(
    jsonLines(run.stdout).map((line) => [line['kind'], line['tool'], line['actor']]),
    [
      ['tool_called', 'add', 'alice'],
      ['tool_called', 'explode', 'bob'],
      ['tool_failed', 'explode', 'bob'],
      ['tool_called', 'add', 'anonymous'],
      ['tool_failed', 'add', 'anonymous'],
    ],
  );
  const table = await cli(['audit', '--data', ledger.dataPath, '--kind', 'tool_completed']);
  t.regex(table.stdout, /tool_completed/);
  t.regex(table.stdout, /tool=add host=server/);
});

test('a long parameter summary is capped in the log', async (t) => {
  const ledger = await ledgerFor(t, {
    tools: [{ name: 'echo', parameters: [{ name: 'text', type: 'string' }], handler: ({ text }) => text }],
  });
  await createSession(ledger);
  const text = 'x'.repeat(5000);
  const reply = await ledger.rpc.call('executeTool', { sessionId: 's1', toolName: 'echo', parameters: json({ text }) });
  t.is(reply.resultJson.length, 5002);
  const [called, completed] = toolEvents(ledger);
  t.true(called?.kind === 'tool_called' && called.parameters.length === 1025 && called.parameters.endsWith('…'));
  t.true(completed?.kind === 'tool_completed' && completed.result.length === 1025);
});
