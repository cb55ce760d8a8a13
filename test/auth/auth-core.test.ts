/** The pure parts of auth: session globs, grants, the auth file, bearer headers, exposure. */
import test from 'ava';
import fc from 'fast-check';
import { mayAccess, type Principal } from '../../src/auth/access.js';
import { compileGlob } from '../../src/domain/index.js';
import { DEFAULT_LIMITS, parseAuthFile } from '../../src/auth/auth-file.js';
import { exposureProblem, isLoopback } from '../../src/auth/exposure.js';
import { bearerToken, hashToken, newToken } from '../../src/auth/tokens.js';
import { METHOD_RULES, ruleOf } from '../../src/server/method-access.js';

/** The meaning of a glob, as a regular expression (fine for short test inputs). */
const reference = (glob: string, text: string) =>
  new RegExp(`^${[...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('')}$`, 's').test(text);

/** Session globs go through the one glob module (src/domain/glob.ts); the auth file allows 1 to 256 characters. */
const globMatches = (glob: string, text: string) => compileGlob(glob)(text);

test('session globs match exactly as * and ? mean, whatever the input', (t) => {
  const alphabet = fc.constantFrom('a', 'b', '-', '*', '?', '.');
  fc.assert(
    fc.property(fc.string({ unit: alphabet, minLength: 1, maxLength: 8 }), fc.string({ unit: fc.constantFrom('a', 'b', '-', '.'), maxLength: 12 }), (glob, text) => {
      if (globMatches(glob, text) !== reference(glob, text)) throw new Error(`${glob} vs ${text}`);
    }),
    { numRuns: 3000, seed: 14 },
  );
  t.true(globMatches('team-a-*', 'team-a-'));
  t.false(globMatches('team-a-*', 'team-b-1'));
  t.true(globMatches('*', ''));
});

const principal = (grants: Principal['grants']): Principal => ({ name: 'p', grants, limits: DEFAULT_LIMITS });

test('access levels are ordered and admin covers every session', (t) => {
  const writer = principal([{ sessions: 'team-a-*', access: 'write' }]);
  t.true(mayAccess(writer, 'read', 'team-a-1'));
  t.true(mayAccess(writer, 'write', 'team-a-1'));
  t.false(mayAccess(writer, 'admin', 'team-a-1'));
  t.false(mayAccess(writer, 'read', 'team-b-1'));
  const reader = principal([{ sessions: '*', access: 'read' }]);
  t.false(mayAccess(reader, 'write', 'x'));
  const admin = principal([{ sessions: 'ignored-*', access: 'admin' }]);
  t.true(mayAccess(admin, 'write', 'anything'));
  t.true(mayAccess(admin, 'admin', ''));
});

test('mayAccess decides by the grant glob of each call, also when globs keep changing (compiled globs are remembered)', (t) => {
  // More distinct globs than the compiled-glob memory keeps: every decision still follows its own grant.
  for (let i = 0; i < 5000; i++) {
    const p = principal([{ sessions: `team-${i}-*`, access: 'write' }]);
    if (!mayAccess(p, 'write', `team-${i}-x`) || mayAccess(p, 'read', `team-${i + 1}-x`)) throw new Error(`grant team-${i}-* decided wrongly`);
  }
  const alphabet = fc.constantFrom('a', 'b', '-', '*', '?');
  fc.assert(
    fc.property(fc.string({ unit: alphabet, minLength: 1, maxLength: 6 }), fc.string({ unit: fc.constantFrom('a', 'b', '-'), maxLength: 8 }), (glob, session) => {
      // Asked twice: the second answer comes from the remembered glob.
      const p = principal([{ sessions: glob, access: 'read' }]);
      const expected = reference(glob, session);
      return mayAccess(p, 'read', session) === expected && mayAccess(p, 'read', session) === expected;
    }),
    { numRuns: 2000, seed: 12 },
  );
  t.pass();
});

test('the auth file is parsed strictly, naming the bad entry', (t) => {
  const hash = hashToken('t');
  const ok = parseAuthFile(JSON.stringify({ limits: { burst: 5 }, principals: [{ name: 'a', token_sha256: hash, allow: [{ sessions: '*', access: 'read' }], limits: { sessions: 3 } }] }));
  t.is(ok.byTokenHash.get(hash)?.name, 'a');
  t.deepEqual(ok.byName.get('a')?.limits, { ...DEFAULT_LIMITS, burst: 5, sessions: 3 });
  const bad: [unknown, RegExp][] = [
    ['{', /not valid JSON/],
    [{ principals: [{ name: 'varledger', allow: [] }] }, /server's own name/],
    [{ principals: [{ name: 'a/b', allow: [] }] }, /may not contain "\/"/],
    [{ principals: [{ name: 'a', allow: [{ sessions: '*', access: 'owner' }] }] }, /principals\[0\]\.allow\[0\]\.access/],
    [{ principals: [{ name: 'a', token_sha256: 'secret', allow: [] }] }, /64 lower-case hex/],
    [{ principals: [{ name: 'a', allow: [], token: 'x' }] }, /unknown key "token"/],
    [{ principals: [{ name: 'a', allow: [] }, { name: 'a', allow: [] }] }, /listed twice/],
    [{ principals: [], limits: { requests_per_second: -1 } }, /positive number/],
  ];
  for (const [raw, message] of bad) t.throws(() => parseAuthFile(typeof raw === 'string' ? raw : JSON.stringify(raw)), { message }, String(message));
});

test('bearer headers: one, well-formed, any case of the scheme', (t) => {
  const token = newToken();
  t.regex(token, /^[A-Za-z0-9_-]{43}$/);
  t.deepEqual(bearerToken([`Bearer ${token}`]), { token });
  t.deepEqual(bearerToken([`bearer ${token}`]), { token });
  t.deepEqual(bearerToken([]), { problem: 'no authorization header' });
  t.deepEqual(bearerToken(['Bearer a', 'Bearer b']), { problem: 'more than one authorization header' });
  for (const bad of ['', 'Bearer', 'Bearer ', 'Basic abc', 'Bearer a b', 'Bearer ä', `Bearer ${'a'.repeat(1025)}`]) t.true('problem' in bearerToken([bad]), bad);
});

test('only loopback listens without auth and TLS', (t) => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) t.true(isLoopback(host), host);
  for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com']) t.false(isLoopback(host), host);
  t.is(exposureProblem('10.0.0.1', { auth: true, tls: true, insecure: false }), undefined);
  t.is(exposureProblem('10.0.0.1', { auth: false, tls: false, insecure: true }), undefined);
  t.regex(exposureProblem('10.0.0.1', { auth: false, tls: true, insecure: false }) ?? '', /without auth \(--auth-file or --tls-client-ca\): /);
});

test('every RPC has a rule; health is open, reflection needs a principal, anything unlisted needs admin', (t) => {
  t.deepEqual(ruleOf('/grpc.health.v1.Health/Check'), { kind: 'open' });
  t.deepEqual(ruleOf('/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo'), { kind: 'principal' });
  t.deepEqual(ruleOf('/some.Other/Method'), { kind: 'session', access: 'admin' });
  t.deepEqual(ruleOf('/varledger.v1.Ledger/SetVariable'), { kind: 'session', access: 'write' });
  t.deepEqual(ruleOf('/snakepit.bridge.BridgeService/GetVariable'), { kind: 'session', access: 'read' });
  const rules = [...Object.values(METHOD_RULES.ledger), ...Object.values(METHOD_RULES.bridge)];
  t.true(rules.every((rule) => rule !== undefined));
});
