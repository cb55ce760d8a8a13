import test from 'ava';
import { LIMITS, parseSessionId } from '../../src/domain/index.js';
import {
  ACTOR,
  closeSession,
  createSession,
  deleteVar,
  expireSession,
  float,
  given,
  NOW,
  register,
  S1,
  Scenario,
  setVar,
  throwsDomain,
} from './fixtures.js';

test('create: a new session records session_created with the default TTL when 0 and its metadata', (t) => {
  const events = new Scenario().when(createSession({ metadata: { owner: 'team-a' }, ttlSeconds: 0 }));
  t.deepEqual(events, [{ kind: 'session_created', sessionId: S1, time: NOW, actor: ACTOR, metadata: { owner: 'team-a' }, ttlSeconds: 3600 }]);
});

test('create: an explicit TTL is kept', (t) => {
  const [event] = new Scenario().when(createSession({ ttlSeconds: 60 }));
  t.like(event, { kind: 'session_created', ttlSeconds: 60 });
});

test('create: the folded session is active with its metadata, TTL and revision', (t) => {
  const s = given(createSession({ metadata: { owner: 'team-a' }, ttlSeconds: 60 }));
  t.like(s.state, { id: S1, status: 'active', ttlSeconds: 60, metadata: { owner: 'team-a' }, createdAt: NOW, createdRevision: 1, modifiedRevision: 1 });
  t.is(s.state?.variables.size, 0);
});

test('create: a TTL above the limit is refused', (t) => {
  throwsDomain(t, () => new Scenario().when(createSession({ ttlSeconds: LIMITS.ttlSecondsMax + 1 })), 'invalid_request', /ttl_seconds/);
});

test('create: too much session metadata is too_large', (t) => {
  const metadata = Object.fromEntries(Array.from({ length: LIMITS.metadataEntries + 1 }, (_, i) => [`k${i}`, 'v']));
  throwsDomain(t, () => new Scenario().when(createSession({ metadata })), 'too_large', /session metadata has 257 entries/);
});

test('create: creating an existing session twice is already_exists', (t) => {
  throwsDomain(t, () => given(createSession()).when(createSession()), 'already_exists', 'Session already exists: s1');
});

test('create: a closed session cannot be created again', (t) => {
  throwsDomain(t, () => given(createSession(), closeSession()).when(createSession()), 'already_exists', 'Session already exists: s1');
});

test('close: records session_closed and the session becomes closed', (t) => {
  const s = given(createSession());
  t.deepEqual(s.apply(closeSession()), [{ kind: 'session_closed', sessionId: S1, time: NOW, actor: ACTOR }]);
  t.is(s.state?.status, 'closed');
  t.is(Number(s.state?.modifiedRevision), 2);
});

test('close: closing twice is session_ended', (t) => {
  throwsDomain(t, () => given(createSession(), closeSession()).when(closeSession()), 'session_ended', 'Session closed: s1');
});

test('close: closing an expired session is session_ended', (t) => {
  throwsDomain(t, () => given(createSession(), expireSession()).when(closeSession()), 'session_ended', 'Session expired: s1');
});

test('expire: records session_expired once, then nothing', (t) => {
  const s = given(createSession());
  t.deepEqual(s.apply(expireSession()), [{ kind: 'session_expired', sessionId: S1, time: NOW, actor: ACTOR }]);
  t.is(s.state?.status, 'expired');
  t.deepEqual(s.when(expireSession()), []);
});

test('expire: a closed or unknown session has nothing to expire', (t) => {
  t.deepEqual(given(createSession(), closeSession()).when(expireSession()), []);
  t.deepEqual(new Scenario().when(expireSession()), []);
});

for (const [ending, status, message] of [
  [closeSession(), 'closed', 'Session closed: s1'],
  [expireSession(), 'expired', 'Session expired: s1'],
] as const) {
  test(`commands on a ${status} session are session_ended`, (t) => {
    const s = given(createSession(), register('x', 'float', float(1)), ending);
    throwsDomain(t, () => s.when(register('y', 'float', float(1))), 'session_ended', message);
    throwsDomain(t, () => s.when(setVar('x', float(2))), 'session_ended', message);
    throwsDomain(t, () => s.when(deleteVar('x')), 'session_ended', message);
    throwsDomain(t, () => s.whenCommit([setVar('x', float(2))], true), 'session_ended', message);
    throwsDomain(t, () => s.whenCommit([register('z', 'float', float(1))], false), 'session_ended', message);
  });
}

test('unknown session: set, delete, close and commit are not_found', (t) => {
  const s = new Scenario();
  const x = parseSessionId('x');
  throwsDomain(t, () => s.when(setVar('v', float(1), { sessionId: x })), 'not_found', 'Session not found: x');
  throwsDomain(t, () => s.when(deleteVar('v', { sessionId: x })), 'not_found', 'Session not found: x');
  throwsDomain(t, () => s.when(closeSession(x)), 'not_found', 'Session not found: x');
  throwsDomain(t, () => s.whenCommit([setVar('v', float(1), { sessionId: x })], true, x), 'not_found', 'Session not found: x');
  throwsDomain(t, () => s.whenCommit([], true, x), 'not_found', 'Session not found: x');
});

test('session ids are parsed: empty, too long and control characters are refused', (t) => {
  throwsDomain(t, () => parseSessionId(''), 'invalid_request', 'session_id is required');
  throwsDomain(t, () => parseSessionId('a'.repeat(129)), 'invalid_request', /longer than 128/);
  throwsDomain(t, () => parseSessionId('a\nb'), 'invalid_request', /control characters/);
  throwsDomain(t, () => parseSessionId('bad\ufffd'), 'invalid_request', /valid UTF-8/);
  t.is(String(parseSessionId('sitzung-ü-1')), 'sitzung-ü-1');
});
