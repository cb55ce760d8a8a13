/**
 * Archive file names sort in the order they were written: a backlog of more
 * than nine steps once gave `…-10.jsonl` before `…-2.jsonl` (and the first,
 * unnumbered, after all the others). Names written before are still
 * understood: never reused, ordered alike.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { archiveName, nextArchivePath, parseArchiveName, sortArchiveNames } from '../../src/server/archive-names.js';
import { startLedger, tempDir } from '../helpers/harness.js';

const DAY = 86_400_000;
const STEPS = 12;

test('a backlog archived in more than nine steps gives names that sort in the order written', async (t) => {
  const { dir, remove } = tempDir();
  t.teardown(remove);
  const archiveDir = join(dir, 'archive');
  const compacted: string[][] = [];
  let sweepDone!: () => void;
  const done = new Promise<void>((resolve) => (sweepDone = resolve));
  // One session a step: twelve archives in one run, all with the run's time.
  const ledger = await startLedger({
    dataPath: join(dir, 'ledger.db'),
    retention: { retainEndedMs: 30 * DAY, archiveDir, intervalMs: 5, step: { maxSessions: 1, maxEvents: 100 } },
  });
  t.teardown(() => ledger.stop({ remove: false }));
  ledger.server.service.onCommit(({ events }) => {
    for (const e of events) if (e.kind === 'log_compacted') compacted.push([...e.sessions]);
    if (compacted.length === STEPS) sweepDone();
  });
  const ids = Array.from({ length: STEPS }, (_, i) => `old-${String(i).padStart(2, '0')}`);
  for (const sessionId of ids) {
    await ledger.rpc.call('createSession', { sessionId, ttlSeconds: 3600 });
    await ledger.rpc.call('closeSession', { sessionId });
  }
  ledger.clock.advance(31 * DAY);
  await done;
  await ledger.stop({ remove: false });

  t.deepEqual(compacted, ids.map((id) => [id]));
  // Sorted as plain text (ls, sort): each archive holds the session of the step that wrote it.
  const names = readdirSync(archiveDir).sort();
  t.is(names.length, STEPS);
  const sessionOf = (name: string) => (JSON.parse(readFileSync(join(archiveDir, name), 'utf8').split('\n')[0] as string) as { session_id: string }).session_id;
  t.deepEqual(names.map(sessionOf), ids);
  t.true(names.every((name) => /^varledger-archive-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-\d{6}\.jsonl$/.test(name)), names.join(' '));
  t.deepEqual(sortArchiveNames([...names].reverse()), names);
});

test('names written before are understood: a new archive never takes their numbers, and they sort with the new ones', (t) => {
  const { dir, remove } = tempDir();
  t.teardown(remove);
  const now = Date.UTC(2026, 0, 31, 9);
  const stamp = '2026-01-31T09-00-00-000Z';
  // An archive directory from before: a run at `now` wrote three steps with the old names.
  const old = [`varledger-archive-${stamp}.jsonl`, `varledger-archive-${stamp}-2.jsonl`, `varledger-archive-${stamp}-3.jsonl`];
  for (const name of old) writeFileSync(join(dir, name), '');
  const next = nextArchivePath(dir, now);
  t.deepEqual(next, { path: join(dir, archiveName(now, 4)), sequence: 4 });
  t.deepEqual(parseArchiveName(old[0] as string), { stamp, sequence: 1 });
  t.deepEqual(parseArchiveName(`varledger-archive-${stamp}-10.jsonl`), { stamp, sequence: 10 });
  t.deepEqual(parseArchiveName(archiveName(now, 12)), { stamp, sequence: 12 });
  t.is(parseArchiveName('notes.txt'), undefined);
  t.is(parseArchiveName(`varledger-archive-${stamp}-x.jsonl`), undefined);

  const earlier = 'varledger-archive-2025-12-31T09-00-00-000Z-10.jsonl';
  const mixed = [archiveName(now, 11), `varledger-archive-${stamp}-10.jsonl`, ...old, 'README', archiveName(now, 4), earlier];
  t.deepEqual(sortArchiveNames(mixed), [earlier, ...old, archiveName(now, 4), `varledger-archive-${stamp}-10.jsonl`, archiveName(now, 11)]);
});
