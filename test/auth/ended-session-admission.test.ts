/**
 * Admission of calls that may create a session, on sessions that ended and
 * that the server no longer holds in memory (a snapshot let them go): such a
 * call is not a creation, so it gets the answer it would get while the
 * session is still held — never the session limit's RESOURCE_EXHAUSTED, and
 * a reader is not asked for write access. And creates admitted together
 * cannot push a principal over its session limit.
 */
import test, { type ExecutionContext } from 'ava';
import { VariableType, type DeepPartial, type Operation } from '../../src/gen/varledger/v1/ledger.js';
import { BridgeRpc } from '../compat/bridge/bridge-client.js';
import { codeName, floatValue } from '../helpers/grpc-expect.js';
import { authFileJson, startAuthLedger, TOKENS, type AuthLedger } from './auth-fixture.js';

const register = (name: string): DeepPartial<Operation> => ({
  op: { $case: 'register', register: { name, type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) } },
});

/** The status a call ends with: 'OK' or the code's name, with its message. */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    const { code, details } = error as { code: number; details: string };
    return `${codeName(code)}: ${details}`;
  }
}

/**
 * Alice creates `ids` (a variable each), a snapshot writes them live (so the
 * server holds them, ended, until the next one), she closes them and opens
 * as many `live` ones: at a session limit of that many she has no place left.
 */
async function endedAtLimit(ledger: AuthLedger, ids: readonly string[], live: readonly string[]): Promise<void> {
  const alice = ledger.as('alice');
  for (const sessionId of ids) {
    await alice.call('registerVariable', { sessionId, name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) });
  }
  await ledger.server.service.snapshot();
  for (const sessionId of ids) await alice.call('closeSession', { sessionId });
  for (const sessionId of live) await alice.call('createSession', { sessionId });
}

/** Lets the ended sessions go from memory (a snapshot writes their rows), and checks they are gone. */
async function letEndedGo(t: ExecutionContext, ledger: AuthLedger): Promise<void> {
  t.true(ledger.server.service.endedSessionsHeld() > 0, 'held until a snapshot');
  await ledger.server.service.snapshot();
  t.is(ledger.server.service.endedSessionsHeld(), 0);
}

/** The creating calls a principal at its session limit makes on ended session `sessionId`, one per kind. */
const creatingCalls = (ledger: AuthLedger) => ({
  create: (sessionId: string) => outcome(ledger.as('alice').call('createSession', { sessionId })),
  register: (sessionId: string) =>
    outcome(ledger.as('alice').call('registerVariable', { sessionId, name: 'y', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(2) })),
  commit: (sessionId: string) => outcome(ledger.as('alice').call('commit', { sessionId, atomic: true, operations: [register('y')] })),
});

test('at its session limit, a principal calling an ended session no longer in memory gets the answer it gets while the session is held', async (t) => {
  const ledger = await startAuthLedger(t, { authJson: authFileJson({ limits: { sessions: 3 } }) });
  const alice = ledger.as('alice');
  // Each kind of call once on a held session and once on one let go (a lookup keeps the one it read cached).
  const kinds = ['create', 'register', 'commit'] as const;
  const live = ['team-a-live-1', 'team-a-live-2', 'team-a-live-3'];
  await endedAtLimit(ledger, kinds.map((kind) => `team-a-held-${kind}`), live);
  const calls = creatingCalls(ledger);
  const held = await Promise.all(kinds.map((kind) => calls[kind](`team-a-held-${kind}`)));
  t.deepEqual(held, [
    'ALREADY_EXISTS: Session already exists: team-a-held-create',
    'FAILED_PRECONDITION: Session closed: team-a-held-register',
    'FAILED_PRECONDITION: Session closed: team-a-held-commit',
  ]);

  for (const sessionId of live) await alice.call('closeSession', { sessionId });
  const liveAgain = ['team-a-again-1', 'team-a-again-2', 'team-a-again-3'];
  await endedAtLimit(ledger, kinds.map((kind) => `team-a-gone-${kind}`), liveAgain);
  await letEndedGo(t, ledger);
  const head = ledger.server.service.head;
  const gone = await Promise.all(kinds.map((kind) => calls[kind](`team-a-gone-${kind}`)));
  t.deepEqual(
    gone,
    held.map((answer) => answer.replace('held', 'gone')),
  );
  t.is(ledger.server.service.head, head, 'nothing written');

  // None of those calls kept a place: with one live session closed, a new session fits again, and only one.
  await alice.call('closeSession', { sessionId: liveAgain[0] as string });
  t.is(await calls.create('team-a-new'), 'OK');
  t.regex(await calls.create('team-a-newer'), /^RESOURCE_EXHAUSTED: Limit exceeded: alice already has 3 live sessions/);
});

test('a reader initializing an ended session no longer in memory (Snakepit) is asked for read access, as while it is held', async (t) => {
  const ledger = await startAuthLedger(t);
  const bob = new BridgeRpc(ledger.address, TOKENS.bob);
  t.teardown(() => bob.close());
  const alice = ledger.as('alice');
  for (const sessionId of ['team-a-held', 'team-a-gone']) await alice.call('createSession', { sessionId });
  await ledger.server.service.snapshot();
  for (const sessionId of ['team-a-held', 'team-a-gone']) await alice.call('closeSession', { sessionId });
  const held = await outcome(bob.call('initializeSession', { sessionId: 'team-a-held' }));
  t.is(held, 'FAILED_PRECONDITION: Session closed: team-a-held');
  await letEndedGo(t, ledger);
  t.is(await outcome(bob.call('initializeSession', { sessionId: 'team-a-gone' })), 'FAILED_PRECONDITION: Session closed: team-a-gone');
  // A session that never existed is still a creation, which a reader may not make.
  t.regex(await outcome(bob.call('initializeSession', { sessionId: 'team-a-never' })), /^PERMISSION_DENIED: Permission denied: bob may not write here/);
});

test('creates admitted together never take a principal over its session limit; the refused ones write nothing and hold no place', async (t) => {
  const ledger = await startAuthLedger(t, { authJson: authFileJson({ limits: { sessions: 2 } }) });
  const alice = ledger.as('alice');
  // Sent together, explicit and implicit creates: all admitted before any of them is in the log.
  const ids = ['team-a-1', 'team-a-2', 'team-a-3', 'team-a-4', 'team-a-5', 'team-a-6'];
  const answers = await Promise.all(
    ids.map((sessionId, i) =>
      outcome(
        i % 2 === 0
          ? alice.call('createSession', { sessionId })
          : alice.call('registerVariable', { sessionId, name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) }),
      ),
    ),
  );
  t.is(answers.filter((a) => a === 'OK').length, 2, answers.join('\n'));
  t.is(answers.filter((a) => a.startsWith('RESOURCE_EXHAUSTED: Limit exceeded: alice already has')).length, ids.length - 2, answers.join('\n'));
  t.is(ledger.server.service.liveSessionCount(), 2);
  // Every refused call gave its place back: closing one of the two frees exactly one.
  await alice.call('closeSession', { sessionId: ids[answers.indexOf('OK')] as string });
  t.is(await outcome(alice.call('createSession', { sessionId: 'team-a-7' })), 'OK');
  t.regex(await outcome(alice.call('createSession', { sessionId: 'team-a-8' })), /^RESOURCE_EXHAUSTED/);
});
