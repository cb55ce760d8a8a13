/** `varledger audit`: filters, JSON lines, the table, and reading beside a running server. */
import { join } from 'node:path';
import test from 'ava';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { floatValue } from '../helpers/grpc-expect.js';
import { startLedger } from '../helpers/harness.js';
import { cli, demoLedger, jsonLines, MINUTE, T0, tempDir } from './fixture.js';

const revisions = async (data: string, ...args: string[]) => {
  const run = await cli(['audit', '--data', data, '--json', ...args]);
  if (run.code !== 0) throw new Error(`exit ${run.code}: ${run.stderr}`);
  return jsonLines(run.stdout).map((e) => e.revision);
};

test('--json filters by session, variable name or id, actor, kind, time and limit', async (t) => {
  const data = await demoLedger(t);
  t.deepEqual(await revisions(data), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  t.deepEqual(await revisions(data, '--session', 'exp-43'), [11, 12, 13]);
  // A name matches every variable registered with it, in any session.
  t.deepEqual(await revisions(data, '--variable', 'temperature'), [2, 5, 6, 9, 12]);
  t.deepEqual(await revisions(data, '--variable', 'temperature', '--session', 'exp-42'), [2, 5, 6, 9]);
  t.deepEqual(await revisions(data, '--variable', 'var_model_0002'), [3, 7]);
  t.deepEqual(await revisions(data, '--actor', 'bob'), [7, 8, 10]);
  t.deepEqual(await revisions(data, '--kind', 'set,rolled_back'), [5, 6, 7, 8, 9]);
  t.deepEqual(await revisions(data, '--kind', 'variable_deleted', '--kind', 'session_closed'), [10, 13]);
  const from = new Date(T0 + 4 * MINUTE).toISOString();
  t.deepEqual(await revisions(data, '--since', from, '--until', String(T0 + 6 * MINUTE)), [5, 6, 7, 8]);
  t.deepEqual(await revisions(data, '--limit', '2'), [12, 13], 'the newest matches, oldest first');
  t.deepEqual(await revisions(data, '--actor', 'nobody'), []);
});

test('--json carries the columns, the variable name and the payload as encoded in the log', async (t) => {
  const data = await demoLedger(t);
  const [event] = jsonLines((await cli(['audit', '--data', data, '--json', '--actor', 'optimizer', '--limit', '1'])).stdout);
  t.like(event, {
    revision: 6,
    commit_id: 6,
    time: '2026-01-31T09:05:00.000Z',
    time_ms: T0 + 5 * MINUTE,
    session_id: 'exp-42',
    variable_id: 'var_temperature_0001',
    variable_name: 'temperature',
    kind: 'variable_set',
    version: 2,
    actor: 'optimizer',
    value: { float: 0.5 },
    metadata: { reason: 'best val loss' },
  });
});

test('the table shows who changed what, when and why; no colour when stdout is not a terminal', async (t) => {
  const data = await demoLedger(t);
  const run = await cli(['audit', '--session', 'exp-42', '--kind', 'set'], { env: { VARLEDGER_DATA: data } });
  t.is(run.code, 0);
  t.regex(run.stdout, /rev .* time .* session .* variable .* kind .* actor .* value .* details/);
  const line = run.stdout.split('\n').find((l) => /^6 /.test(l)) ?? '';
  for (const cell of ['2026-01-31T09:05:00.000Z', 'temperature', 'var_temperature_0001', 'variable_set', 'optimizer', '0.5', 'reason="best val loss"']) {
    t.true(line.includes(cell), `${cell} in ${line}`);
  }
  t.false(run.stdout.includes('\u001b['), 'no escape codes in a pipe');
});

test('bad flags and unreadable databases exit 2 with a message', async (t) => {
  const data = await demoLedger(t);
  for (const args of [
    ['--since', 'yesterday'],
    ['--kind', 'renamed'],
  ]) {
    const run = await cli(['audit', '--data', data, ...args]);
    t.is(run.code, 2, args.join(' '));
    t.not(run.stderr, '');
  }
  const missing = await cli(['audit', '--data', join(tempDir(t), 'none.db')]);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /no database at/);
});

test('reads the file while a server is writing to it', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  await ledger.rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(0.5) });
  await ledger.rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(0.75), metadata: { reason: 'live' } });
  const run = await cli(['audit', '--data', ledger.dataPath, '--json', '--variable', 'x']);
  t.is(run.code, 0, run.stderr);
  t.deepEqual(
    jsonLines(run.stdout).map((e) => [e.kind, e.value]),
    [
      ['variable_registered', { float: 0.5 }],
      ['variable_set', { float: 0.75 }],
    ],
  );
  // The server keeps writing after the CLI has read.
  await ledger.rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(1) });
  t.is(jsonLines((await cli(['audit', '--data', ledger.dataPath, '--json', '--variable', 'x'])).stdout).length, 3);
});

test('by default the newest 100 matches, then a line telling how to see older ones; --before pages, --limit 0 shows all', async (t) => {
  // 13 demo events and 150 sets: revisions 1..163.
  const data = await demoLedger(t, { extraSets: 150 });
  const page = await cli(['audit', '--data', data, '--json']);
  t.is(page.code, 0, page.stderr);
  const shown = jsonLines(page.stdout).map((e) => e.revision);
  t.deepEqual(shown, Array.from({ length: 100 }, (_, i) => 64 + i));
  t.is(page.stderr, 'showing the newest 100 matching events; older ones: --before 64 (the next page), all: --limit 0\n');

  const previous = await cli(['audit', '--data', data, '--json', '--before', '64']);
  t.deepEqual(
    jsonLines(previous.stdout).map((e) => e.revision),
    Array.from({ length: 63 }, (_, i) => 1 + i),
  );
  t.is(previous.stderr, '', 'the oldest page says nothing more');

  const all = await cli(['audit', '--data', data, '--limit', '0']);
  const rows = all.stdout.split('\n').filter((l) => /^\d+ /.test(l));
  t.is(rows.length, 163);
  t.is(all.stderr, '');
  // Fixed columns: every row puts its time at the same offset, from the first row to the last.
  const offsets = new Set(rows.map((l) => l.indexOf('2026-01-31T')));
  t.is(offsets.size, 1);
  const table = await cli(['audit', '--data', data, '--session', 'exp-42', '--limit', '5']);
  t.is(table.stdout.split('\n').filter((l) => /^\d+ /.test(l)).length, 5);
  t.regex(table.stderr, /--before 159 /);
});

test('each change shows its own metadata next to the variable metadata it merged into', async (t) => {
  // After the rollback (9: reason=regression …), the sweeper's sets carry only `step`.
  const data = await demoLedger(t, { extraSets: 2 });
  const expectedMerged = { reason: 'regression', rolled_back_from: '2', rolled_back_to: '1', step: '2' };
  const [last] = jsonLines((await cli(['audit', '--data', data, '--json', '--limit', '1'])).stdout);
  t.deepEqual(last?.metadata, { step: '2' });
  t.deepEqual(last?.merged_metadata, expectedMerged);
  // Met mid-history (--kind set skips the registration): folded from the earlier events.
  const sets = jsonLines((await cli(['audit', '--data', data, '--json', '--kind', 'set', '--variable', 'var_temperature_0001'])).stdout);
  t.deepEqual(
    sets.map((e) => e.merged_metadata),
    [{ reason: 'explore' }, { reason: 'best val loss' }, { ...expectedMerged, step: '1' }, expectedMerged],
  );
  const history = jsonLines((await cli(['history', 'exp-42', 'temperature', '--data', data, '--json'])).stdout);
  t.deepEqual(history[0]?.metadata, { step: '2' });
  t.deepEqual(history[0]?.merged_metadata, expectedMerged);
  const table = await cli(['history', 'exp-42', 'temperature', '--data', data]);
  t.regex(table.stdout, /^version +rev .* details +merged metadata$/m);
  t.regex(table.stdout, /step="2" +reason="regression" rolled_back_from="2" rolled_back_to="1" step="2"$/m);
  // The same merged view as `state` folds.
  const state = JSON.parse((await cli(['state', 'exp-42', '--data', data, '--json'])).stdout) as {
    session: { variables: Array<{ name: string; metadata: Record<string, string> }> };
  };
  t.deepEqual(state.session.variables.find((v) => v.name === 'temperature')?.metadata, expectedMerged);
});
