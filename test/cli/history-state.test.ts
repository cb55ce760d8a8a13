/** `varledger history` and `varledger state`: versions newest first, and a session as it was. */
import test from 'ava';
import { cli, demoLedger, jsonLines, MINUTE, T0 } from './fixture.js';

test('history lists versions newest first, with who, when and why', async (t) => {
  const data = await demoLedger(t);
  const run = await cli(['history', 'exp-42', 'temperature', '--data', data, '--json']);
  t.is(run.code, 0, run.stderr);
  t.deepEqual(
    jsonLines(run.stdout).map((e) => [e.version, e.revision, e.kind, e.actor, e.value, (e.metadata as Record<string, string>).reason]),
    [
      [3, 9, 'variable_rolled_back', 'alice', { float: 0.9 }, 'regression'],
      [2, 6, 'variable_set', 'optimizer', { float: 0.5 }, 'best val loss'],
      [1, 5, 'variable_set', 'optimizer', { float: 0.9 }, 'explore'],
      [0, 2, 'variable_registered', 'alice', { float: 0.7 }, undefined],
    ],
  );
  const table = await cli(['history', 'exp-42', 'var_temperature_0001', '--data', data]);
  const versions = table.stdout.split('\n').flatMap((l) => /^(\d+) {2,}\d/.exec(l)?.[1] ?? []);
  t.deepEqual(versions, ['3', '2', '1', '0'], 'by id too, in the table');
});

test('history of a deleted variable starts with its deletion; an unknown one exits 2', async (t) => {
  const data = await demoLedger(t);
  const run = await cli(['history', 'exp-42', 'max_tokens', '--data', data, '--json']);
  t.deepEqual(
    jsonLines(run.stdout).map((e) => [e.kind, e.actor]),
    [
      ['variable_deleted', 'bob'],
      ['variable_set', 'bob'],
      ['variable_registered', 'alice'],
    ],
  );
  const unknown = await cli(['history', 'exp-43', 'model', '--data', data]);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /no variable "model"/);
});

interface StateJson {
  revision: number;
  session: { status: string; variables: Array<{ name: string; value: unknown; version: number; modified_by: string }> };
}
const state = async (data: string, ...args: string[]): Promise<StateJson> => {
  const run = await cli(['state', ...args, '--data', data, '--json']);
  if (run.code !== 0) throw new Error(`exit ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as StateJson;
};
const values = (s: StateJson) => Object.fromEntries(s.session.variables.map((v) => [v.name, [v.value, v.version]]));

test('state shows the session now, at a revision, and at a time', async (t) => {
  const data = await demoLedger(t);
  const now = await state(data, 'exp-42');
  t.is(now.revision, 13);
  t.deepEqual(values(now), { temperature: [{ float: 0.9 }, 3], model: [{ string: 'claude-haiku' }, 1] });

  const atSix = await state(data, 'exp-42', '--at-revision', '6');
  t.is(atSix.revision, 6);
  t.deepEqual(values(atSix), { temperature: [{ float: 0.5 }, 2], model: [{ string: 'gpt-4o-mini' }, 0], max_tokens: [{ integer: '256' }, 0] });

  // Revision 8 is the last one written at or before 09:06:30 (7 and 8 share a commit at 09:06).
  const atTime = await state(data, 'exp-42', '--at-time', new Date(T0 + 6.5 * MINUTE).toISOString());
  t.is(atTime.revision, 8);
  t.deepEqual(values(atTime).max_tokens, [{ integer: '512' }, 1]);

  t.is((await state(data, 'exp-43')).session.status, 'closed');
  const table = await cli(['state', 'exp-42', '--at-revision', '6', '--data', data]);
  t.regex(table.stdout, /session exp-42 at revision 6: active/);
  t.regex(table.stdout, /^temperature {2,}var_temperature_0001 {2,}float {2,}0\.5 {2,}2 /m);
});

test('state of a session that did not exist yet, or beyond the head, exits 2', async (t) => {
  const data = await demoLedger(t);
  const early = await cli(['state', 'exp-43', '--at-revision', '5', '--data', data]);
  t.is(early.code, 2);
  t.regex(early.stderr, /no session "exp-43" at revision 5/);
  const future = await cli(['state', 'exp-42', '--at-revision', '99', '--data', data]);
  t.is(future.code, 2);
  t.regex(future.stderr, /beyond the head/);
  const both = await cli(['state', 'exp-42', '--at-revision', '3', '--at-time', '5', '--data', data]);
  t.is(both.code, 2);
});
