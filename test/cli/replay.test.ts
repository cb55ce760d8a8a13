/** `varledger replay`: the log alone rebuilds the projection, and the snapshots agree with it. */
import test from 'ava';
import { cli, demoLedger, rowOf, tamper } from './fixture.js';

// 13 demo events + 25 sets, a snapshot every 10 events and one at close: at 10, 20, 30 and 38.
const withSnapshots = (t: { teardown(fn: () => void): void }) => demoLedger(t, { snapshotEvery: 10, extraSets: 25 });

test('replay rebuilds the projection and every snapshot matches it', async (t) => {
  const data = await withSnapshots(t);
  const run = await cli(['replay', '--data', data]);
  t.is(run.code, 0, run.stdout + run.stderr);
  t.regex(run.stdout, /^replayed 38 events \(to revision 38\) in [\d.]+ s, \d+ events\/s: 2 sessions, 3 live variables$/m);
  t.regex(run.stdout, /^OK: 4 snapshots checked, 0 mismatched$/m);
  t.is(run.stderr, '', 'no progress bar when stderr is not a terminal');

  const partial = await cli(['replay', '--data', data, '--to-revision', '25', '--json']);
  t.like(JSON.parse(partial.stdout), { ok: true, events: 25, to_revision: 25, snapshots_checked: 2, mismatches: [] });
});

test('a snapshot whose state was changed is reported, and only up to the replayed revision', async (t) => {
  const data = await withSnapshots(t);
  tamper(data, `UPDATE snapshot_states SET state = json_set(state, '$.variables[0].value.float', 42) WHERE ${rowOf('exp-42', 30)}`);
  const run = await cli(['replay', '--data', data]);
  t.is(run.code, 1, run.stdout);
  t.regex(run.stdout, /^MISMATCH snapshot at revision 30: session exp-42 differs from the log at variables\[0\]\.value\.float$/m);
  t.regex(run.stdout, /^FAILED: 4 snapshots checked, 1 mismatched$/m);
  // Replaying to before the damaged snapshot does not look at it.
  t.is((await cli(['replay', '--data', data, '--to-revision', '29'])).code, 0);
  t.is((await cli(['replay', '--data', data, '--to-revision', '99'])).code, 2);
});

test('a snapshot missing a session is reported', async (t) => {
  const data = await withSnapshots(t);
  // A live one: an ended session needs no row unless it superseded an active one (exp-43 lived between two snapshots and has none).
  tamper(data, `DELETE FROM snapshot_states WHERE session_id = 'exp-42'`);
  const run = await cli(['replay', '--data', data, '--json']);
  t.is(run.code, 1);
  t.like(JSON.parse(run.stdout), { ok: false, mismatches: [{ revision: 10, problem: 'session exp-42 is missing from it' }] });
});
