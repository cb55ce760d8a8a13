/**
 * Issue 12's memory figures: 20,000 sessions created and closed (3
 * variables each) — RSS after them vs after the first 1,000, restart time on
 * that log, and the newest snapshot's bytes vs the bytes of live state.
 *
 * Measured in a child process of its own (`closedSessionsInChild`): RSS only
 * grows back slowly after a peak, so in the bench's own process the sections
 * run before (100,000 variables, say) left RSS high enough to hide any
 * growth here. Until 2026-12-06 it ran in process, and reported −9 MiB.
 * The RSS growth still moves by ±8 MiB from one child to the next (19–34
 * MiB on one build), so the figures are those of the child with the median
 * growth out of RUNS, each child's growth listed beside them.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseSessionId, type Value, type VariableType } from '../src/domain/index.js';
import { randomSessionId, randomSuffix, systemClock } from '../src/service/clock.js';
import { LedgerService } from '../src/service/ledger-service.js';
import { SqliteEventStore } from '../src/store/sqlite-event-store.js';
import { SqliteLog } from '../src/store/sqlite-log.js';
import { encodeSession } from '../src/store/snapshot-codec.js';
import { round, since } from './stats.js';

const CLOSED_SESSIONS = Number(process.env.BENCH_SCALE_CLOSED ?? 20_000);
const RUNS = Number(process.env.BENCH_SCALE_CLOSED_RUNS ?? 3);

type OneRun = Awaited<ReturnType<typeof closedSessions>>;
export type ClosedSessionsResult = OneRun & { readonly rssGrowthRunsMiB: readonly number[] };

/** The measurement in RUNS fresh children, one after the other: the run with the median RSS growth, and every run's growth. */
export async function closedSessionsInChild(): Promise<ClosedSessionsResult> {
  if (!(RUNS >= 1)) throw new Error('BENCH_SCALE_CLOSED_RUNS must be at least 1');
  const runs: OneRun[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await inChild());
  const byGrowth = [...runs].sort((a, b) => a.rssGrowthMiB - b.rssGrowthMiB);
  return { ...(byGrowth[Math.floor((byGrowth.length - 1) / 2)] as OneRun), rssGrowthRunsMiB: runs.map((run) => run.rssGrowthMiB) };
}

/** Runs the measurement in a fresh Node process (this file as its entry) and returns what it reports. */
async function inChild(): Promise<OneRun> {
  const child = fork(fileURLToPath(import.meta.url), ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  return new Promise((resolve, reject) => {
    child.once('message', (message: { result?: OneRun; error?: string }) =>
      message.result ? resolve(message.result) : reject(new Error(`closed-sessions bench failed: ${message.error}`)),
    );
    child.once('exit', (code) => reject(new Error(`closed-sessions bench exited with code ${code} before reporting`)));
    child.once('error', reject);
  });
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const memory = () => {
  gc();
  gc();
  const { rss, heapUsed } = process.memoryUsage();
  // The young generation: V8 doubles its semi-spaces under a sustained allocation rate, whatever the sessions.
  const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
  return { rss: round(rss / 2 ** 20, 1), heap: round(heapUsed / 2 ** 20, 1), young: round(young / 2 ** 20, 1) };
};

async function closedSessions() {
  const dir = mkdtempSync(join(tmpdir(), 'varledger-closed-'));
  try {
    const path = join(dir, 'ledger.db');
    const open = (file = new SqliteEventStore(path)) =>
      LedgerService.open({ store: new SqliteLog(file, { pollMs: 0 }), clock: systemClock, newIdSuffix: randomSuffix, newSessionId: randomSessionId, snapshotEvery: 10_000, snapshotKeep: 2 });
    const service = await open();
    const float = (value: number): Value => ({ kind: 'float', value });
    const lifecycle = async (i: number) => {
      const sessionId = parseSessionId(`c${i}`);
      await service.createSession({ sessionId, metadata: {}, ttlSeconds: 0 }, 'bench');
      await service.commit(
        {
          sessionId,
          atomic: true,
          operations: ['a', 'b', 'c'].map((name) => ({
            kind: 'register_variable' as const,
            sessionId,
            name,
            type: 'float' as VariableType,
            value: float(i),
            constraints: {},
            metadata: {},
            description: '',
          })),
        },
        'bench',
      );
      await service.closeSession(sessionId, 'bench');
    };
    const batch = async (from: number, to: number) => {
      for (let i = from; i < to; i += 100) await Promise.all(Array.from({ length: Math.min(100, to - i) }, (_, k) => lifecycle(i + k)));
    };
    // A few live sessions: the state snapshots should be proportional to.
    for (let i = 0; i < 10; i++) {
      const sessionId = parseSessionId(`live${i}`);
      await service.createSession({ sessionId, metadata: {}, ttlSeconds: 0 }, 'bench');
      for (const name of ['a', 'b', 'c']) await service.register({ sessionId, name, type: 'float', value: float(i), constraints: {}, metadata: {}, description: '' }, 'bench');
    }
    await batch(0, 1_000);
    const after1k = memory();
    await batch(1_000, CLOSED_SESSIONS);
    const afterAll = memory();
    await service.close();
    const file = new SqliteEventStore(path);
    const start = performance.now();
    const restarted = await open(file);
    const restartMs = round(since(start), 0);
    let liveBytes = 0;
    for (let i = 0; i < 10; i++) {
      const live = restarted.peekSession(parseSessionId(`live${i}`));
      if (live) liveBytes += Buffer.byteLength(encodeSession(live));
    }
    // The newest snapshot, by kind of row: live sessions' states (what it
    // should be proportional to), ended sessions' compact rows (one each,
    // written once at the snapshot after their end), and the rows this
    // snapshot itself wrote (those changed since the one before).
    const [newest, previous] = file.snapshots.list();
    const rows = newest ? file.snapshots.rows(newest).rows : [];
    const bytes = (list: typeof rows) => list.reduce((n, r) => n + Buffer.byteLength(r.state), 0);
    const snapshotBytes = bytes(rows.filter((r) => !r.ended));
    const endedRowBytes = bytes(rows.filter((r) => r.ended));
    const writtenBytes = bytes(rows.filter((r) => r.revision > (previous?.revision ?? 0)));
    await restarted.close();
    return {
      rssAfter1kMiB: after1k.rss,
      rssAfterAllMiB: afterAll.rss,
      rssGrowthMiB: round(afterAll.rss - after1k.rss, 1),
      heapAfter1kMiB: after1k.heap,
      heapAfterAllMiB: afterAll.heap,
      heapGrowthMiB: round(afterAll.heap - after1k.heap, 1),
      youngAfter1kMiB: after1k.young,
      youngAfterAllMiB: afterAll.young,
      rssTarget: '≤ 20 MiB growth',
      restartMs,
      restartTarget: '≤ 500 ms',
      snapshotBytes,
      liveStateBytes: liveBytes,
      endedRowBytes,
      endedRows: rows.filter((r) => r.ended).length,
      newestSnapshotWrittenBytes: writtenBytes,
      snapshotRatio: liveBytes > 0 ? round(snapshotBytes / liveBytes, 1) : null,
      snapshotTarget: '≤ 2',
      sessions: CLOSED_SESSIONS,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child' && process.send) {
  try {
    process.send({ result: await closedSessions() });
  } catch (error) {
    process.send({ error: error instanceof Error ? error.stack : String(error) });
  }
  process.disconnect();
}
