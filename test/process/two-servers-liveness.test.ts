/**
 * Two server processes on one database file: a session kept alive through
 * one of them is not expired by the other, and an idle session is expired
 * exactly once. Real child processes, a short TTL, and no sleeps: the test
 * waits for the idle session's SESSION_EXPIRED on a watch stream.
 */
import { join } from 'node:path';
import test from 'ava';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { SessionState, WatchEventKind, type WatchResponse } from '../../src/gen/varledger/v1/ledger.js';
import { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { startCli } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/harness.js';

/** Short, but long enough that one heartbeat on a loaded machine never takes a whole TTL. */
const TTL_SECONDS = 2;

test('two servers on one file keep a heartbeated session alive and expire an idle one exactly once', async (t) => {
  const tmp = tempDir();
  t.teardown(() => tmp.remove());
  const data = join(tmp.dir, 'ledger.db');
  const one = await startCli(['--port', '0', '--data', data]);
  t.teardown(() => one.stop());
  const two = await startCli(['--port', '0', '--data', data]);
  t.teardown(() => two.stop());
  const viaOne = new LedgerRpc(one.address);
  const viaTwo = new LedgerRpc(two.address);
  t.teardown(() => (viaOne.close(), viaTwo.close()));

  await viaTwo.call('createSession', { sessionId: 'idle', ttlSeconds: TTL_SECONDS });
  await viaOne.call('createSession', { sessionId: 'busy', ttlSeconds: TTL_SECONDS });

  // Heartbeats through server one, back to back from the moment it exists, until the idle session has expired.
  let expired = false;
  let beats = 0;
  const heartbeats = (async () => {
    while (!expired) {
      await viaOne.call('heartbeat', { sessionId: 'busy' });
      beats++;
    }
  })();
  const watch = viaTwo.watch({ sessionId: 'idle' });
  for await (const message of watch as AsyncIterable<WatchResponse>) {
    if (message.events.some((e) => e.kind === WatchEventKind.WATCH_EVENT_KIND_SESSION_EXPIRED)) break;
  }
  // Server two decides about `busy` now, long past its TTL since creation, having served none of its calls.
  const busy = await viaTwo.call('getSession', { sessionId: 'busy' });
  expired = true;
  await heartbeats;
  t.is(busy.state, SessionState.SESSION_STATE_ACTIVE, `busy still active after ${beats} heartbeats through the other server`);
  t.is((await viaOne.call('getSession', { sessionId: 'idle' })).state, SessionState.SESSION_STATE_EXPIRED);

  await Promise.all([one.stop('SIGTERM'), two.stop('SIGTERM')]);
  const file = new SqliteEventStore(data, { readonly: true });
  t.teardown(() => file.close());
  const expiries = [...file.readAll()].filter((e) => e.kind === 'session_expired').map((e) => e.sessionId);
  t.deepEqual(expiries, ['idle'], 'the idle session expired exactly once, the busy one never');
});
