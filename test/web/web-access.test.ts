/**
 * The web view with the server's authentication on (an auth file, the same
 * one the gRPC API uses): the principal comes from a Bearer token or the
 * sign-in form's cookie, and each route checks its permission on its session
 * — read to look, write to roll back, admin to verify. Grants (auth fixture):
 * alice write team-a-*, bob read team-a-*, carol write team-b-*, root admin.
 * With TLS on, the web view is HTTPS with the gRPC port's certificate.
 */
import { request } from 'node:https';
import test from 'ava';
import { floatValue } from '../helpers/grpc-expect.js';
import { TestCa } from '../helpers/certificates.js';
import { tempDir } from '../helpers/harness.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { startAuthLedger, TOKENS, type Who } from '../auth/auth-fixture.js';
import { getJson, postJson } from './web-fixture.js';

const bearer = (who: Who | 'forged') => ({ authorization: `Bearer ${who === 'forged' ? 'forged-token-0123456789' : TOKENS[who]}` });

async function seeded(t: Parameters<typeof startAuthLedger>[0], options: Parameters<typeof startAuthLedger>[1] = {}) {
  const ledger = await startAuthLedger(t, { httpPort: 0, ...options });
  for (const sessionId of ['team-a-1', 'team-b-1']) {
    const rpc = ledger.as(sessionId.startsWith('team-a') ? 'alice' : 'carol');
    await rpc.call('registerVariable', { sessionId, name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) });
    await rpc.call('setVariable', { sessionId, identifier: 'x', value: floatValue(2) });
  }
  return { ...ledger, base: `http://127.0.0.1:${ledger.server.httpPort}` };
}

test('no token or an unknown one is 401; the list shows only sessions the principal may read', async (t) => {
  const { base } = await seeded(t);
  t.like(await getJson(`${base}/api/sessions`), { status: 401, body: { code: 'UNAUTHENTICATED' } });
  t.like(await getJson(`${base}/api/sessions/team-a-1`), { status: 401 });
  t.like(await getJson(`${base}/api/sessions`, bearer('forged')), { status: 401, body: { error: 'Unknown or expired token: sign in again' } });
  t.like(await getJson(`${base}/api/whoami`), { status: 200, body: { authRequired: true, principal: null, admin: false } });
  const bob = await getJson(`${base}/api/sessions`, bearer('bob'));
  t.deepEqual(bob.body.sessions.map((s: any) => s.id), ['team-a-1']);
  t.deepEqual((await getJson(`${base}/api/sessions`, bearer('root'))).body.sessions.map((s: any) => s.id), ['team-a-1', 'team-b-1']);
  t.like(await getJson(`${base}/api/sessions/team-b-1/variables`, bearer('bob')), { status: 403, body: { code: 'PERMISSION_DENIED' } });
  t.like(await getJson(`${base}/api/sessions/team-a-1`, bearer('bob')), { status: 200, body: { can: { write: false } } });
  t.like(await getJson(`${base}/api/sessions/team-a-1`, bearer('alice')), { status: 200, body: { can: { write: true } } });
});

test('rollback needs write, verify needs admin, and the recorded actor is the principal', async (t) => {
  const { base, as } = await seeded(t);
  const rollback = (who: Who) => postJson(`${base}/api/sessions/team-a-1/variables/x/rollback`, { targetVersion: 0 }, bearer(who));
  t.like(await rollback('bob'), { status: 403, body: { error: 'bob may not write session team-a-1' } });
  t.like(await rollback('carol'), { status: 403 });
  t.like(await rollback('alice'), { status: 200, body: { variable: { version: 2, modifiedBy: 'alice/web' } } });
  t.like(await postJson(`${base}/api/verify`, {}, bearer('alice')), { status: 403 });
  t.like(await postJson(`${base}/api/verify`, {}, bearer('root')), { status: 200, body: { ok: true } });
  t.like(await getJson(`${base}/api/whoami`, bearer('root')), { body: { principal: 'root', admin: true } });
  const history = await as('bob').call('getHistory', { sessionId: 'team-a-1', identifier: 'x' });
  t.is(history.entries[0]?.actor, 'alice/web');
});

test('the sign-in form sets an HttpOnly cookie that works like the header; a bad token or a foreign origin gets nothing', async (t) => {
  const { base } = await seeded(t);
  const login = (token: string, headers: Record<string, string> = {}, next = '/sessions/team-a-1') =>
    fetch(`${base}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base, ...headers }, body: new URLSearchParams({ token, next }) });
  const bad = await login('forged-token-0123456789');
  t.is(bad.status, 303);
  t.regex(bad.headers.get('location') ?? '', /^\/login\?failed=1/);
  t.is(bad.headers.get('set-cookie'), null);
  const foreign = await login(TOKENS.alice, { origin: 'https://evil.example' });
  t.is(foreign.status, 403);
  t.is(foreign.headers.get('set-cookie'), null);

  const good = await login(TOKENS.alice);
  t.is(good.status, 303);
  t.is(good.headers.get('location'), '/sessions/team-a-1');
  const cookie = good.headers.get('set-cookie') ?? '';
  t.regex(cookie, /HttpOnly/);
  t.regex(cookie, /SameSite=Strict/);
  t.like(await getJson(`${base}/api/sessions/team-a-1`, { cookie: cookie.split(';')[0] ?? '' }), { status: 200, body: { can: { write: true } } });
  t.is((await login(TOKENS.alice, {}, '//evil.example/x')).headers.get('location'), '/', 'only local paths to go back to');
  t.is((await fetch(`${base}/login`)).status, 200, 'the page itself needs no token');
});

test('with TLS on, the web view is HTTPS with the same certificate', async (t) => {
  const tmp = tempDir('varledger-web-tls-');
  t.teardown(() => tmp.remove());
  const ca = TestCa.create(tmp.dir, 'test-ca');
  const pem = ca.issue('server', '127.0.0.1', { server: true });
  const ledger = await startAuthLedger(t, { httpPort: 0, tls: { certFile: pem.certFile, keyFile: pem.keyFile } });
  t.is(ledger.server.web?.protocol, 'https');
  const body = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: ledger.server.httpPort, path: '/api/whoami', ca: ca.pem.cert, headers: bearer('root') }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(text));
    });
    req.on('error', reject).end();
  });
  t.like(JSON.parse(body), { principal: 'root', admin: true });
});
