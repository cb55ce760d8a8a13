/**
 * Real TLS and mTLS on loopback with certificates made for the test: the
 * TypeScript client's `tls` and `token` options, client certificates as
 * principals, and a client without the right CA or certificate refused.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import test from 'ava';
import { connect, NotFoundError, PermissionDeniedError, UnauthenticatedError, UnavailableError } from '../../src/client/index.js';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { TestCa } from '../helpers/certificates.js';
import { expectStatus, floatValue } from '../helpers/grpc-expect.js';
import { startLedger, tempDir } from '../helpers/harness.js';
import { authFileJson, TOKENS } from './auth-fixture.js';

const tmp = tempDir('varledger-tls-');
test.after.always(() => tmp.remove());
// One CA for servers and clients, another nobody trusts.
const ca = TestCa.create(tmp.dir, 'test-ca');
const otherCa = TestCa.create(tmp.dir, 'other-ca');
const serverPem = ca.issue('server', 'localhost', { server: true });
const alicePem = ca.issue('alice', 'alice');
const malloryPem = ca.issue('mallory', 'mallory');
const strangerPem = otherCa.issue('stranger', 'alice');
const authFile = join(tmp.dir, 'auth.json');
writeFileSync(authFile, authFileJson());

const FLOAT = VariableType.VARIABLE_TYPE_FLOAT;
/** By name, as TLS clients should (an IP address as TLS server name is deprecated in node). */
const byName = (address: string) => address.replace('127.0.0.1', 'localhost');

test('TLS with a token: the client trusts the test CA and sends its token; plain text and a stranger CA do not connect', async (t) => {
  const ledger = await startLedger({ tls: { certFile: serverPem.certFile, keyFile: serverPem.keyFile }, authFile });
  t.teardown(() => ledger.stop());
  const client = await connect(byName(ledger.address), { token: TOKENS.alice, tls: { ca: ca.pem.cert }, actor: 'nb' });
  t.teardown(() => client.close());
  const s = client.session('team-a-1');
  await s.register('t', 'float', 0.5);
  t.is((await s.getVariable('t')).modifiedBy, 'alice/nb');
  await t.throwsAsync(client.session('team-b-1').register('t', 'float', 0.5), { instanceOf: PermissionDeniedError });

  const noToken = await connect(byName(ledger.address), { tls: { ca: ca.pem.cert } });
  t.teardown(() => noToken.close());
  await t.throwsAsync(noToken.session('team-a-1').get('t'), { instanceOf: UnauthenticatedError });
  const plain = await connect(byName(ledger.address), { token: TOKENS.alice, callTimeoutMs: 5000 });
  t.teardown(() => plain.close());
  await t.throwsAsync(plain.session('team-a-1').get('t'), { instanceOf: UnavailableError });
  const wrongCa = await connect(byName(ledger.address), { token: TOKENS.alice, tls: { ca: otherCa.pem.cert }, callTimeoutMs: 5000 });
  t.teardown(() => wrongCa.close());
  await t.throwsAsync(wrongCa.session('team-a-1').get('t'), { instanceOf: UnavailableError });
});

test('mTLS: the client certificate CN is the principal, with its grants from the auth file', async (t) => {
  const ledger = await startLedger({ tls: { certFile: serverPem.certFile, keyFile: serverPem.keyFile, clientCaFile: ca.pem.certFile }, authFile });
  t.teardown(() => ledger.stop());
  const as = (pem: { cert: Buffer; key: Buffer }, token?: string) => {
    const rpc = new LedgerRpc(byName(ledger.address), {}, { tls: { ca: ca.pem.cert, cert: pem.cert, key: pem.key }, ...(token && { token }) });
    t.teardown(() => rpc.close());
    return rpc;
  };
  const alice = as(alicePem);
  const created = await alice.call('registerVariable', { sessionId: 'team-a-1', name: 't', type: FLOAT, initialValue: floatValue(1) }, { actor: 'job' });
  t.is(created.modifiedBy, 'alice/job');
  await expectStatus(t, alice.call('createSession', { sessionId: 'team-b-1' }), status.PERMISSION_DENIED);
  // Signed by the CA but not in the auth file: known, and allowed nothing.
  await expectStatus(t, as(malloryPem).call('getSession', { sessionId: 'team-a-1' }), status.PERMISSION_DENIED);
  // A token must name the same principal as the certificate.
  await expectStatus(t, as(alicePem, TOKENS.carol).call('getSession', { sessionId: 'team-a-1' }), status.UNAUTHENTICATED, /different principals/);
  t.is((await as(alicePem, TOKENS.alice).call('getSession', { sessionId: 'team-a-1' })).sessionId, 'team-a-1');
  // No certificate, or one from another CA: the TLS handshake fails.
  const anonymous = new LedgerRpc(byName(ledger.address), {}, { tls: { ca: ca.pem.cert }, token: TOKENS.alice });
  t.teardown(() => anonymous.close());
  await expectStatus(t, anonymous.call('getSession', { sessionId: 'team-a-1' }, { deadline: new Date(Date.now() + 5000) }), status.UNAVAILABLE);
  await expectStatus(t, as(strangerPem).call('getSession', { sessionId: 'team-a-1' }, { deadline: new Date(Date.now() + 5000) }), status.UNAVAILABLE);
});

test('mTLS without an auth file: the CA vouches, every certificate holder is a principal with full access', async (t) => {
  const ledger = await startLedger({ tls: { certFile: serverPem.certFile, keyFile: serverPem.keyFile, clientCaFile: ca.pem.certFile } });
  t.teardown(() => ledger.stop());
  const client = await connect(byName(ledger.address), { tls: { ca: ca.pem.cert, cert: malloryPem.cert, key: malloryPem.key } });
  t.teardown(() => client.close());
  await client.session('anything').register('x', 'integer', 1);
  t.is((await client.session('anything').getVariable('x')).modifiedBy, 'mallory');
  await t.throwsAsync(client.session('missing').get('x'), { instanceOf: NotFoundError });
});
