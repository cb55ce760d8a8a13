/** Folding a log_compacted event: the sessions it removed leave the fold, whatever state they were in. */
import test from 'ava';
import { applyInPlace, foldSessions, LOG_SESSION_ID, type MutableSession, type Revision, type SessionId, type StoredEvent } from '../../src/domain/index.js';

const created = (sessionId: string, revision: number): StoredEvent => ({
  kind: 'session_created',
  sessionId: sessionId as SessionId,
  time: 1,
  actor: 'a',
  metadata: {},
  ttlSeconds: 60,
  revision: revision as Revision,
  commitId: revision as Revision,
});

const compacted = (revision: number, sessions: string[]): StoredEvent => ({
  kind: 'log_compacted',
  sessionId: LOG_SESSION_ID,
  time: 2,
  actor: 'varledger',
  endedBefore: 2,
  sessions: sessions as SessionId[],
  events: 3,
  horizon: (revision - 1) as Revision,
  archiveSha256: 'f'.repeat(64),
  revision: revision as Revision,
  commitId: revision as Revision,
});

test('given sessions from a snapshot taken before a compaction, when its event is folded, then the removed ones are gone and the rest stay', (t) => {
  const fromSnapshot = foldSessions([created('kept', 1), created('removed', 2)], undefined, { freeze: false });
  const after = foldSessions([compacted(9, ['removed', 'never-seen'])], fromSnapshot);
  t.deepEqual([...after.keys()], ['kept']);
});

test('given a projection, when a log_compacted event is applied in place, then it reports no variable and drops the sessions', (t) => {
  const sessions = foldSessions([created('a', 1), created('b', 2)], undefined, { freeze: false }) as unknown as Map<string, MutableSession>;
  const applied = applyInPlace(sessions, compacted(3, ['a']));
  t.is(applied.variable, undefined);
  t.deepEqual([...sessions.keys()], ['b']);
});
