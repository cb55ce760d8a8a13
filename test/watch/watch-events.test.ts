/**
 * WatchVariables: what a watcher receives — initial values, updates with old
 * and new values, filters, deletes, commits as one message, session end.
 */
import test from 'ava';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { floatValue, intValue, stringValue } from '../helpers/grpc-expect.js';
import { deleteOp, intOf, kindName, ledgerFor, nextWithEvents, openWatch, registerOp, setOp, until } from '../helpers/watch-helpers.js';

const { VARIABLE_TYPE_FLOAT: FLOAT, VARIABLE_TYPE_INTEGER: INTEGER, VARIABLE_TYPE_STRING: STRING } = VariableType;

test('include_initial sends every matching variable in one message at the current revision', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'temperature', type: FLOAT, initialValue: floatValue(0.7) });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'model', type: STRING, initialValue: stringValue('gpt') }, { actor: 'bob' });
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'temperature', value: floatValue(0.9) }, { actor: 'alice' });
  const head = BigInt(ledger.server.service.head);

  const reader = openWatch(t, ledger, { sessionId: 's1', includeInitial: true });
  const initial = await reader.next();
  t.is(initial.revision, head);
  t.deepEqual(
    initial.events.map((e) => [kindName(e), e.variable?.name, e.variable?.value, e.variable?.version]),
    [
      ['WATCH_EVENT_KIND_INITIAL', 'model', stringValue('gpt'), 0n],
      ['WATCH_EVENT_KIND_INITIAL', 'temperature', floatValue(0.9), 1n],
    ],
  );
  t.deepEqual(initial.events.map((e) => e.actor), ['bob', 'alice']);
  t.true(initial.events.every((e) => e.previousValue === undefined));
});

test('include_initial on a session without matching variables sends an empty snapshot at the head', async (t) => {
  const ledger = await ledgerFor(t);
  await ledger.rpc.call('registerVariable', { sessionId: 's1', name: 'a', type: INTEGER, initialValue: intValue(1n) });
  const reader = openWatch(t, ledger, { sessionId: 's1', pattern: 'zzz*', includeInitial: true });
  const initial = await reader.next();
  t.deepEqual(initial.events, []);
  t.is(initial.revision, BigInt(ledger.server.service.head));
});

test('an update arrives live with the new value, the previous value and version, metadata, actor and time', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'lr', type: FLOAT, initialValue: floatValue(0.1) });
  const reader = openWatch(t, ledger, { sessionId: 's1', identifiers: ['lr'] });
  await until(() => ledger.server.watchHub.size === 1, 'watcher subscribed');

  ledger.clock.advance(5_000);
  const written = await rpc.call('setVariable', { sessionId: 's1', identifier: 'lr', value: floatValue(0.01), metadata: { reason: 'decay' } }, { actor: 'optimizer' });
  const message = await reader.next();
  t.is(message.events.length, 1);
  const event = message.events[0];
  t.is(kindName(event), 'WATCH_EVENT_KIND_SET');
  t.is(message.revision, written.modifiedRevision);
  t.is(event?.revision, written.modifiedRevision);
  t.deepEqual(event?.variable?.value, floatValue(0.01));
  t.is(event?.variable?.version, 1n);
  t.is(event?.variable?.name, 'lr');
  t.deepEqual(event?.previousValue, floatValue(0.1));
  t.is(event?.previousVersion, 0n);
  t.deepEqual(event?.metadata, { reason: 'decay' });
  t.is(event?.actor, 'optimizer');
  t.deepEqual(event?.time, new Date(ledger.clock.now()));

  await rpc.call('setVariable', { sessionId: 's1', identifier: 'lr', value: floatValue(0.001) });
  const second = (await reader.next()).events[0];
  t.deepEqual([second?.previousValue, second?.variable?.value, second?.previousVersion], [floatValue(0.01), floatValue(0.001), 1n]);
});

test('three watchers of one variable each receive the update exactly once', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: INTEGER, initialValue: intValue(0n) });
  const readers = [1, 2, 3].map(() => openWatch(t, ledger, { sessionId: 's1', identifiers: ['x'], includeInitial: true }));
  for (const reader of readers) t.is(kindName((await reader.next()).events[0]), 'WATCH_EVENT_KIND_INITIAL');

  const first = await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(1n) });
  const second = await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: intValue(2n) });
  for (const reader of readers) {
    const [a, b] = [await reader.next(), await reader.next()];
    t.deepEqual(
      [a, b].map((m) => [m.revision, m.events.length, intOf(m.events[0]?.variable?.value)]),
      [
        [first.modifiedRevision, 1, 1],
        [second.modifiedRevision, 1, 2],
      ],
    );
  }
});

test('a pattern watch gets only variables whose names match, including ones registered later', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc } = ledger;
  for (const name of ['lr.encoder', 'lr.decoder', 'temperature']) {
    await rpc.call('registerVariable', { sessionId: 's1', name, type: FLOAT, initialValue: floatValue(0.5) });
  }
  const reader = openWatch(t, ledger, { sessionId: 's1', pattern: 'lr.*', includeInitial: true });
  const initial = await reader.next();
  t.deepEqual(initial.events.map((e) => e.variable?.name), ['lr.decoder', 'lr.encoder']);

  await rpc.call('setVariable', { sessionId: 's1', identifier: 'temperature', value: floatValue(0.1) });
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'lr.encoder', value: floatValue(0.2) });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'lr.head', type: FLOAT, initialValue: floatValue(0.3) });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'momentum', type: FLOAT, initialValue: floatValue(0.9) });
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'lr.decoder', value: floatValue(0.4) });

  const seen = [];
  for (let i = 0; i < 3; i++) {
    const event = (await nextWithEvents(reader)).events[0];
    seen.push([kindName(event), event?.variable?.name, event?.variable?.value]);
  }
  t.deepEqual(seen, [
    ['WATCH_EVENT_KIND_SET', 'lr.encoder', floatValue(0.2)],
    ['WATCH_EVENT_KIND_REGISTERED', 'lr.head', floatValue(0.3)],
    ['WATCH_EVENT_KIND_SET', 'lr.decoder', floatValue(0.4)],
  ]);
});

test('identifiers select variables by id or by name; no selector watches every variable', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc } = ledger;
  const a = await rpc.call('registerVariable', { sessionId: 's1', name: 'a', type: INTEGER, initialValue: intValue(0n) });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'b', type: INTEGER, initialValue: intValue(0n) });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'c', type: INTEGER, initialValue: intValue(0n) });
  const byId = openWatch(t, ledger, { sessionId: 's1', identifiers: [a.id], includeInitial: true });
  const byName = openWatch(t, ledger, { sessionId: 's1', identifiers: ['b'], includeInitial: true });
  const all = openWatch(t, ledger, { sessionId: 's1', includeInitial: true });
  t.deepEqual((await byId.next()).events.map((e) => e.variable?.id), [a.id]);
  t.deepEqual((await byName.next()).events.map((e) => e.variable?.name), ['b']);
  t.deepEqual((await all.next()).events.map((e) => e.variable?.name), ['a', 'b', 'c']);

  for (const name of ['c', 'b', 'a']) await rpc.call('setVariable', { sessionId: 's1', identifier: name, value: intValue(7n) });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'd', type: INTEGER, initialValue: intValue(1n) });

  t.deepEqual((await byId.next()).events.map((e) => [e.variable?.name, intOf(e.variable?.value)]), [['a', 7]]);
  t.deepEqual((await byName.next()).events.map((e) => [e.variable?.name, intOf(e.variable?.value)]), [['b', 7]]);
  const everything = await all.events(4);
  t.deepEqual(
    everything.map((e) => [kindName(e), e.variable?.name]),
    [
      ['WATCH_EVENT_KIND_SET', 'c'],
      ['WATCH_EVENT_KIND_SET', 'b'],
      ['WATCH_EVENT_KIND_SET', 'a'],
      ['WATCH_EVENT_KIND_REGISTERED', 'd'],
    ],
  );
});

test('a delete arrives as DELETED with the variable as it was, its previous value and the metadata', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc } = ledger;
  const registered = await rpc.call('registerVariable', { sessionId: 's1', name: 'draft', type: STRING, initialValue: stringValue('v0') });
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'draft', value: stringValue('v1') });
  const reader = openWatch(t, ledger, { sessionId: 's1', identifiers: ['draft'] });
  await until(() => ledger.server.watchHub.size === 1, 'watcher subscribed');

  const reply = await rpc.call('deleteVariable', { sessionId: 's1', identifier: 'draft', metadata: { reason: 'obsolete' } }, { actor: 'carol' });
  const message = await reader.next();
  t.is(message.revision, reply.revision);
  t.is(message.events.length, 1);
  const event = message.events[0];
  t.is(kindName(event), 'WATCH_EVENT_KIND_DELETED');
  t.is(event?.variable?.id, registered.id);
  t.deepEqual(event?.variable?.value, stringValue('v1'));
  t.deepEqual(event?.previousValue, stringValue('v1'));
  t.is(event?.previousVersion, 1n);
  t.deepEqual(event?.metadata, { reason: 'obsolete' });
  t.is(event?.actor, 'carol');
});

test('an atomic commit reaches each watcher as ONE message holding all of its matching events', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc } = ledger;
  for (const name of ['a', 'b', 'c']) {
    await rpc.call('registerVariable', { sessionId: 's1', name, type: INTEGER, initialValue: intValue(0n) });
  }
  const all = openWatch(t, ledger, { sessionId: 's1' });
  const some = openWatch(t, ledger, { sessionId: 's1', identifiers: ['a', 'c'] });
  await until(() => ledger.server.watchHub.size === 2, 'watchers subscribed');

  const head = ledger.server.service.head;
  const reply = await rpc.call(
    'commit',
    {
      sessionId: 's1',
      atomic: true,
      metadata: { reason: 'batch' },
      operations: [setOp('a', intValue(1n)), setOp('b', intValue(2n)), deleteOp('c'), registerOp('d', INTEGER, intValue(4n))],
    },
    { actor: 'batcher' },
  );
  t.is(reply.revision, BigInt(head + 4));
  // A marker write after the commit: whatever arrives before it is everything the commit produced.
  await rpc.call('setVariable', { sessionId: 's1', identifier: 'a', value: intValue(100n) });

  const message = await all.next();
  t.is(message.revision, reply.revision);
  t.deepEqual(
    message.events.map((e) => [kindName(e), e.variable?.name, e.revision, e.actor, e.metadata['reason']]),
    [
      ['WATCH_EVENT_KIND_SET', 'a', BigInt(head + 1), 'batcher', 'batch'],
      ['WATCH_EVENT_KIND_SET', 'b', BigInt(head + 2), 'batcher', 'batch'],
      ['WATCH_EVENT_KIND_DELETED', 'c', BigInt(head + 3), 'batcher', 'batch'],
      ['WATCH_EVENT_KIND_REGISTERED', 'd', BigInt(head + 4), 'batcher', 'batch'],
    ],
  );
  t.is(intOf((await all.next()).events[0]?.variable?.value), 100);

  const partial = await some.next();
  t.is(partial.revision, reply.revision);
  t.deepEqual(partial.events.map((e) => [kindName(e), e.variable?.name]), [
    ['WATCH_EVENT_KIND_SET', 'a'],
    ['WATCH_EVENT_KIND_DELETED', 'c'],
  ]);
  t.is(intOf((await some.next()).events[0]?.variable?.value), 100);
});

test('closing the session sends SESSION_CLOSED, then the stream ends cleanly and the watcher is released', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: INTEGER, initialValue: intValue(0n) });
  const reader = openWatch(t, ledger, { sessionId: 's1', identifiers: ['x'], includeInitial: true });
  await reader.next();

  const closed = await rpc.call('closeSession', { sessionId: 's1' }, { actor: 'owner' });
  const message = await reader.next();
  t.deepEqual(message.events.map(kindName), ['WATCH_EVENT_KIND_SESSION_CLOSED']);
  t.is(message.events[0]?.variable, undefined);
  t.is(message.events[0]?.actor, 'owner');
  t.is(message.revision, closed.modifiedRevision);
  t.is(await reader.done, undefined, 'ended without an error status');
  await until(() => ledger.server.watchHub.size === 0, 'watcher released');
  t.false(ledger.server.watchHub.hasTimer);
});

test('an idle session expiring sends SESSION_EXPIRED, then the stream ends cleanly', async (t) => {
  const ledger = await ledgerFor(t);
  const { rpc, clock } = ledger;
  await rpc.call('createSession', { sessionId: 's1', ttlSeconds: 60 });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: INTEGER, initialValue: intValue(0n) });
  const reader = openWatch(t, ledger, { sessionId: 's1', includeInitial: true });
  await reader.next();

  clock.advance(61_000);
  t.is(await ledger.server.service.expireIdleSessions(), 1);
  const message = await reader.next();
  t.deepEqual(message.events.map(kindName), ['WATCH_EVENT_KIND_SESSION_EXPIRED']);
  t.is(message.revision, BigInt(ledger.server.service.head));
  t.is(await reader.done, undefined, 'ended without an error status');
  await until(() => ledger.server.watchHub.size === 0, 'watcher released');
});

