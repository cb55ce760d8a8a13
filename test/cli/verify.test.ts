/** `varledger verify`: the chain from genesis catches a changed byte, a deleted row, a moved row. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { formatDigest } from '../../src/store/hash-chain.js';
import { cli, demoLedger, rowOf, tamper, tempDir } from './fixture.js';

function chainAt(path: string, revision: number): string {
  const store = new SqliteEventStore(path, { readonly: true });
  try {
    return store.db.prepare<[number], string>('SELECT hash FROM event_chain WHERE revision = ?').pluck().get(revision) ?? '';
  } finally {
    store.close();
  }
}

test('an untouched log verifies: one OK line with the head digest, and published digests hold', async (t) => {
  const data = await demoLedger(t, { snapshotEvery: 5 });
  const head = formatDigest({ revision: 13, hash: chainAt(data, 13) });
  const run = await cli(['verify', '--data', data]);
  t.is(run.code, 0, run.stdout + run.stderr);
  t.is(run.stdout, `OK: 13 events, 3 snapshots match the log, head ${head}\n`);
  const earlier = await cli(['verify', '--data', data, '--digest', `6:${chainAt(data, 6)}`]);
  t.is(earlier.code, 0, earlier.stdout);
  t.regex(earlier.stdout, /^OK: .*extends 6:/);
});

test('a digest the log does not reproduce fails', async (t) => {
  const data = await demoLedger(t);
  const wrong = await cli(['verify', '--data', data, '--digest', `6:${chainAt(data, 5)}`]);
  t.is(wrong.code, 1);
  t.regex(wrong.stdout, /^FAILED at revision 6: digest mismatch/);
  const beyond = await cli(['verify', '--data', data, '--digest', `20:${chainAt(data, 5)}`]);
  t.is(beyond.code, 1);
  t.regex(beyond.stdout, /^FAILED at revision 20: digest mismatch: the log ends at revision 13/);
  t.is((await cli(['verify', '--data', data, '--digest', '6:xyz'])).code, 2);
});

const tampering: ReadonlyArray<{ title: string; sql: string; expected: RegExp }> = [
  {
    title: 'one byte of a payload changed',
    sql: "UPDATE events SET payload = replace(payload, '0.5', '0.4') WHERE revision = 6",
    expected: /^FAILED at revision 6: changed: /,
  },
  { title: 'an actor changed', sql: "UPDATE events SET actor = 'mallory' WHERE revision = 13", expected: /^FAILED at revision 13: changed: / },
  { title: 'a row deleted', sql: 'DELETE FROM events WHERE revision = 7', expected: /^FAILED at revision 7: missing: no event at revision 7/ },
  {
    title: 'the last row deleted',
    sql: 'DELETE FROM events WHERE revision = 13',
    expected: /^FAILED at revision 13: missing: the chain seals up to revision 13, the log ends at 12/,
  },
  { title: 'a chain row deleted', sql: 'DELETE FROM event_chain WHERE revision = 4', expected: /^FAILED at revision 4: missing: .*no row in the hash chain/ },
  {
    title: 'two events given each other’s revision',
    sql: 'UPDATE events SET revision = -5 WHERE revision = 5; UPDATE events SET revision = 5 WHERE revision = 6; UPDATE events SET revision = 6 WHERE revision = -5',
    expected: /^FAILED at revision 5: out of order: the event that belongs at revision 5 is stored at revision 6/,
  },
  {
    title: 'two rows’ payloads swapped',
    sql: `CREATE TEMP TABLE original AS SELECT revision, payload FROM events WHERE revision IN (2, 12);
          UPDATE events SET payload = (SELECT payload FROM original WHERE original.revision = 14 - events.revision) WHERE revision IN (2, 12)`,
    expected: /^FAILED at revision 2: out of order: the payload that belongs at revision 2 is stored at revision 12/,
  },
];

for (const c of tampering) {
  test(`verify names the first bad revision: ${c.title}`, async (t) => {
    const data = await demoLedger(t);
    tamper(data, c.sql);
    const run = await cli(['verify', '--data', data]);
    t.is(run.code, 1, run.stdout + run.stderr);
    t.regex(run.stdout, c.expected);
  });
}

test('a snapshot that differs from a fresh fold fails verification', async (t) => {
  const data = await demoLedger(t, { snapshotEvery: 5 });
  tamper(data, `UPDATE snapshot_states SET state = replace(state, '"owner":"alice"', '"owner":"eve"') WHERE ${rowOf('exp-42', 10)}`);
  const run = await cli(['verify', '--data', data]);
  t.is(run.code, 1);
  t.regex(run.stdout, /^FAILED at revision 10: snapshot mismatch: session exp-42 differs from the log at metadata\.owner/);
});

test('a file that is not a ledger exits 2', async (t) => {
  const path = join(tempDir(t), 'junk.db');
  writeFileSync(path, 'not a database at all, just some text that is long enough to look like a header........');
  const run = await cli(['verify', '--data', path]);
  t.is(run.code, 2);
  t.regex(run.stderr, /cannot read/);
});
