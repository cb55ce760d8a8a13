/**
 * Ids the log never had need no store read: a create of a new session, or a
 * command on a made-up id, is decided without reading the store (counted
 * here on a real SQLite store), while every session that exists — live,
 * ended and let go from memory, created by another process, present before
 * a restart — is still found.
 */
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { DomainError, parseSessionId, type SessionId } from '../../src/domain/index.js';
import { LedgerService } from '../../src/service/ledger-service.js';
import { SessionIdFilter } from '../../src/service/session-id-filter.js';
import type { EventStore } from '../../src/store/event-store.js';
import { SqliteLog } from '../../src/store/sqlite-log.js';
import { openStore, tempDir } from '../store/temp-store.js';

const ACTOR = 'tester';

/** A real store whose reads of one session (the absent-session lookup) are counted. */
function countingStore(t: ExecutionContext, at: string): { store: EventStore; reads: () => number } {
  const log = new SqliteLog(openStore(t, at), { pollMs: 0 });
  let reads = 0;
  const store = new Proxy(log, {
    get(target, key) {
      if (key === 'readSession') {
        return (...args: Parameters<EventStore['readSession']>) => {
          reads++;
          return target.readSession(...args);
        };
      }
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, reads: () => reads };
}

async function open(store: EventStore): Promise<LedgerService> {
  let n = 0;
  return LedgerService.open({ store, clock: { now: () => 1_000 }, newIdSuffix: () => String(++n), newSessionId: () => `gen${++n}`, snapshotEvery: 0 });
}

const create = (service: LedgerService, id: string) => service.createSession({ sessionId: parseSessionId(id), metadata: {}, ttlSeconds: 0 }, ACTOR);

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

test('the filter never says no for an id it was given, across layers, and rarely yes for one it was not', (t) => {
  const filter = new SessionIdFilter();
  const ids = Array.from({ length: 50_000 }, (_, i) => `session-${i}-${(i * 2654435761) % 1000}`);
  for (const id of ids) filter.add(id);
  t.true(ids.every((id) => filter.mayContain(id)));
  const strangers = Array.from({ length: 50_000 }, (_, i) => `other-${i}`);
  const falseMaybes = strangers.filter((id) => filter.mayContain(id)).length;
  t.true(falseMaybes < strangers.length * 0.02, `${falseMaybes} false positives`);
  // Compact: well under 4 bytes an id, however it grew.
  t.true(filter.bytes < ids.length * 4, `${filter.bytes} bytes`);
});

test('creates of new ids and commands on made-up ones read no session from the store; existing ones still answer', async (t) => {
  const at = join(tempDir(t), 'ledger.db');
  const { store, reads } = countingStore(t, at);
  const service = await open(store);
  t.teardown(() => service.close());
  for (let i = 0; i < 50; i++) await create(service, `s${i}`);
  await service.closeSession(parseSessionId('s0'), ACTOR);
  t.is(await code(service.set({ sessionId: parseSessionId('made-up'), identifier: 'x', value: { kind: 'float', value: 1 }, metadata: {} }, ACTOR)), 'not_found');
  t.is(await service.findSession(parseSessionId('made-up-too')), undefined);
  t.is(reads(), 0, 'no absent-session lookup read the store');
  // An ended session no longer held (none was snapshotted live) is still found: a "maybe", then a read.
  t.is(service.endedSessionsHeld(), 0);
  t.is(await code(create(service, 's0')), 'already_exists');
  t.like(await service.findSession(parseSessionId('s0')), { status: 'closed' });
  t.true(reads() > 0);
});

test('after a restart and with two processes on one log, every session that exists is still found', async (t) => {
  const at = join(tempDir(t), 'ledger.db');
  const first = await open(new SqliteLog(openStore(t, at), { pollMs: 0 }));
  for (let i = 0; i < 30; i++) await create(first, `old${i}`);
  for (let i = 0; i < 30; i += 2) await first.closeSession(parseSessionId(`old${i}`), ACTOR);
  await first.close();

  const a = await open(new SqliteLog(openStore(t, at), { pollMs: 0 }));
  t.teardown(() => a.close());
  const b = await open(new SqliteLog(openStore(t, at), { pollMs: 0 }));
  t.teardown(() => b.close());
  // From the store's index at start: closed ones (not in memory) and live ones alike.
  for (let i = 0; i < 30; i++) t.is(await code(create(a, `old${i}`)), 'already_exists', `old${i}`);
  t.like(await a.findSession(parseSessionId('old4')), { status: 'closed' });
  // Created by the other process: known once folded in, whatever happens to it.
  await create(b, 'from-b');
  await b.closeSession(parseSessionId('from-b'), ACTOR);
  await a.catchUp();
  t.like(await a.findSession(parseSessionId('from-b')), { status: 'closed' });
  t.is(await code(create(a, 'from-b')), 'already_exists');
  // Not folded in yet: the other's create conflicts in the store and is decided again against it.
  await create(b, 'race');
  t.is(await code(create(a, 'race')), 'already_exists');
  t.is(a.mayHaveSession('never' as SessionId), false);
});
