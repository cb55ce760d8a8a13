/**
 * The per-principal session limit on a PostgreSQL log shared by two nodes
 * (in-process servers on one database): a node counts the live sessions
 * created before it started and those another node creates while it runs.
 */
import { status } from '@grpc/grpc-js';
import test from 'ava';
import { expectStatus } from '../helpers/grpc-expect.js';
import { freshDatabase, usePostgres } from '../helpers/postgres-fixture.js';
import { authFileJson, startAuthLedger } from '../auth/auth-fixture.js';

usePostgres(test);

test("a node counts sessions created before it started and those another node creates", async (t) => {
  const url = await freshDatabase();
  const options = { authJson: authFileJson({ limits: { sessions: 2 } }), storeLocation: { kind: 'postgres', url } as const };
  const a = await startAuthLedger(t, options);
  await a.as('alice').call('createSession', { sessionId: 'team-a-1' });

  // B starts with team-a-1 already live: counted at start.
  const b = await startAuthLedger(t, options);
  await b.as('alice').call('createSession', { sessionId: 'team-a-2' });
  await expectStatus(t, b.as('alice').call('createSession', { sessionId: 'team-a-3' }), status.RESOURCE_EXHAUSTED, /alice already has 2 live sessions/);

  // A hears of B's session when it catches up (its notifier would, in time; here explicitly, no waiting).
  await a.server.service.catchUp();
  await expectStatus(t, a.as('alice').call('createSession', { sessionId: 'team-a-3' }), status.RESOURCE_EXHAUSTED, /alice already has 2 live sessions/);
  // A close on B frees the place on A too.
  await b.as('alice').call('closeSession', { sessionId: 'team-a-1' });
  await a.server.service.catchUp();
  await a.as('alice').call('createSession', { sessionId: 'team-a-3' });
  t.pass();
});
