/**
 * `varledger compact` on the demo ledger (exp-43 closed at 09:12, exp-42
 * live), then `verify` on the live log and `verify --archive` proving the
 * archive against the live chain — and failing on a tampered one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { cli, demoLedger, tamper, tempDir } from '../cli/fixture.js';

test('compact archives the ended session, refuses to overwrite an archive, and has nothing left to do after', async (t) => {
  const data = await demoLedger(t, { snapshotEvery: 5 });
  const archive = join(tempDir(t), 'old.jsonl');
  const run = await cli(['compact', '--data', data, '--ended-before', '2026-02-01T00:00:00Z', '--archive', archive]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^archived 1 session \(3 events\) that ended before 2026-02-01T00:00:00.000Z to .*old.jsonl \(sha256 [0-9a-f]{64}\)\nlog_compacted at revision 14; the oldest revision available is 14\n$/);
  t.deepEqual(
    readFileSync(archive, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { revision: number; session_id: string }).revision),
    [11, 12, 13],
  );

  const again = await cli(['compact', '--data', data, '--ended-before', '2026-02-01T00:00:00Z', '--archive', archive]);
  t.is(again.code, 2);
  t.regex(again.stderr, /exists already/);
  const none = await cli(['compact', '--data', data, '--ended-before', '2026-02-01T00:00:00Z', '--archive', join(tempDir(t), 'none.jsonl')]);
  t.is(none.code, 0, none.stderr);
  t.is(none.stdout, 'nothing to compact: no session ended before 2026-02-01T00:00:00.000Z\n');
  const audit = await cli(['audit', '--data', data, '--kind', 'log_compacted', '--json']);
  t.is(audit.code, 0, audit.stderr);
  t.regex(audit.stdout, /"kind":"log_compacted"/);
});

test('verify passes before and after a compaction, proves the archive against the live chain, and fails on a tampered one', async (t) => {
  const data = await demoLedger(t, { snapshotEvery: 5 });
  const dir = tempDir(t);
  const before = await cli(['verify', '--data', data]);
  t.is(before.code, 0, before.stdout);
  const head13 = /head (13:[0-9a-f]{64})/.exec(before.stdout)?.[1] ?? '';
  const archive = join(dir, 'old.jsonl');
  t.is((await cli(['compact', '--data', data, '--ended-before', '2026-02-01T00:00:00Z', '--archive', archive])).code, 0);

  // The live log: 11 events, 3 removed; the chain still extends the digest published before.
  const after = await cli(['verify', '--data', data, '--digest', head13, '--archive', archive]);
  t.is(after.code, 0, after.stdout + after.stderr);
  const [live, proof] = after.stdout.split('\n');
  t.regex(live ?? '', /^OK: 11 events \(3 removed by retention\), 0 snapshots match the log, extends 13:[0-9a-f]{12}…, head 14:[0-9a-f]{64}$/);
  t.regex(proof ?? '', /^OK: archive .*old\.jsonl: 3 events of 1 session removed by the compaction at revision 14 re-hash to the live chain \(sha256 [0-9a-f]{12}…\)$/);

  // One changed value: the event no longer re-hashes to its chain row.
  const tampered = join(dir, 'tampered.jsonl');
  writeFileSync(tampered, readFileSync(archive, 'utf8').replace('0.2', '0.3'));
  // (and a digest published at a revision that is now archived still holds: the chain kept its row)
  const hash12 = (JSON.parse(readFileSync(archive, 'utf8').split('\n')[1] ?? '{}') as { hash: string }).hash;
  const bad = await cli(['verify', '--data', data, '--digest', `12:${hash12}`, '--archive', tampered]);
  t.is(bad.code, 1);
  t.regex(bad.stdout, /^OK: 11 events \(3 removed by retention\), 0 snapshots match the log, extends 12:/);
  t.regex(bad.stdout, /FAILED: archive .*tampered\.jsonl at revision 12: changed: the archived event differs from the one its chain hash sealed/);

  // A dropped line: every remaining one re-hashes, but the file is not the one the compaction recorded.
  const short = join(dir, 'short.jsonl');
  writeFileSync(short, `${readFileSync(archive, 'utf8').split('\n').slice(1).join('\n')}`);
  const dropped = await cli(['verify', '--data', data, '--archive', short]);
  t.is(dropped.code, 1);
  t.regex(dropped.stdout, /FAILED: archive .*short\.jsonl: no compaction recorded this file's SHA-256/);

  // A live event deleted behind the triggers' back is still a gap retention did not make.
  tamper(data, 'DELETE FROM events WHERE revision = 7');
  const gap = await cli(['verify', '--data', data]);
  t.is(gap.code, 1);
  t.regex(gap.stdout, /^FAILED at revision 7: missing: no event at revision 7/);
});
