/** Table rows for issue 12's scale figures (bench/scale.ts), each beside the baseline it is a ratio to. */
import { fmt, type TargetRow } from './target-row.js';
import type { ScaleResults } from './scale.js';

const info = (benchmark: string, measured: string): TargetRow => ({ benchmark, measured, target: '—', met: null });

export function scaleRows(scale: ScaleResults): TargetRow[] {
  const rows: TargetRow[] = [];
  const { zero, contention, bigSession, closed, closedServed } = scale;
  if (zero) {
    const tp = zero.setVariable16InFlight;
    rows.push({
      benchmark: 'SetVariable, 16 in flight, vs zero-work server',
      measured: `${fmt(tp.ratio, 2)}× (${fmt(tp.ledgerCallsPerSecond)} vs ${fmt(tp.zeroWorkCallsPerSecond)} calls/s)`,
      target: '≥ 0.8×',
      met: tp.ratio >= 0.8,
    });
    const p50 = zero.sequentialSetP50;
    rows.push({
      benchmark: 'Sequential SetVariable p50 vs zero-work server',
      measured: `${fmt(p50.ratio, 2)}× (${fmt(p50.ledgerUs)} vs ${fmt(p50.zeroWorkUs)} µs)`,
      target: '≤ 1.5×',
      met: p50.ratio <= 1.5,
    });
  }
  if (contention) {
    const c = contention;
    const share = (x: number | null) => (x === null ? '' : `, ${fmt(x * 100)} % of the way to it`);
    rows.push({
      benchmark: `${c.writers} writers: group commit vs a transaction per write`,
      measured: `${fmt(c.ratio, 2)}× (${fmt(c.groupCommitWritesPerSecond)} vs ${fmt(c.oneTransactionPerWrite)} writes/s)`,
      target: '≥ 3×',
      met: c.ratio >= 3,
    });
    rows.push(info('  (ceiling: zero-work server vs a transaction per write)', `${fmt(c.ceilingRatio, 2)}× (${fmt(c.zeroWorkWritesPerSecond)} writes/s)${share(c.shareOfCeiling)}`));
    const full = c.durabilityFull;
    rows.push({
      benchmark: '  same, durability full (fsync per commit)',
      measured: `${fmt(full.ratio, 2)}× (${fmt(full.groupCommitWritesPerSecond)} vs ${fmt(full.oneTransactionPerWrite)} writes/s); ceiling ${fmt(full.ceilingRatio, 2)}×${share(full.shareOfCeiling)}`,
      target: '≥ 3×',
      met: full.ratio >= 3,
    });
    const pg = c.postgres;
    if (pg) {
      rows.push({
        benchmark: `  same on PostgreSQL (${pg.settings})`,
        measured: `${fmt(pg.ratio, 2)}× (${fmt(pg.groupCommitWritesPerSecond)} vs ${fmt(pg.oneTransactionPerWrite)} writes/s); ceiling ${fmt(pg.ceilingRatio, 2)}×${share(pg.shareOfCeiling)}`,
        target: '≥ 3×',
        met: pg.ratio >= 3,
      });
    }
  }
  if (bigSession) {
    rows.push({
      benchmark: `SetVariable p50, session of ${fmt(bigSession.variables)} vs 10 variables`,
      measured: `${fmt(bigSession.ratio, 2)}× (${fmt(bigSession.bigSessionP50Us)} vs ${fmt(bigSession.smallSessionP50Us)} µs)`,
      target: '≤ 2×',
      met: bigSession.ratio <= 2,
    });
  }
  if (closed) {
    const n = fmt(closed.sessions);
    rows.push({
      benchmark: `RSS after ${n} closed sessions vs after 1,000`,
      measured: `${fmt(closed.rssGrowthMiB, 1)} MiB (${fmt(closed.rssAfterAllMiB, 1)} vs ${fmt(closed.rssAfter1kMiB, 1)} MiB); runs: ${closed.rssGrowthRunsMiB.map((g) => fmt(g, 1)).join(', ')}`,
      target: '≤ 20 MiB growth',
      met: closed.rssGrowthMiB <= 20,
    });
    rows.push(info('  (V8 heap in use after GC, same points)', `${fmt(closed.heapGrowthMiB, 1)} MiB (${fmt(closed.heapAfterAllMiB, 1)} vs ${fmt(closed.heapAfter1kMiB, 1)} MiB)`));
    rows.push(info('  (V8 young generation reserved, same points)', `${fmt(closed.youngAfterAllMiB, 1)} vs ${fmt(closed.youngAfter1kMiB, 1)} MiB`));
    if (closedServed) {
      rows.push({
        benchmark: `  the same through \`varledger serve\` (gRPC, no forced GC; median of ${closedServed.runs.length})`,
        measured: `${fmt(closedServed.rssGrowthMiB, 1)} MiB (${fmt(closedServed.rssAfterAllMiB, 1)} vs ${fmt(closedServed.rssAfter1kMiB, 1)} MiB); runs: ${closedServed.runs.map((r) => fmt(r.rssGrowthMiB, 1)).join(', ')}`,
        target: '≤ 20 MiB growth',
        met: closedServed.rssGrowthMiB <= 20,
      });
    }
    rows.push({ benchmark: `  Restart on that log`, measured: `${fmt(closed.restartMs)} ms`, target: '≤ 500 ms', met: closed.restartMs <= 500 });
    rows.push({
      benchmark: '  Snapshot bytes vs bytes of live state',
      measured: closed.snapshotRatio === null ? 'no live state' : `${fmt(closed.snapshotRatio, 1)}× (${fmt(closed.snapshotBytes)} vs ${fmt(closed.liveStateBytes)} B)`,
      target: '≤ 2×',
      met: closed.snapshotRatio === null ? null : closed.snapshotRatio <= 2,
    });
  }
  return rows;
}
