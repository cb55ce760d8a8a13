/**
 * Live updates as server-sent events: each commit once, in order, with the
 * revision as the event id; resuming after `Last-Event-ID` from the log;
 * the end of a session; the sessions list's `head` events; and the stream
 * released as soon as the browser goes away.
 */
import test from 'ava';
import { floatValue } from '../helpers/grpc-expect.js';
import { until } from '../helpers/watch-helpers.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { openSse, webLedger } from './web-fixture.js';

const set = (identifier: string, value: number, metadata: Record<string, string> = {}) => ({ op: { $case: 'set' as const, set: { identifier, value: floatValue(value), metadata } } });

test('a session stream sends each commit once, resumes after Last-Event-ID, and is released on disconnect', async (t) => {
  const { rpc, base, server } = await webLedger(t);
  for (const name of ['a', 'b']) await rpc.call('registerVariable', { sessionId: 's', name, type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(0) });
  const stream = await openSse(`${base}/api/sessions/s/events?after=${server.service.head}`);
  t.is(stream.status, 200);

  const one = await rpc.call('setVariable', { sessionId: 's', identifier: 'a', value: floatValue(0.9), metadata: { reason: 'why not' } }, { actor: 'alice' });
  const first = await stream.nextOf('changes');
  t.is(first.id, String(one.modifiedRevision));
  t.like(first.data.changes[0], { kind: 'set', actor: 'alice', metadata: { reason: 'why not' }, variable: { name: 'a', version: 1, value: { value: 0.9 } } });

  // An atomic commit arrives as one event.
  const commit = await rpc.call('commit', { sessionId: 's', operations: [set('a', 1), set('b', 2)], atomic: true });
  const both = await stream.nextOf('changes');
  t.is(both.id, String(commit.revision));
  t.deepEqual(both.data.changes.map((c: any) => [c.variable.name, c.variable.value.value]), [['a', 1], ['b', 2]]);

  stream.close();
  await until(() => server.web?.liveStreams === 0, 'the stream to be released');

  // A reconnecting EventSource sends the last id it saw: the rest comes from the log.
  const resumed = await openSse(`${base}/api/sessions/s/events`, { 'last-event-id': first.id ?? '' });
  const replayed = await resumed.nextOf('changes');
  t.is(replayed.id, String(commit.revision));
  resumed.close();
});

test('a variable filter, and the end of a session ends the stream; reconnecting after it is 204', async (t) => {
  const { rpc, base, server } = await webLedger(t);
  for (const name of ['a', 'b']) await rpc.call('registerVariable', { sessionId: 's', name, type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(0) });
  const stream = await openSse(`${base}/api/sessions/s/events?after=${server.service.head}&variable=b`);
  await rpc.call('setVariable', { sessionId: 's', identifier: 'a', value: floatValue(1) });
  await rpc.call('setVariable', { sessionId: 's', identifier: 'b', value: floatValue(2) });
  const onlyB = await stream.nextOf('changes');
  t.deepEqual(onlyB.data.changes.map((c: any) => c.variable.name), ['b']);
  await rpc.call('closeSession', { sessionId: 's' }, { actor: 'bob' });
  const end = await stream.nextOf('changes');
  t.like(end.data.changes[0], { kind: 'session_closed', actor: 'bob' });
  t.is(await stream.next(), undefined);
  const again = await fetch(`${base}/api/sessions/s/events?after=${server.service.head}`);
  t.is(again.status, 204);
});

test('the sessions list hears that the log moved through head events', async (t) => {
  const { rpc, base, server } = await webLedger(t);
  const heads = await openSse(`${base}/api/events`);
  t.deepEqual((await heads.nextOf('head')).data, { revision: 0 });
  await rpc.call('registerVariable', { sessionId: 'new', name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(0) });
  t.deepEqual((await heads.nextOf('head')).data, { revision: server.service.head });
  heads.close();
  await until(() => server.web?.liveStreams === 0, 'the head stream to be released');
});
