/**
 * Property: whatever commands ran, with snapshots taken every few events,
 * (1) a read at any revision R (nearest snapshot + the session's tail) equals
 * a fold of the whole log up to R, and (2) a fresh service started on the same
 * file (newest intact snapshot + the log after it) holds exactly the state a
 * full fold gives.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import {
  DomainError,
  endedForm,
  foldSessions,
  parseSessionId,
  type Metadata,
  type Operation,
  type RegisterVariable,
  type Revision,
  type SessionId,
  type SessionState,
  type StoredEvent,
  type Value,
  type VariableType,
  type Version,
} from '../../src/domain/index.js';
import { LedgerService } from '../../src/service/ledger-service.js';
import { encodeSession } from '../../src/store/snapshot-codec.js';
import { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { SqliteLog } from '../../src/store/sqlite-log.js';
import { deleteVar, float, int, register, setVar, str, tensor, vec } from '../domain/fixtures.js';
import { snapshotRevisions } from './history-helpers.js';

const SESSIONS = ['s1', 's2', 's3'].map(parseSessionId);
const S3 = SESSIONS[2]!;
/** Each name keeps one type, so most generated writes are valid. */
const TYPES = { a: 'float', b: 'integer', c: 'string', d: 'embedding', e: 'tensor' } as const satisfies Record<string, VariableType>;
type Name = keyof typeof TYPES;
const NAMES = Object.keys(TYPES) as Name[];

const valueFor: Record<Name, fc.Arbitrary<Value>> = {
  a: fc.oneof(fc.double().map(float), fc.integer().map(int)),
  b: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(int),
  c: fc.string({ maxLength: 6 }).map(str),
  d: fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 3 }).map(vec),
  e: fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.constantFrom('float64', 'int32'))
    .chain(([n, dtype]) => fc.array(fc.integer({ min: -100, max: 100 }), { minLength: n * 2, maxLength: n * 2 }).map((data) => tensor([n, 2], data, dtype))),
};

type Cmd =
  | { readonly op: 'close'; readonly s: SessionId }
  | { readonly op: 'tick'; readonly ms: number }
  | { readonly op: 'write'; readonly s: SessionId; readonly operation: Operation }
  /** `back` versions before the current one, or (when `absolute`) exactly `target`, which may not exist. */
  | {
      readonly op: 'rollback';
      readonly s: SessionId;
      readonly name: Name;
      readonly target: number;
      readonly absolute: boolean;
      readonly expected: 'current' | 'stale' | undefined;
    }
  | { readonly op: 'commit'; readonly s: SessionId; readonly atomic: boolean; readonly operations: Operation[] };

const target = fc.tuple(fc.constantFrom(...SESSIONS), fc.constantFrom(...NAMES));
const metadataArb: fc.Arbitrary<Metadata> = fc.dictionary(fc.constantFrom('k', 'reason'), fc.string({ maxLength: 3 }), { maxKeys: 2 });

const operationArb = (sessionId: SessionId): fc.Arbitrary<Operation> =>
  fc.constantFrom(...NAMES).chain((name) =>
    fc.oneof(
      { weight: 2, arbitrary: valueFor[name].map((value) => register(name, TYPES[name], value, { sessionId })) },
      { weight: 6, arbitrary: fc.tuple(valueFor[name], metadataArb).map(([value, metadata]) => setVar(name, value, { sessionId, metadata })) },
      { weight: 1, arbitrary: fc.constant(deleteVar(name, { sessionId })) },
    ),
  );

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 24, arbitrary: fc.constantFrom(...SESSIONS).chain((s) => operationArb(s).map((operation): Cmd => ({ op: 'write', s, operation }))) },
  {
    weight: 10,
    arbitrary: fc
      .tuple(
        target,
        fc.nat({ max: 4 }),
        fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        fc.constantFrom(undefined, undefined, undefined, 'current' as const, 'stale' as const),
      )
      .map(([[s, name], n, absolute, expected]): Cmd => ({ op: 'rollback', s, name, target: n, absolute, expected })),
  },
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom(...SESSIONS), fc.boolean())
      .chain(([s, atomic]) => fc.array(operationArb(s), { minLength: 1, maxLength: 4 }).map((operations): Cmd => ({ op: 'commit', s, atomic, operations }))),
  },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 40_000 }).map((ms): Cmd => ({ op: 'tick', ms })) },
  // Only s3 ends (closed, or expired by idle ticks: its TTL is 60 s), so s1 and s2 keep taking writes.
  { weight: 1, arbitrary: fc.constant<Cmd>({ op: 'close', s: S3 }) },
);

/** Counts the events start-up folds, to tell a start from a snapshot from a full fold. */
class CountingStore extends SqliteEventStore {
  folded = 0;
  override readAfter(after: Revision, limit: number): StoredEvent[] {
    const events = super.readAfter(after, limit);
    this.folded += events.length;
    return events;
  }
}

const stats = { runs: 0, events: 0, rollbacks: 0, snapshots: 0, pastReadsFromSnapshot: 0, pastReads: 0, startsWithTail: 0, startsAtHead: 0 };

async function apply(service: LedgerService, cmd: Cmd, clock: { time: number }): Promise<void> {
  switch (cmd.op) {
    case 'tick':
      clock.time += cmd.ms;
      return;
    case 'close':
      await service.closeSession(cmd.s, 'prop');
      return;
    case 'write': {
      const o = cmd.operation;
      if (o.kind === 'register_variable') await service.register(o, 'writer');
      else if (o.kind === 'set_variable') await service.set(o, 'writer');
      else await service.delete(o, 'writer');
      return;
    }
    case 'rollback': {
      const current = service.peekSession(cmd.s)?.names.get(cmd.name);
      const version = (current && service.peekSession(cmd.s)?.variables.get(current)?.version) ?? 0;
      const expected = cmd.expected === 'current' ? version : cmd.expected === 'stale' ? version + 1 : undefined;
      await service.rollback(
        {
          sessionId: cmd.s,
          identifier: cmd.name,
          targetVersion: (cmd.absolute ? cmd.target : Math.max(0, version - cmd.target)) as Version,
          metadata: { reason: 'prop' },
          expectedVersion: expected as Version | undefined,
        },
        'roller',
      );
      stats.rollbacks++;
      return;
    }
    case 'commit':
      await service.commit({ sessionId: cmd.s, atomic: cmd.atomic, operations: cmd.operations }, 'committer');
      return;
  }
}

/** deepStrictEqual, plus the snapshot encoding (which also checks Map order). */
function sameSession(actual: SessionState | undefined, expected: SessionState | undefined, what: string): void {
  assert.deepStrictEqual(actual, expected, what);
  if (actual && expected) assert.equal(encodeSession(actual), encodeSession(expected), what);
}

/** Checks every past read of every session against a fold of the log prefix. */
async function checkPastReads(service: LedgerService, store: SqliteEventStore, log: readonly StoredEvent[], countStats: boolean): Promise<void> {
  for (let r = 1; r <= log.length; r++) {
    const revision = r as Revision;
    const folded = foldSessions(log.slice(0, r));
    for (const sessionId of SESSIONS) {
      const expected = folded.get(sessionId);
      if (!expected) {
        await assert.rejects(service.sessionAt(sessionId, revision), (e: unknown) => e instanceof DomainError && e.code === 'not_found');
        continue;
      }
      sameSession(await service.sessionAt(sessionId, revision), expected, `${sessionId} at revision ${r}`);
      if (countStats) {
        stats.pastReads++;
        const live = service.peekSession(sessionId);
        if (live && live.modifiedRevision > revision && store.snapshots.loadSession(sessionId, revision)) stats.pastReadsFromSnapshot++;
      }
    }
  }
}

async function runScenario(commands: readonly Cmd[], snapshotEvery: number, cleanClose: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'varledger-prop-'));
  try {
    const path = join(dir, 'ledger.db');
    const clock = { time: Date.UTC(2026, 0, 1) };
    let suffix = 0;
    const options = {
      clock: { now: () => clock.time },
      newIdSuffix: () => String(++suffix),
      newSessionId: () => 'generated',
      snapshotEvery,
    };
    const store = new SqliteEventStore(path);
    const service = await LedgerService.open({ ...options, store: new SqliteLog(store) });
    // Every session starts with every variable, so most generated writes go through.
    for (const sessionId of SESSIONS) {
      await service.createSession({ sessionId, metadata: { by: 'prop' }, ttlSeconds: sessionId === S3 ? 60 : 0 }, 'prop');
      for (const name of NAMES) {
        const initial: Record<Name, Value> = { a: float(0), b: int(0), c: str(''), d: vec([]), e: tensor([1, 2], [0, 0]) };
        await service.register(register(name, TYPES[name], initial[name], { sessionId }) as RegisterVariable, 'prop');
      }
    }
    for (const cmd of commands) {
      try {
        await apply(service, cmd, clock);
      } catch (error) {
        // Refused commands write nothing; anything else is a bug.
        if (!(error instanceof DomainError)) throw error;
      }
    }
    const log = [...store.readAll()];
    assert.equal(store.head(), log.length);
    assert.equal(service.head, log.length);
    stats.events += log.length;
    stats.snapshots += store.snapshots.list().length;

    // The live projection is a full fold of the log.
    const full = foldSessions(log);
    // Ended sessions are reported in their compact form (no variables), read from memory or the store.
    const compact = (s: SessionState | undefined) => s && endedForm(s);
    for (const sessionId of SESSIONS) sameSession(await service.findSession(sessionId), compact(full.get(sessionId)), `live ${sessionId}`);
    // (1) Reads at every revision.
    await checkPastReads(service, store, log, true);

    // (2) A fresh service on the same file: after a clean close (snapshot at the head) or a crash-like stop (snapshot + tail).
    if (cleanClose) await service.close();
    else store.close();
    const newestSnapshot = snapshotRevisions(path)[0] ?? 0;
    const reopened = new CountingStore(path);
    const fresh = await LedgerService.open({ ...options, store: new SqliteLog(reopened) });
    try {
      assert.equal(fresh.head, log.length);
      assert.equal(reopened.folded, log.length - newestSnapshot, 'start-up folds only the events after the newest snapshot');
      if (log.length > newestSnapshot) stats.startsWithTail++;
      else stats.startsAtHead++;
      const refolded = foldSessions(reopened.readAll());
      for (const sessionId of SESSIONS) {
        sameSession(await fresh.findSession(sessionId), compact(refolded.get(sessionId)), `restarted ${sessionId}`);
        sameSession(await fresh.findSession(sessionId), compact(full.get(sessionId)), `restarted ${sessionId} vs before`);
      }
      assert.deepStrictEqual(
        (await fresh.listSessions(100, '')).sessions.map((v) => v.session.id),
        [...full.keys()].sort(),
      );
      await checkPastReads(fresh, reopened, log, false);
    } finally {
      reopened.close();
    }
    stats.runs++;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('property: past reads and restarts from snapshot + tail equal a full fold of the log', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(cmdArb, { minLength: 20, maxLength: 80, size: 'max' }),
      fc.integer({ min: 1, max: 7 }),
      fc.boolean(),
      (commands, snapshotEvery, cleanClose) => runScenario(commands, snapshotEvery, cleanClose),
    ),
    { numRuns: 40, seed: 20260102 },
  );
  t.log(stats);
  // Not vacuous: many events, rollbacks that went through, snapshots used by past reads and at start-up.
  t.true(stats.events > 1000, `events ${stats.events}`);
  t.true(stats.rollbacks > 50, `rollbacks ${stats.rollbacks}`);
  t.true(stats.snapshots > 100, `snapshots ${stats.snapshots}`);
  t.true(stats.pastReadsFromSnapshot > 500, `past reads from a snapshot ${stats.pastReadsFromSnapshot} of ${stats.pastReads}`);
  t.true(stats.startsWithTail > 5, `starts with a tail ${stats.startsWithTail}`);
  t.true(stats.startsAtHead > 5, `starts at the head ${stats.startsAtHead}`);
});
