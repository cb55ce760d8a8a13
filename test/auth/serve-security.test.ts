/**
 * The security flags of the real CLI, in child processes: the non-loopback
 * refusal, `token add`, an auth file reloaded on change, certificates
 * reloaded on SIGHUP, and `varledger sessions` with a token over TLS.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { connect, UnavailableError } from '../../src/client/index.js';
import { TestCa } from '../helpers/certificates.js';
import { spawnCli, startCli } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/harness.js';

function scratch(t: { teardown(fn: () => void): void }): string {
  const tmp = tempDir('varledger-serve-sec-');
  t.teardown(() => tmp.remove());
  return tmp.dir;
}

/** Runs the CLI to its end. */
async function run(args: readonly string[], env: Record<string, string> = {}) {
  const proc = spawnCli(args, env);
  const exit = await proc.exited;
  return { code: exit.code, stdout: proc.stdoutLines, stderr: proc.stderr() };
}

test('a non-loopback --host without auth and TLS is refused in one line, before anything is opened', async (t) => {
  const dir = scratch(t);
  const [bare, authOnly, halfTls] = await Promise.all([
    run(['serve', '--host', '0.0.0.0', '--port', '0', '--data', join(dir, 'a.db')]),
    run(['serve', '--host', '::', '--port', '0', '--data', join(dir, 'b.db'), '--auth-file', join(dir, 'auth.json')]),
    run(['serve', '--port', '0', '--data', join(dir, 'c.db'), '--tls-cert', join(dir, 'server.pem')]),
  ]);
  t.is(halfTls.code, 2);
  t.regex(halfTls.stderr, /--tls-cert and --tls-key go together/);
  // One line; JSON, as all of stderr is while logging is on.
  const messages = (stderr: string) => stderr.trim().split('\n').map((line) => (JSON.parse(line) as { level: number; msg: string }));
  t.is(bare.code, 1);
  t.deepEqual(
    messages(bare.stderr).map((m) => [m.level, m.msg]),
    [
      [
        60,
        'varledger: refusing to listen on 0.0.0.0 without auth (--auth-file or --tls-client-ca) and TLS (--tls-cert and --tls-key): anyone who reaches the port could read, change and close every session; add them, or pass --insecure if the network is trusted',
      ],
    ],
  );
  t.is(authOnly.code, 1);
  t.regex(messages(authOnly.stderr)[0]?.msg ?? '', /^varledger: refusing to listen on :: without TLS \(--tls-cert and --tls-key\)/);
  t.false(existsSync(join(dir, 'a.db')), 'no database was created');
  t.deepEqual(bare.stdout, []);
});

test('token add, a TLS server with an auth file, reload on change and certificate rotation on SIGHUP', async (t) => {
  const dir = scratch(t);
  const authFile = join(dir, 'auth.json');
  const added = await run(['token', 'add', 'alice', '--sessions', 'team-a-*', '--access', 'write', '--auth-file', authFile]);
  t.is(added.code, 0, added.stderr);
  const [token] = added.stdout;
  t.regex(token ?? '', /^[A-Za-z0-9_-]{43}$/);
  t.regex(added.stderr, /shown only this once/);
  const stored = readFileSync(authFile, 'utf8');
  t.false(stored.includes(token!), 'the file holds only the hash');
  const again = await run(['token', 'add', 'alice', '--sessions', '*', '--access', 'read', '--auth-file', authFile]);
  t.is(again.code, 2);
  t.regex(again.stderr, /already in/);

  const ca = TestCa.create(dir, 'ca-one');
  const cert = ca.issue('server', 'localhost', { server: true });
  const cli = await startCli(['--port', '0', '--data', join(dir, 'ledger.db'), '--tls-cert', cert.certFile, '--tls-key', cert.keyFile, '--auth-file', authFile]);
  t.teardown(() => cli.stop());
  const address = `localhost:${cli.port}`;
  const alice = await connect(address, { token: token!, tls: { ca: ca.pem.cert } });
  t.teardown(() => alice.close());
  await alice.session('team-a-1').register('x', 'integer', 1);

  const sessions = await run(['sessions', '--address', address, '--tls-ca', ca.pem.certFile, '--json'], { VARLEDGER_TOKEN: token! });
  t.is(sessions.code, 0, sessions.stderr);
  t.deepEqual(sessions.stdout.map((l) => (JSON.parse(l) as { session_id: string }).session_id), ['team-a-1']);
  const refused = await run(['sessions', '--address', address, '--tls-ca', ca.pem.certFile]);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /Unauthenticated: no authorization header/);

  // A new principal, written while the server runs, is accepted without a restart.
  const bob = await run(['token', 'add', 'bob', '--sessions', 'team-a-*', '--access', 'read', '--auth-file', authFile]);
  t.is(bob.code, 0, bob.stderr);
  await cli.waitForStderr(/auth file reloaded/);
  const bobClient = await connect(address, { token: bob.stdout[0]!, tls: { ca: ca.pem.cert } });
  t.teardown(() => bobClient.close());
  t.is(await bobClient.session('team-a-1').get('x'), 1);

  // Rotate: new certificate files from another CA, then SIGHUP.
  const ca2 = TestCa.create(dir, 'ca-two');
  const cert2 = ca2.issue('server2', 'localhost', { server: true });
  writeFileSync(cert.certFile, cert2.cert);
  writeFileSync(cert.keyFile, cert2.key);
  cli.child.kill('SIGHUP');
  await cli.waitForStderr(/TLS certificates reloaded/);
  const rotated = await connect(address, { token: token!, tls: { ca: ca2.pem.cert } });
  t.teardown(() => rotated.close());
  t.is(await rotated.session('team-a-1').get('x'), 1);
  const stale = await connect(address, { token: token!, tls: { ca: ca.pem.cert }, callTimeoutMs: 5000 });
  t.teardown(() => stale.close());
  await t.throwsAsync(stale.session('team-a-1').get('x'), { instanceOf: UnavailableError });
});
