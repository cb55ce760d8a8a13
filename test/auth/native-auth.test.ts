/**
 * Auth on the native API: who may call (tokens), what they may touch
 * (session grants), what they see (ListSessions), and who the log says
 * did it (the principal, with the declared actor as a label).
 */
import { status } from '@grpc/grpc-js';
import test from 'ava';
import { pino } from 'pino';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { expectStatus, floatValue } from '../helpers/grpc-expect.js';
import { startLedger } from '../helpers/harness.js';
import { startAuthLedger } from './auth-fixture.js';

const FLOAT = VariableType.VARIABLE_TYPE_FLOAT;

test('without a token, or with one nobody issued, every call is UNAUTHENTICATED', async (t) => {
  const ledger = await startAuthLedger(t);
  await expectStatus(t, ledger.rpc.call('listSessions', {}), status.UNAUTHENTICATED, /no authorization header/);
  await expectStatus(t, ledger.rpc.call('createSession', { sessionId: 'team-a-1' }), status.UNAUTHENTICATED);
  const stranger = new LedgerRpc(ledger.address, {}, { token: 'made-up-token' });
  t.teardown(() => stranger.close());
  await expectStatus(t, stranger.call('getSession', { sessionId: 'team-a-1' }), status.UNAUTHENTICATED, /unknown token/);
  t.is(Number(ledger.server.service.head), 0, 'nothing was written');
});

test('grants decide: write in your sessions, read where granted read, PERMISSION_DENIED elsewhere with nothing written', async (t) => {
  const ledger = await startAuthLedger(t);
  const alice = ledger.as('alice');
  await alice.call('registerVariable', { sessionId: 'team-a-1', name: 'secret', type: FLOAT, initialValue: floatValue(1) });
  t.is((await ledger.as('bob').call('getVariable', { sessionId: 'team-a-1', identifier: 'secret' })).version, 0n);
  const head = ledger.server.service.head;

  await expectStatus(t, ledger.as('bob').call('setVariable', { sessionId: 'team-a-1', identifier: 'secret', value: floatValue(2) }), status.PERMISSION_DENIED, /bob may not write/);
  await expectStatus(t, ledger.as('carol').call('getVariable', { sessionId: 'team-a-1', identifier: 'secret' }), status.PERMISSION_DENIED);
  await expectStatus(t, ledger.as('carol').call('closeSession', { sessionId: 'team-a-1' }), status.PERMISSION_DENIED);
  await expectStatus(t, ledger.as('carol').call('getHistory', { sessionId: 'team-a-1', identifier: 'secret' }), status.PERMISSION_DENIED);
  await expectStatus(t, alice.call('createSession', { sessionId: 'team-b-1' }), status.PERMISSION_DENIED);
  // A generated session id is not in alice's glob: she must name the session.
  await expectStatus(t, alice.call('createSession', {}), status.PERMISSION_DENIED);
  await expectStatus(
    t,
    ledger.as('carol').call('commit', { sessionId: 'team-a-1', operations: [{ op: { $case: 'set', set: { identifier: 'secret', value: floatValue(9) } } }], atomic: true }),
    status.PERMISSION_DENIED,
  );
  t.is(ledger.server.service.head, head, 'no refused call wrote anything');
  t.is((await ledger.as('root').call('getVariable', { sessionId: 'team-a-1', identifier: 'secret' })).value?.kind?.$case, 'floatValue');
  // Admin: every session, and a generated id.
  t.truthy((await ledger.as('root').call('createSession', {})).sessionId);
});

test('ListSessions shows each principal only the sessions it may read, across pages', async (t) => {
  const ledger = await startAuthLedger(t);
  for (const id of ['team-a-1', 'team-a-2', 'team-a-3']) await ledger.as('alice').call('createSession', { sessionId: id });
  for (const id of ['team-b-1', 'team-b-2']) await ledger.as('carol').call('createSession', { sessionId: id });
  const ids = async (rpc: LedgerRpc, pageSize: number) => {
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await rpc.call('listSessions', { pageSize, pageToken });
      t.true(page.sessions.length <= pageSize);
      seen.push(...page.sessions.map((s) => s.sessionId));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    return seen;
  };
  t.deepEqual(await ids(ledger.as('bob'), 2), ['team-a-1', 'team-a-2', 'team-a-3']);
  t.deepEqual(await ids(ledger.as('carol'), 1), ['team-b-1', 'team-b-2']);
  t.deepEqual(await ids(ledger.as('root'), 100), ['team-a-1', 'team-a-2', 'team-a-3', 'team-b-1', 'team-b-2']);
});

test('the recorded actor is the principal; a declared actor is only a label after it', async (t) => {
  const ledger = await startAuthLedger(t);
  const alice = ledger.as('alice');
  await alice.call('registerVariable', { sessionId: 'team-a-1', name: 'x', type: FLOAT, initialValue: floatValue(0) });
  await alice.call('setVariable', { sessionId: 'team-a-1', identifier: 'x', value: floatValue(1) }, { actor: 'optimizer' });
  await alice.call('setVariable', { sessionId: 'team-a-1', identifier: 'x', value: floatValue(2) }, { actor: 'bob' });
  const last = await alice.call('setVariable', { sessionId: 'team-a-1', identifier: 'x', value: floatValue(3) }, { actor: 'varledger' });
  t.is(last.modifiedBy, 'alice/varledger');
  const history = await ledger.as('bob').call('getHistory', { sessionId: 'team-a-1', identifier: 'x' });
  t.deepEqual(
    history.entries.map((e) => e.actor),
    ['alice/varledger', 'alice/bob', 'alice/optimizer', 'alice'],
  );
  const actors = [...ledger.server.file!.readAll()].map((e) => e.actor);
  t.false(actors.includes('varledger'));
  t.false(actors.includes('bob'));
});

test('without auth the declared actor is recorded as before, but never as the server itself', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  await ledger.rpc.call('registerVariable', { sessionId: 's', name: 'x', type: FLOAT, initialValue: floatValue(0) }, { actor: 'alice' });
  t.is((await ledger.rpc.call('getVariable', { sessionId: 's', identifier: 'x' })).modifiedBy, 'alice');
  await expectStatus(
    t,
    ledger.rpc.call('setVariable', { sessionId: 's', identifier: 'x', value: floatValue(1) }, { actor: 'varledger' }),
    status.INVALID_ARGUMENT,
    /may not be "varledger"/,
  );
  t.is((await ledger.rpc.call('getVariable', { sessionId: 's', identifier: 'x' })).version, 0n);
});

test('a watch needs read access on its session; a permitted watcher gets the changes', async (t) => {
  const ledger = await startAuthLedger(t);
  await ledger.as('alice').call('registerVariable', { sessionId: 'team-a-1', name: 'x', type: FLOAT, initialValue: floatValue(0) });
  const refused = ledger.as('carol').watch({ sessionId: 'team-a-1', includeInitial: true });
  await expectStatus(t, new Promise((resolve, reject) => refused.on('error', reject).on('data', resolve)), status.PERMISSION_DENIED);
  const anonymous = ledger.rpc.watch({ sessionId: 'team-a-1' });
  await expectStatus(t, new Promise((resolve, reject) => anonymous.on('error', reject).on('data', resolve)), status.UNAUTHENTICATED);

  const watch = ledger.as('bob').watch({ sessionId: 'team-a-1', includeInitial: true });
  t.teardown(() => watch.cancel());
  const messages = watch[Symbol.asyncIterator]();
  t.is((await messages.next()).value.events[0].variable.name, 'x');
  await ledger.as('alice').call('setVariable', { sessionId: 'team-a-1', identifier: 'x', value: floatValue(5) }, { actor: 'tuner' });
  const change = (await messages.next()).value.events[0];
  t.is(change.actor, 'alice/tuner');
});

test('refused calls are logged with principal, method and session', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const ledger = await startAuthLedger(t, { logger });
  await expectStatus(t, ledger.as('carol').call('getSession', { sessionId: 'team-a-9' }), status.PERMISSION_DENIED);
  await expectStatus(t, ledger.rpc.call('getSession', { sessionId: 'team-a-9' }), status.UNAUTHENTICATED);
  const refusals = lines.filter((l) => l['msg'] === 'call refused').map(({ principal, method, session, code }) => ({ principal, method, session, code }));
  t.deepEqual(refusals, [
    { principal: 'carol', method: '/varledger.v1.Ledger/GetSession', session: 'team-a-9', code: 'permission_denied' },
    { principal: null, method: '/varledger.v1.Ledger/GetSession', session: null, code: 'unauthenticated' },
  ]);
});
