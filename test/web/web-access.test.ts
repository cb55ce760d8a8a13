/**
 * The web view's one authentication seam: the principal comes from a Bearer
 * token or the login form's cookie, and each route checks the permission it
 * needs on its session (read < write < admin). The permissions here come
 * from a fixed table standing in for the server's authentication, which
 * plugs into the same `WebAccess` interface.
 */
import test from 'ava';
import { floatValue } from '../helpers/grpc-expect.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import type { Permission, WebAccess } from '../../src/web/access.js';
import { getJson, postJson, webLedger } from './web-fixture.js';

const LEVEL: Record<Permission, number> = { read: 1, write: 2, admin: 3 };
const GRANTS: Record<string, { name: string; sessions: Record<string, Permission> }> = {
  'tok-reader': { name: 'reader', sessions: { 'team-a': 'read' } },
  'tok-writer': { name: 'writer', sessions: { 'team-a': 'write', 'team-b': 'write' } },
  'tok-admin': { name: 'root', sessions: { '*': 'admin' } },
};
const tableAccess: WebAccess = {
  required: true,
  authenticate: (token) => (GRANTS[token] ? { name: GRANTS[token].name } : undefined),
  allows(principal, permission, sessionId) {
    const grant = Object.values(GRANTS).find((g) => g.name === principal?.name);
    if (!grant) return false;
    const level = grant.sessions['*'] ?? (sessionId === undefined ? undefined : grant.sessions[sessionId]);
    return level !== undefined && LEVEL[level] >= LEVEL[permission];
  },
};
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function seeded(t: Parameters<typeof webLedger>[0]) {
  const ledger = await webLedger(t, { webAccess: tableAccess });
  for (const sessionId of ['team-a', 'team-b']) {
    await ledger.rpc.call('registerVariable', { sessionId, name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) });
    await ledger.rpc.call('setVariable', { sessionId, identifier: 'x', value: floatValue(2) });
  }
  return ledger;
}

test('no token or an unknown one is 401; the list shows only sessions the principal may read', async (t) => {
  const { base } = await seeded(t);
  t.like(await getJson(`${base}/api/sessions`), { status: 401, body: { code: 'UNAUTHENTICATED' } });
  t.like(await getJson(`${base}/api/sessions/team-a`), { status: 401 });
  t.like(await getJson(`${base}/api/sessions`, bearer('forged')), { status: 401, body: { error: 'Unknown or expired token: sign in again' } });
  t.like(await getJson(`${base}/api/whoami`), { status: 200, body: { authRequired: true, principal: null, admin: false } });
  const reader = await getJson(`${base}/api/sessions`, bearer('tok-reader'));
  t.deepEqual(reader.body.sessions.map((s: any) => s.id), ['team-a']);
  t.like(await getJson(`${base}/api/sessions/team-b/variables`, bearer('tok-reader')), { status: 403, body: { code: 'PERMISSION_DENIED' } });
  t.like(await getJson(`${base}/api/sessions/team-a`, bearer('tok-reader')), { status: 200, body: { can: { write: false } } });
  t.like(await getJson(`${base}/api/sessions/team-a`, bearer('tok-writer')), { status: 200, body: { can: { write: true } } });
});

test('rollback needs write, verify needs admin, and the recorded actor is the principal', async (t) => {
  const { base, rpc } = await seeded(t);
  const rollback = (token: string) => postJson(`${base}/api/sessions/team-a/variables/x/rollback`, { targetVersion: 0 }, bearer(token));
  t.like(await rollback('tok-reader'), { status: 403, body: { error: 'reader may not write session team-a' } });
  t.like(await rollback('tok-writer'), { status: 200, body: { variable: { version: 2, modifiedBy: 'writer' } } });
  t.like(await postJson(`${base}/api/verify`, {}, bearer('tok-writer')), { status: 403 });
  t.like(await postJson(`${base}/api/verify`, {}, bearer('tok-admin')), { status: 200, body: { ok: true } });
  t.like(await getJson(`${base}/api/whoami`, bearer('tok-admin')), { body: { principal: 'root', admin: true } });
  const history = await rpc.call('getHistory', { sessionId: 'team-a', identifier: 'x' });
  t.is(history.entries[0]?.actor, 'writer');
});

test('the login form sets an HttpOnly cookie that works like the header; a bad token or a foreign origin gets nothing', async (t) => {
  const { base } = await seeded(t);
  const login = (token: string, headers: Record<string, string> = {}, next = '/sessions/team-a') =>
    fetch(`${base}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base, ...headers }, body: new URLSearchParams({ token, next }) });
  const bad = await login('forged');
  t.is(bad.status, 303);
  t.regex(bad.headers.get('location') ?? '', /^\/login\?failed=1/);
  t.is(bad.headers.get('set-cookie'), null);
  const foreign = await login('tok-writer', { origin: 'https://evil.example' });
  t.is(foreign.status, 403);
  t.is(foreign.headers.get('set-cookie'), null);

  const good = await login('tok-writer');
  t.is(good.status, 303);
  t.is(good.headers.get('location'), '/sessions/team-a');
  const cookie = good.headers.get('set-cookie') ?? '';
  t.regex(cookie, /HttpOnly/);
  t.regex(cookie, /SameSite=Strict/);
  const session = await getJson(`${base}/api/sessions/team-a`, { cookie: cookie.split(';')[0] ?? '' });
  t.like(session, { status: 200, body: { can: { write: true } } });
  t.is((await login('tok-writer', {}, '//evil.example/x')).headers.get('location'), '/', 'only local paths to go back to');
  t.is((await fetch(`${base}/login`)).status, 200, 'the page itself needs no token');
});
