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
  const data = demoLedger(t);
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
  const data = demoLedger(t);
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
  const data = demoLedger(t);
  const run = await cli(['audit', '--session', 'exp-42', '--kind', 'set'], { env: { VARLEDGER_DATA: data } });
  t.is(run.code, 0);
  t.regex(run.stdout, /rev .* time .* session .* variable .* kind .* actor .* value .* details/);
  const line = run.stdout.split('\n').find((l) => /│ 6 /.test(l)) ?? '';
  for (const cell of ['2026-01-31T09:05:00.000Z', 'temperature', 'var_temperature_0001', 'variable_set', 'optimizer', '0.5', 'reason="best val loss"']) {
    t.true(line.includes(cell), `${cell} in ${line}`);
  }
  t.false(run.stdout.includes('\u001b['), 'no escape codes in a pipe');
});

test('bad flags and unreadable databases exit 2 with a message', async (t) => {
  const data = demoLedger(t);
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
