/** Worker-hosted tools over ServeTools: declare, route, correlate, disconnect. */
import { status } from '@grpc/grpc-js';
import test from 'ava';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { expectStatus } from '../helpers/grpc-expect.js';
import { ledgerFor, until } from '../helpers/watch-helpers.js';
import { createSession, executeStreaming, json, openWorker, toolErrorTrailer, toolEvents } from './tool-helpers.js';

const square = { name: 'square', description: 'n²', parameters: [{ name: 'n', type: 'float', required: true }] };
const ticks = { name: 'ticks', supportsStreaming: true, parameters: [{ name: 'n', type: 'integer', defaultJson: '2' }] };

test('a worker declares tools, answers calls routed to it, and many run at once', async (t) => {
  const ledger = await ledgerFor(t);
  await createSession(ledger);
  // The worker is a separate client connection.
  const workerRpc = new LedgerRpc(ledger.address);
  t.teardown(() => workerRpc.close());
  const worker = openWorker(t, workerRpc);
  const declared = await worker.declare({ workerId: 'py-1', tools: [square, ticks] });
  t.deepEqual(declared, { workerId: 'py-1', tools: ['square', 'ticks'] });
  const listed = await ledger.rpc.call('listTools', { sessionId: 's1' });
  t.deepEqual(listed.tools.map((s) => [s.name, s.host]), [
    ['square', 'worker:py-1'],
    ['ticks', 'worker:py-1'],
  ]);

  // Three calls in flight; the worker answers them in reverse order.
  const calls = [2, 3, 4].map((n) => ledger.rpc.call('executeTool', { sessionId: 's1', toolName: 'square', parameters: json({ n }) }, { actor: 'opt' }));
  await until(() => worker.invocations.length === 3, 'three invocations');
  t.deepEqual(worker.invocations.map((i) => [i.toolName, i.parameters['n'], i.actor, i.streaming]), [
    ['square', '2', 'opt', false],
    ['square', '3', 'opt', false],
    ['square', '4', 'opt', false],
  ]);
  t.true(worker.invocations.every((i) => i.deadline instanceof Date));
  for (const inv of [...worker.invocations].reverse()) worker.result(inv.callId, Number(inv.parameters['n']) ** 2);
  const replies = await Promise.all(calls);
  t.deepEqual(replies.map((r) => r.resultJson), ['4', '9', '16']);

  // Streaming: chunks relayed as they come, the final one marked.
  const streamed = executeStreaming(ledger.rpc, { sessionId: 's1', toolName: 'ticks' });
  const inv = await worker.nextInvocation();
  t.true(inv.streaming);
  t.is(inv.parameters['n'], '2');
  worker.chunk(inv.callId, 'tick 1');
  t.is((await streamed.first).dataJson, '"tick 1"');
  worker.chunk(inv.callId, 'tick 2', true);
  t.deepEqual((await streamed.chunks).map((c) => [c.dataJson, c.isFinal]), [
    ['"tick 1"', false],
    ['"tick 2"', true],
  ]);

  // A worker's error is the tool's error.
  const failing = ledger.rpc.call('executeTool', { sessionId: 's1', toolName: 'square', parameters: json({ n: 1 }) });
  const bad = await worker.nextInvocation();
  worker.error(bad.callId, 'ValueError', 'n must be positive');
  const error = await expectStatus(t, failing, status.UNKNOWN, 'n must be positive');
  t.deepEqual(toolErrorTrailer(error), { type: 'ValueError', message: 'n must be positive' });
  await ledger.server.toolHub.idle();
  const kinds = toolEvents(ledger).map((e) => [e.kind, e.kind === 'tool_called' ? e.host : '']);
  t.is(kinds.filter(([k]) => k === 'tool_completed').length, 4);
  t.is(kinds.filter(([k]) => k === 'tool_failed').length, 1);
  t.true(kinds.every(([k, host]) => k !== 'tool_called' || host === 'worker:py-1'));
});

test('a worker that goes away mid-call fails the call UNAVAILABLE, and its tools leave', async (t) => {
  const ledger = await ledgerFor(t);
  await createSession(ledger);
  const workerRpc = new LedgerRpc(ledger.address);
  t.teardown(() => workerRpc.close());
  const worker = openWorker(t, workerRpc);
  await worker.declare({ tools: [square] });
  const pending = ledger.rpc.call('executeTool', { sessionId: 's1', toolName: 'square', parameters: json({ n: 3 }) });
  await worker.nextInvocation();
  worker.stream.cancel();
  await expectStatus(t, pending, status.UNAVAILABLE, /went away during the call/);
  await until(() => ledger.server.toolHub.list('s1').length === 0, 'tools removed');
  await expectStatus(t, ledger.rpc.call('executeTool', { sessionId: 's1', toolName: 'square', parameters: json({ n: 3 }) }), status.NOT_FOUND);
  await ledger.server.toolHub.idle();
  const last = toolEvents(ledger).at(-1);
  t.is(last?.kind === 'tool_failed' ? last.errorType : last?.kind, 'unavailable');
});

test('a worker ending its stream cleanly also fails open calls and removes its tools', async (t) => {
  const ledger = await ledgerFor(t);
  await createSession(ledger);
  const worker = openWorker(t, ledger.rpc);
  await worker.declare({ tools: [ticks] });
  const streamed = executeStreaming(ledger.rpc, { sessionId: 's1', toolName: 'ticks' });
  const inv = await worker.nextInvocation();
  worker.chunk(inv.callId, 1);
  await streamed.first;
  worker.stream.end();
  const error = await t.throwsAsync<Error & { code: number }>(streamed.chunks);
  t.is(error?.code, status.UNAVAILABLE);
  t.is(await worker.closed, undefined);
  t.deepEqual(ledger.server.toolHub.list('s1'), []);
});

test('session-scoped tools are visible to their session only; names clash per scope', async (t) => {
  const ledger = await ledgerFor(t);
  await createSession(ledger, 's1');
  await createSession(ledger, 's2');
  // A session's tool shadows a global worker tool (never a server-side one: tested in test/auth).
  const global = openWorker(t, ledger.rpc, (w, inv) => w.result(inv.callId, 'global'));
  await global.declare({ workerId: 'g', tools: [{ ...square, parameters: [] }] });
  const worker = openWorker(t, ledger.rpc, (w, inv) => w.result(inv.callId, 'worker'));
  await worker.declare({ sessionId: 's1', tools: [{ ...square, parameters: [] }] });
  const call = (sessionId: string) => ledger.rpc.call('executeTool', { sessionId, toolName: 'square' });
  t.is((await call('s1')).resultJson, '"worker"');
  t.is((await call('s2')).resultJson, '"global"');
  t.deepEqual((await ledger.rpc.call('listTools', { sessionId: 's1' })).tools.map((s) => [s.host, s.sessionId]), [['worker:w1', 's1']]);
  // A second worker declaring the same name in the same scope is refused.
  const rival = openWorker(t, ledger.rpc);
  rival.declare({ sessionId: 's1', tools: [square] }).catch(() => undefined);
  const refused = await rival.closed;
  t.is(refused?.code, status.ALREADY_EXISTS);
});
