/** Table rows for the `bridge` and `python` sections (issue 17's targets). */
import { fmt, type TargetRow } from './target-row.js';
import type { BridgeBatchResult } from './bridge-batch.js';
import type { PythonTableResult, SeedsTable } from './python-table.js';

const ms = (x: number): string => `${fmt(x, x < 0.1 ? 4 : 2)} ms`;

/** The bridge's batch calls against one call of the same kind: ≤ 3× each. */
export function bridgeRows(b: BridgeBatchResult): TargetRow[] {
  const n = b.conditions.variables;
  return [
    {
      benchmark: `Bridge SetVariables of ${n} vs one SetVariable`,
      measured: `${fmt(b.setBatchOverSingle, 2)}× (${ms(b.setBatchMs)} vs ${ms(b.setSingleMs)})`,
      target: '≤ 3×',
      met: b.setBatchOverSingle <= 3,
    },
    {
      benchmark: `Bridge GetVariables of ${n} vs one GetVariable`,
      measured: `${fmt(b.getBatchOverSingle, 2)}× (${ms(b.getBatchMs)} vs ${ms(b.getSingleMs)})`,
      target: '≤ 3×',
      met: b.getBatchOverSingle <= 3,
    },
    {
      benchmark: `  (${n} × SetVariable vs SetVariables of ${n}, TypeScript caller)`,
      measured: `${fmt(b.hundredSinglesOverBatch, 1)}×`,
      target: '—',
      met: null,
    },
    {
      benchmark: `  (in process: service commit of ${n} sets vs one set)`,
      measured: `${fmt(b.inProcess.serviceCommitOverSet, 1)}× (${ms(b.inProcess.serviceCommitMs)} vs ${ms(b.inProcess.serviceSetMs)})`,
      target: '—',
      met: null,
    },
    {
      benchmark: `  (in process: bridge decode / encode of ${n} values)`,
      measured: `${fmt(b.inProcess.bridgeDecodeUs)} µs / ${fmt(b.inProcess.bridgeEncodeUs)} µs`,
      target: '—',
      met: null,
    },
  ];
}

/** The seeds' table, Python client beside the native API. */
export function pythonRows(p: PythonTableResult): TargetRow[] {
  const rows: TargetRow[] = [];
  const both = (benchmark: string, pick: (t: SeedsTable) => number | null, target: string, ok: (x: number) => boolean) => {
    const py = pick(p.python);
    const native = pick(p.native);
    rows.push({
      benchmark: `Python: ${benchmark}`,
      measured: `${py === null ? 'n/a (no cache)' : ms(py)} (native ${native === null ? 'n/a' : ms(native)})`,
      target,
      met: py === null ? null : ok(py),
    });
  };
  rows.push({ benchmark: `Python client: ${p.python.client}`, measured: '', target: '', met: null });
  both('register avg', (t) => t.registerMs, '< 10 ms', (x) => x < 10);
  both('get (uncached) avg', (t) => t.getUncachedMs, '< 5 ms', (x) => x < 5);
  both('get (cached) avg', (t) => t.getCachedMs, '< 1 ms', (x) => x < 1);
  both('update avg', (t) => t.updateMs, '< 10 ms', (x) => x < 10);
  const b = p.python.batch;
  rows.push({
    benchmark: `Python: 100 single updates vs a batch of 100 (median of ${b.rounds})`,
    measured: `${fmt(b.ratio, 1)}× (${fmt(b.singlesMs, 1)} ms vs ${ms(b.batchMs)}); native ${fmt(p.native.batch.ratio, 1)}×`,
    target: '≥ 10× (aim ≥ 15×)',
    met: b.ratio >= 10,
  });
  rows.push({
    benchmark: 'Python: get+set pairs/s, 10 threads vs 1',
    measured: `${fmt(p.python.threads.scaling, 2)}× (${fmt(p.python.threads.pairsPerSec1)} → ${fmt(p.python.threads.pairsPerSec10)}); native ${fmt(p.native.threads.scaling, 2)}×`,
    target: '— (reported)',
    met: null,
  });
  return rows;
}
