/** `varledger export` / `import`: a round trip reproduces the chain head; an altered export is refused. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { cli, demoLedger, jsonLines, tempDir } from './fixture.js';

const headOf = async (data: string) => /head (\d+:[0-9a-f]{64})/.exec((await cli(['verify', '--data', data])).stdout)?.[1];

test('export → import reproduces every event and the same chain head', async (t) => {
  const source = await demoLedger(t, { snapshotEvery: 5 });
  const dir = tempDir(t);
  const file = join(dir, 'ledger.jsonl');
  const exported = await cli(['export', '--data', source, '--out', file]);
  t.is(exported.code, 0, exported.stderr);
  t.is((await cli(['export', '--data', source])).stdout, readFileSync(file, 'utf8'), '--out writes what stdout gets');
  const lines = jsonLines(readFileSync(file, 'utf8'));
  t.is(lines.length, 13);
  t.deepEqual(Object.keys(lines[0] ?? {}), ['revision', 'commit_id', 'session_id', 'variable_id', 'kind', 'version', 'time', 'actor', 'payload', 'hash']);

  const copy = join(dir, 'copy.db');
  const imported = await cli(['import', file, '--data', copy]);
  t.is(imported.code, 0, imported.stderr);
  const sourceHead = await headOf(source);
  t.is(imported.stdout, `imported 13 events; head ${sourceHead}\n`);
  t.is(await headOf(copy), sourceHead);
  t.is((await cli(['audit', '--json', '--data', copy])).stdout, (await cli(['audit', '--json', '--data', source])).stdout);

  const fromStdin = await cli(['import', '-', '--data', join(dir, 'stdin.db')], { stdin: readFileSync(file, 'utf8') });
  t.is(fromStdin.stdout, `imported 13 events; head ${sourceHead}\n`);
});

test('import refuses a non-empty database', async (t) => {
  const source = await demoLedger(t);
  const file = join(tempDir(t), 'ledger.jsonl');
  await cli(['export', '--data', source, '--out', file]);
  const run = await cli(['import', file, '--data', source]);
  t.is(run.code, 2);
  t.regex(run.stderr, /already holds 13 events/);
});

test('import refuses an altered export and writes nothing', async (t) => {
  const source = await demoLedger(t);
  const dir = tempDir(t);
  const file = join(dir, 'ledger.jsonl');
  await cli(['export', '--data', source, '--out', file]);
  const altered = readFileSync(file, 'utf8').replace('"actor":"optimizer"', '"actor":"mallory"');
  writeFileSync(file, altered);
  const target = join(dir, 'copy.db');
  const run = await cli(['import', file, '--data', target]);
  t.is(run.code, 1);
  t.regex(run.stderr, /revision 5: the recomputed hash [0-9a-f]{64} differs from the exported [0-9a-f]{64}; nothing imported/);
  t.false(existsSync(target), 'the database it created is removed again');

  const garbage = await cli(['import', '-', '--data', target], { stdin: '{"revision":1}\n' });
  t.is(garbage.code, 2);
  t.regex(garbage.stderr, /line 1: not an exported event/);
});
