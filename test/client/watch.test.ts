/** session.watch(): an async iterator of plain events. */
import test from 'ava';
import { clientLedger, take } from './client-fixture.js';

test('watch by names with include_initial, then live events with previous values', async (t) => {
  const { client } = await clientLedger(t);
  const s = (await client({ actor: 'w' })).session('s1');
  await s.register('x', 'integer', 1);
  await s.register('y', 'string', 'a');
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const events = s.watch(['x'], { includeInitial: true, signal: controller.signal });
  const [initial] = await take(events, 1);
  t.like(initial, { kind: 'initial', name: 'x', previousValue: undefined, commitId: 0 });
  t.is(initial?.variable?.value, 1);

  await s.set('y', 'b');
  const set = await s.set('x', 2, { metadata: { reason: 'why' } });
  await s.delete('x');
  const [changed, deleted] = await take(events, 2);
  t.like(changed, { kind: 'set', name: 'x', previousValue: 1, previousVersion: 0, actor: 'w', revision: set.modifiedRevision, commitId: set.modifiedRevision });
  t.deepEqual(changed?.metadata, { reason: 'why' });
  t.is(changed?.variable?.value, 2);
  t.like(deleted, { kind: 'deleted', name: 'x', previousValue: 2 });
});

test('watch by pattern; an atomic batch arrives as events sharing one commit id', async (t) => {
  const { client } = await clientLedger(t);
  const s = (await client()).session('s1');
  await s.register('lr', 'float', 0.1);
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const events = s.watch('opt.*', { signal: controller.signal });
  // The iterator has not asked the server yet; the first next() opens the stream.
  const first = events.next();
  const result = await s.batch((b) => {
    b.register('opt.a', 'integer', 1);
    b.set('lr', 0.2);
    b.register('opt.b', 'integer', 2);
  });
  const batch = [(await first).value, ...(await take(events, 1))];
  t.deepEqual(batch.map((e) => [e?.kind, e?.name]), [
    ['registered', 'opt.a'],
    ['registered', 'opt.b'],
  ]);
  t.is(batch[0]?.commitId, batch[1]?.commitId);
  t.is(batch[1]?.revision, result.revision);
});

test('startRevision replays from the log; abort ends the iteration quietly', async (t) => {
  const { client } = await clientLedger(t);
  const s = (await client()).session('s1');
  const v0 = await s.register('x', 'integer', 0);
  for (let i = 1; i <= 3; i++) await s.set('x', i);
  const controller = new AbortController();
  const seen: unknown[] = [];
  for await (const event of s.watch(['x'], { startRevision: v0.modifiedRevision + 1, signal: controller.signal })) {
    seen.push(event.variable?.value);
    if (seen.length === 3) controller.abort();
  }
  t.deepEqual(seen, [1, 2, 3]);

  // Aborting while the iterator waits for the next event also ends it.
  const waiting = new AbortController();
  const idle = s.watch(['x'], { signal: waiting.signal });
  const next = idle.next();
  waiting.abort();
  t.deepEqual(await next, { done: true, value: undefined });
});

test("a watch from now sees writes issued right after its first next()", async (t) => {
  const { client } = await clientLedger(t);
  const s = (await client()).session('s1');
  await s.register('x', 'integer', 0);
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const events = s.watch(['x'], { signal: controller.signal });
  const pending = events.next();
  const writes = await Promise.all([s.set('x', 1), s.set('x', 2)]);
  const seen = [(await pending).value, ...(await take(events, 1))];
  t.deepEqual(seen.map((e) => e?.revision), writes.map((w) => w.modifiedRevision).sort((a, b) => a - b));
});

test('the iteration ends after the session-closed event', async (t) => {
  const { client } = await clientLedger(t);
  const s = (await client()).session('s1');
  await s.register('x', 'integer', 0);
  const kinds: string[] = [];
  const watching = (async () => {
    for await (const event of s.watch(undefined, { includeInitial: true })) {
      kinds.push(event.kind);
      if (event.kind === 'initial') await s.close();
    }
  })();
  await watching;
  t.deepEqual(kinds, ['initial', 'session_closed']);
});

test('closing the client ends its watch iterators quietly', async (t) => {
  const { client } = await clientLedger(t);
  const c = await client();
  const s = c.session('s1');
  await s.register('x', 'integer', 0);
  const events = s.watch(['x'], { includeInitial: true });
  await take(events, 1);
  const next = events.next();
  await c.close();
  t.deepEqual(await next, { done: true, value: undefined });
});
