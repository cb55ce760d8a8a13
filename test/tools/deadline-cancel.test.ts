/** Deadlines and cancellation reach the tool's AbortSignal, and the log says how a call ended. */
import { status } from '@grpc/grpc-js';
import test from 'ava';
import type { ToolModuleDefinition } from '../../src/tools/tool-types.js';
import { expectStatus } from '../helpers/grpc-expect.js';
import { ledgerFor } from '../helpers/watch-helpers.js';
import { createSession, executeStreaming, openWorker, toolEvents } from './tool-helpers.js';

/** A tool that runs until aborted, reporting the abort's reason through a promise the test awaits. */
function waitingTool(name: string, streaming = false): { definition: ToolModuleDefinition; started: Promise<void>; aborted: Promise<unknown> } {
  let onStart!: () => void;
  let onAbort!: (reason: unknown) => void;
  const started = new Promise<void>((resolve) => (onStart = resolve));
  const aborted = new Promise<unknown>((resolve) => (onAbort = resolve));
  const wait = (signal: AbortSignal) =>
    new Promise<never>((_resolve, reject) => {
      onStart();
      signal.addEventListener('abort', () => {
        onAbort(signal.reason);
        reject(new Error('stopped'));
      });
    });
  const definition: ToolModuleDefinition = streaming
    ? {
        name,
        supportsStreaming: true,
        async *handler(_params, ctx) {
          yield 'first';
          await wait(ctx.signal);
        },
      }
    : { name, handler: (_params, ctx) => wait(ctx.signal) };
  return { definition, started, aborted };
}

test('a call past its deadline is DEADLINE_EXCEEDED and the handler is aborted', async (t) => {
  const slow = waitingTool('slow');
  const ledger = await ledgerFor(t, { tools: [slow.definition] });
  await createSession(ledger);
  const call = ledger.rpc.call('executeTool', { sessionId: 's1', toolName: 'slow' }, { deadline: new Date(Date.now() + 150) });
  await expectStatus(t, call, status.DEADLINE_EXCEEDED);
  const reason = await slow.aborted;
  t.regex(String((reason as Error).message), /deadline|cancel/);
  await ledger.server.toolHub.idle();
  const last = toolEvents(ledger).at(-1);
  t.is(last?.kind === 'tool_failed' ? last.errorType : last?.kind, 'deadline_exceeded');
});

test('the hub enforces its own deadline too', async (t) => {
  const slow = waitingTool('slow');
  const ledger = await ledgerFor(t, { tools: [slow.definition], toolDeadlineMs: 50 });
  await createSession(ledger);
  await expectStatus(t, ledger.rpc.call('executeTool', { sessionId: 's1', toolName: 'slow' }), status.DEADLINE_EXCEEDED, /ran past its deadline/);
  t.regex((await slow.aborted as Error).message, /ran past its deadline/);
});

test('cancelling a streaming call stops the handler', async (t) => {
  const slow = waitingTool('drip', true);
  const ledger = await ledgerFor(t, { tools: [slow.definition] });
  await createSession(ledger);
  const streamed = executeStreaming(ledger.rpc, { sessionId: 's1', toolName: 'drip' });
  t.is((await streamed.first).dataJson, '"first"');
  await slow.started;
  streamed.cancel();
  const reason = await slow.aborted;
  t.regex((reason as Error).message, /cancelled/);
  await ledger.server.toolHub.idle();
  const last = toolEvents(ledger).at(-1);
  t.is(last?.kind === 'tool_failed' ? last.errorType : last?.kind, 'cancelled');
});

test('cancelling a worker-hosted call sends the worker a cancellation', async (t) => {
  const ledger = await ledgerFor(t);
  await createSession(ledger);
  const worker = openWorker(t, ledger.rpc);
  await worker.declare({ tools: [{ name: 'forever' }] });
  const streamed = executeStreaming(ledger.rpc, { sessionId: 's1', toolName: 'forever' });
  const inv = await worker.nextInvocation();
  const cancellation = worker.nextCancellation();
  streamed.cancel();
  t.is((await cancellation).callId, inv.callId);
  await ledger.server.toolHub.idle();
});

test('shutdown ends worker streams and fails running calls', async (t) => {
  const slow = waitingTool('slow');
  const ledger = await ledgerFor(t, { tools: [slow.definition] });
  await createSession(ledger);
  const worker = openWorker(t, ledger.rpc);
  await worker.declare({ tools: [{ name: 'remote' }] });
  const call = ledger.rpc.call('executeTool', { sessionId: 's1', toolName: 'slow' });
  await slow.started;
  const stopped = ledger.server.shutdown();
  await expectStatus(t, call, status.UNAVAILABLE, /shutting down/);
  t.is((await worker.closed)?.code, status.UNAVAILABLE);
  await stopped;
});
