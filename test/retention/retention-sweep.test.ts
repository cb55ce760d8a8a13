/**
 * `serve --retain-ended` with a backlog larger than one step: the sweep
 * archives it in several compactions (an archive file and a log_compacted
 * event each), lets other clients' calls through between them, and leaves a
 * log that verifies with every archive proven against it. The pause between
 * steps is gated by the test, so "while the sweep runs" is a fact, not a
 * timing.
 */
import { status } from '@grpc/grpc-js';
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StoredEvent } from '../../src/domain/index.js';
import { checkArchive } from '../../src/cli/archive-check.js';
import { withReadView } from '../../src/cli/open-store.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { cli } from '../cli/fixture.js';
import { expectStatus, floatValue } from '../helpers/grpc-expect.js';
import { startLedger, tempDir, type TestLedger } from '../helpers/harness.js';

const DAY = 86_400_000;
const FLOAT = VariableType.VARIABLE_TYPE_FLOAT;
const ENDED = ['old-1', 'old-2', 'old-3', 'old-4', 'old-5', 'old-6'];

/** The sweep's pauses between steps, each held until the test lets it go on. */
class StepGate {
  private readonly paused: (() => void)[] = [];
  private waiter: (() => void) | undefined;

  readonly betweenSteps = (): Promise<void> =>
    new Promise<void>((resume) => {
      this.paused.push(resume);
      this.waiter?.();
    });

  /** Resolves once the sweep is paused after its `n`-th step. */
  async pausedAfter(n: number): Promise<void> {
    while (this.paused.length < n) await new Promise<void>((resolve) => (this.waiter = resolve));
  }

  resume(n: number): void {
    this.paused[n - 1]?.();
  }
}

/** Created, a variable registered, set once and closed: 4 events. */
async function endedSession(ledger: TestLedger, sessionId: string): Promise<void> {
  await ledger.rpc.call('createSession', { sessionId, ttlSeconds: 3600 });
  await ledger.rpc.call('registerVariable', { sessionId, name: 'x', type: FLOAT, initialValue: floatValue(0.1) });
  await ledger.rpc.call('setVariable', { sessionId, identifier: 'x', value: floatValue(0.2) });
  await ledger.rpc.call('closeSession', { sessionId });
}

test('a backlog larger than one step is archived over several steps, other calls are answered between them, and verify proves every archive', async (t) => {
  const { dir, remove } = tempDir();
  t.teardown(remove);
  const archiveDir = join(dir, 'archive');
  const dataPath = join(dir, 'ledger.db');
  const gate = new StepGate();
  // 8 events a step: two of the six ended sessions (4 events each) per compaction.
  const ledger = await startLedger({
    dataPath,
    retention: { retainEndedMs: 30 * DAY, archiveDir, intervalMs: 5, step: { maxSessions: 100, maxEvents: 8 }, betweenSteps: gate.betweenSteps },
  });
  let stopped = false;
  t.teardown(async () => {
    if (stopped) return;
    for (let n = 1; n <= 3; n++) gate.resume(n);
    await ledger.stop({ remove: false });
  });
  const compactions: StoredEvent[] = [];
  ledger.server.service.onCommit(({ events }) => {
    for (const e of events) if (e.kind === 'log_compacted') compactions.push(e);
  });
  await ledger.rpc.call('createSession', { sessionId: 'live', ttlSeconds: 365 * 86_400 });
  await ledger.rpc.call('registerVariable', { sessionId: 'live', name: 'temperature', type: FLOAT, initialValue: floatValue(0.5) });
  for (const id of ENDED) await endedSession(ledger, id);
  ledger.clock.advance(31 * DAY);

  await gate.pausedAfter(1);
  // One step done, the backlog not: the oldest two sessions are archived, the others still read as closed.
  t.is(compactions.length, 1);
  t.deepEqual(compactions[0]?.kind === 'log_compacted' && compactions[0].sessions, ['old-1', 'old-2']);
  t.is(readdirSync(archiveDir).length, 1);
  await expectStatus(t, ledger.rpc.call('getSession', { sessionId: 'old-1' }), status.OUT_OF_RANGE);
  t.is((await ledger.rpc.call('getSession', { sessionId: 'old-6' })).sessionId, 'old-6');
  // Another client's write and read are answered while the sweep is between steps.
  const set = await ledger.rpc.call('setVariable', { sessionId: 'live', identifier: 'temperature', value: floatValue(0.7) });
  t.is(Number(set.version), 1);
  t.deepEqual((await ledger.rpc.call('getVariable', { sessionId: 'live', identifier: 'temperature' })).value?.kind, { $case: 'floatValue', floatValue: 0.7 });
  t.is(compactions.length, 1, 'the sweep did not go on before the calls were answered');

  gate.resume(1);
  await gate.pausedAfter(2);
  gate.resume(2);
  await gate.pausedAfter(3);
  gate.resume(3);
  // The run ends when a step finds nothing left; stopping the server waits for it.
  await ledger.stop({ remove: false });
  stopped = true;

  t.deepEqual(
    compactions.map((e) => (e.kind === 'log_compacted' ? e.sessions : [])),
    [
      ['old-1', 'old-2'],
      ['old-3', 'old-4'],
      ['old-5', 'old-6'],
    ],
  );
  const archives = readdirSync(archiveDir).sort();
  t.is(archives.length, 3);
  // Each archive holds its own compaction's events and proves itself against the live chain.
  for (const name of archives) {
    const path = join(archiveDir, name);
    const report = await withReadView({ data: dataPath }, (view) => checkArchive(path, view));
    t.is(report.problem, undefined, `${name}: ${report.problem?.detail}`);
    t.is(report.sessions, 2);
    t.is(report.events, readFileSync(path, 'utf8').trim().split('\n').length);
  }
  const verified = await cli(['verify', '--data', dataPath, '--archive', join(archiveDir, archives[0] as string)]);
  t.is(verified.code, 0, verified.stdout + verified.stderr);
  t.regex(verified.stdout, /^OK: \d+ events \(24 removed by retention\), \d+ snapshots? match the log, head \d+:[0-9a-f]{64}\nOK: archive .*: 8 events of 2 sessions removed/);
});
