/**
 * The web view's JSON API over real HTTP, against a real server and a fresh
 * database: what the pages read (sessions, variables as of a revision,
 * histories), rollback, integrity, and bad requests.
 */
import test from 'ava';
import { floatValue, intValue, vectorValue } from '../helpers/grpc-expect.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { getJson, postJson, webLedger } from './web-fixture.js';

test('sessions: state, variable count, last change and its actor; a glob filters by id', async (t) => {
  const { rpc, base } = await webLedger(t);
  const register = (sessionId: string, name: string, actor: string) =>
    rpc.call('registerVariable', { sessionId, name, type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) }, { actor });
  await register('exp-1', 'a', 'alice');
  await register('exp-1', 'b', 'alice');
  await register('exp-2', 'a', 'carol');
  await register('other', 'a', 'alice');
  await rpc.call('closeSession', { sessionId: 'other' }, { actor: 'bob' });

  const all = await getJson(`${base}/api/sessions`);
  t.is(all.status, 200);
  t.deepEqual(
    all.body.sessions.map((s: any) => [s.id, s.status, s.variableCount, s.lastChange.kind, s.lastChange.actor]),
    [
      ['exp-1', 'active', 2, 'variable_registered', 'alice'],
      ['exp-2', 'active', 1, 'variable_registered', 'carol'],
      ['other', 'closed', 1, 'session_closed', 'bob'],
    ],
  );
  const filtered = await getJson(`${base}/api/sessions?pattern=exp-*`);
  t.deepEqual(filtered.body.sessions.map((s: any) => s.id), ['exp-1', 'exp-2']);
  t.deepEqual((await getJson(`${base}/api/sessions?pattern=e?p-2`)).body.sessions.map((s: any) => s.id), ['exp-2']);
  t.deepEqual((await getJson(`${base}/api/sessions?pattern=${encodeURIComponent('exp-[12]')}`)).body.sessions, [], 'brackets are literal');
  const paged = await getJson(`${base}/api/sessions?page_size=2`);
  t.deepEqual(paged.body.sessions.map((s: any) => s.id), ['exp-1', 'exp-2']);
  const rest = await getJson(`${base}/api/sessions?page_size=2&page_token=${paged.body.nextPageToken}`);
  t.deepEqual(rest.body.sessions.map((s: any) => s.id), ['other']);
  t.is(rest.body.nextPageToken, '');
});

test('a session as of any revision; a variable history with actor, time and reason; big values summarised', async (t) => {
  const { rpc, base, clock } = await webLedger(t);
  const registered = await rpc.call('registerVariable', { sessionId: 's', name: 'temperature', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(0.5) }, { actor: 'alice' });
  await rpc.call('registerVariable', { sessionId: 's', name: 'seed', type: VariableType.VARIABLE_TYPE_INTEGER, initialValue: intValue(2n ** 62n + 1n) });
  await rpc.call('registerVariable', { sessionId: 's', name: 'style', type: VariableType.VARIABLE_TYPE_EMBEDDING, initialValue: vectorValue([3, 4, ...Array<number>(30).fill(0)]) });
  clock.advance(60_000);
  const first = await rpc.call('setVariable', { sessionId: 's', identifier: 'temperature', value: floatValue(0.9), metadata: { reason: 'explore' } }, { actor: 'optimizer' });
  await rpc.call('setVariable', { sessionId: 's', identifier: 'temperature', value: floatValue(1.1) }, { actor: 'optimizer' });

  const past = await getJson(`${base}/api/sessions/s/variables?at=${first.modifiedRevision}`);
  t.is(past.status, 200);
  t.is(past.body.revision, Number(first.modifiedRevision));
  t.is(past.body.revisionTime, clock.now());
  const byName = Object.fromEntries(past.body.variables.map((v: any) => [v.name, v]));
  t.deepEqual(byName.temperature.value, { kind: 'float', value: 0.9 });
  t.is(byName.temperature.version, 1);
  t.deepEqual(byName.seed.value, { kind: 'integer', value: (2n ** 62n + 1n).toString() });
  t.like(byName.style.value, { kind: 'vector', length: 32, norm: 5 });
  t.is(byName.style.value.head.length, 16);
  const before = await getJson(`${base}/api/sessions/s/variables?at=${registered.modifiedRevision}`);
  t.deepEqual(before.body.variables.map((v: any) => [v.name, v.value.value]), [['temperature', 0.5]]);

  const history = await getJson(`${base}/api/sessions/s/variables/temperature/history`);
  t.deepEqual(
    history.body.entries.map((e: any) => [e.version, e.value.value, e.actor, e.kind, e.metadata]),
    [
      [2, 1.1, 'optimizer', 'variable_set', {}],
      [1, 0.9, 'optimizer', 'variable_set', { reason: 'explore' }],
      [0, 0.5, 'alice', 'variable_registered', {}],
    ],
  );
  t.is(history.body.entries[1].time, clock.now());
  t.is(history.body.nextBefore, null);
  const page = await getJson(`${base}/api/sessions/s/variables/temperature/history?limit=2`);
  t.deepEqual(page.body.entries.map((e: any) => e.version), [2, 1]);
  t.is(page.body.nextBefore, 1);
  const older = await getJson(`${base}/api/sessions/s/variables/temperature/history?before=${page.body.nextBefore}`);
  t.deepEqual(older.body.entries.map((e: any) => e.version), [0]);
  const picked = await getJson(`${base}/api/sessions/s/variables/style/history?dims=1,31`);
  t.deepEqual(picked.body.entries[0].value.picked, { '1': 4, '31': 0 });
});

test('bad requests get a clear status and code and change nothing', async (t) => {
  const { rpc, base, server } = await webLedger(t);
  await rpc.call('registerVariable', { sessionId: 's', name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) });
  const head = server.service.head;
  const cases: [string, number, string | RegExp][] = [
    ['/api/sessions/nope', 404, 'Session not found: nope'],
    ['/api/sessions/s/variables?at=abc', 400, 'at must be a revision number'],
    [`/api/sessions/s/variables?at=${head + 5}`, 400, /beyond the head/],
    ['/api/sessions/s/variables/nope/history', 404, 'Variable not found: nope'],
    ['/api/sessions/s/variables/x/history?dims=a', 400, /dims/],
    ['/api/sessions?pattern=' + 'a'.repeat(300), 400, /pattern is longer/],
    ['/api/nothing-here', 404, 'No such API route'],
  ];
  for (const [path, status, message] of cases) {
    const { status: got, body } = await getJson(base + path);
    t.is(got, status, path);
    if (typeof message === 'string') t.is(body.error, message, path);
    else t.regex(body.error, message, path);
  }
  const rollback = (body: unknown) => postJson(`${base}/api/sessions/s/variables/x/rollback`, body);
  t.like(await rollback({ targetVersion: 7 }), { status: 404, body: { code: 'NOT_FOUND' } });
  t.like(await rollback({ targetVersion: 'zero' }), { status: 400, body: { error: 'targetVersion must be a number' } });
  t.like(await rollback([1]), { status: 400 });
  t.is(server.service.head, head);
});

test('rollback appends a version with the old value, records who and why, and refuses a stale expected version', async (t) => {
  const { rpc, base } = await webLedger(t);
  await rpc.call('registerVariable', { sessionId: 's', name: 't', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(0.5) });
  await rpc.call('setVariable', { sessionId: 's', identifier: 't', value: floatValue(0.9) });
  const stale = await postJson(`${base}/api/sessions/s/variables/t/rollback`, { targetVersion: 0, expectedVersion: 0 });
  t.is(stale.status, 409);
  t.is(stale.body.code, 'ABORTED');
  const done = await postJson(`${base}/api/sessions/s/variables/t/rollback`, { targetVersion: 0, expectedVersion: 1, reason: 'regression' });
  t.is(done.status, 200);
  t.like(done.body.variable, { version: 2, value: { value: 0.5 }, modifiedBy: 'web' });
  const history = await rpc.call('getHistory', { sessionId: 's', identifier: 't' });
  t.like(history.entries[0], { version: 2n, actor: 'web', metadata: { reason: 'regression', rolled_back_from: '1', rolled_back_to: '0' } });
});

test('integrity: the digest is the log\u2019s chain head, and verify now runs `varledger verify`', async (t) => {
  const { rpc, base } = await webLedger(t);
  await rpc.call('registerVariable', { sessionId: 's', name: 't', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(0.5) });
  const digest = await rpc.call('getDigest', {});
  const web = await getJson(`${base}/api/digest`);
  t.deepEqual(web.body, { revision: Number(digest.revision), hash: digest.hash });
  t.is((await getJson(`${base}/api/verify`)).body, null);
  const verified = await postJson(`${base}/api/verify`, {});
  t.is(verified.status, 200);
  t.true(verified.body.ok);
  t.is(verified.body.output, `OK: 2 events, 0 snapshots match the log, head ${digest.revision}:${digest.hash}`);
  t.deepEqual((await getJson(`${base}/api/verify`)).body, verified.body);
});

test('a hostile glob is matched in linear time and does not stall other requests', async (t) => {
  const { rpc, base } = await webLedger(t);
  await rpc.call('registerVariable', { sessionId: 'a'.repeat(120), name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) });
  // Backtracking matchers take seconds on this; RE2 answers at once.
  const hostile = `${'*a'.repeat(60)}*b`;
  const [list, whoami] = await Promise.all([getJson(`${base}/api/sessions?pattern=${hostile}`), getJson(`${base}/api/whoami`)]);
  t.is(list.status, 200);
  t.deepEqual(list.body.sessions, []);
  t.is(whoami.status, 200);
});
