/**
 * The audit CLI on a PostgreSQL log, through real child processes against
 * the harness's server: a SQLite log exported, imported into PostgreSQL and
 * exported again is the same log with the same chain; every reading command
 * answers on PostgreSQL exactly as on SQLite; verify there accepts a digest
 * taken on SQLite and catches tampering; and a password never shows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import pg from 'pg';
import { fromExported } from '../../src/cli/export-format.js';
import { formatDigest } from '../../src/store/hash-chain.js';
import { openImportTarget } from '../../src/store/open-audit-source.js';
import { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { PostgresEventStore } from '../../src/store/postgres-event-store.js';
import { cli, demoLedger, tempDir, writeDemoLedgerTo } from '../cli/fixture.js';
import { freshDatabase, usePostgres } from '../helpers/postgres-fixture.js';

usePostgres(test);

/** The chain head of a SQLite file, read in-process (one child process fewer). */
function sqliteDigest(path: string): string {
  const store = new SqliteEventStore(path, { readonly: true });
  try {
    return formatDigest(store.digest());
  } finally {
    store.close();
  }
}

/** Loads an export into a PostgreSQL log in-process, through the same importer `varledger import` uses. */
async function importInProcess(url: string, file: string): Promise<void> {
  const target = await openImportTarget({ kind: 'postgres', url });
  try {
    const importer = await target.startImport();
    for (const line of readFileSync(file, 'utf8').split('\n')) if (line !== '') await importer.add(fromExported(line).row);
    await importer.commit();
  } finally {
    await target.close();
  }
}

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

test('SQLite → export → import into PostgreSQL → export: the same events and chain; every command answers as on SQLite', async (t) => {
  const source = await demoLedger(t, { snapshotEvery: 5 });
  const url = await freshDatabase();
  const dir = tempDir(t);
  const file = join(dir, 'ledger.jsonl');
  const again = join(dir, 'again.jsonl');
  const digest = sqliteDigest(source);

  t.is((await cli(['export', '--data', source, '--out', file])).code, 0);
  const imported = await cli(['import', file, '--store', url]);
  t.is(imported.code, 0, imported.stderr);
  t.is(imported.stdout, `imported 13 events; head ${digest}\n`);
  // The store named by VARLEDGER_STORE, as for `serve`.
  const exported = await cli(['export', '--out', again], { env: { VARLEDGER_STORE: url } });
  t.is(exported.code, 0, exported.stderr);
  t.is(readFileSync(again, 'utf8'), readFileSync(file, 'utf8'), 'identical events and chain hashes, line for line');

  const onPg = (args: string[]) => cli([...args, '--store', url]);
  const onSqlite = (args: string[]) => cli([...args, '--data', source]);
  const sameOnBoth = [
    ['audit', '--limit', '5'],
    ['audit', '--json', '--limit', '0', '--variable', 'temperature'],
    ['history', 'exp-42', 'temperature', '--json'],
    ['state', 'exp-42', '--at-revision', '9', '--json'],
  ];
  const [verified, ...runs] = await Promise.all([
    onPg(['verify', '--digest', digest]),
    ...sameOnBoth.flatMap((args) => [onPg(args), onSqlite(args)]),
  ]);
  t.is(verified!.code, 0, verified!.stdout + verified!.stderr);
  t.is(verified!.stdout, `OK: 13 events, 0 snapshots match the log, extends ${digest.slice(0, 15)}…, head ${digest}\n`);
  sameOnBoth.forEach((args, i) => {
    const [pgRun, sqliteRun] = [runs[2 * i]!, runs[2 * i + 1]!];
    t.is(pgRun.code, 0, `${args.join(' ')}: ${pgRun.stderr}`);
    t.not(pgRun.stdout, '');
    t.is(pgRun.stdout, sqliteRun.stdout, args.join(' '));
    t.is(pgRun.stderr, sqliteRun.stderr, args.join(' '));
  });
});

test('the service writing to PostgreSQL makes the chain it makes on SQLite; verify and replay check its snapshots there', async (t) => {
  const url = await freshDatabase();
  const [sqlite] = await Promise.all([demoLedger(t, { snapshotEvery: 5 }), writeDemoLedgerTo(await PostgresEventStore.open(url), { snapshotEvery: 5 })]);
  const [verified, replayed] = await Promise.all([cli(['verify', '--store', url]), cli(['replay', '--store', url])]);
  t.is(verified.code, 0, verified.stdout + verified.stderr);
  t.is(verified.stdout, `OK: 13 events, 3 snapshots match the log, head ${sqliteDigest(sqlite)}\n`);
  t.is(replayed.code, 0, replayed.stdout + replayed.stderr);
  t.regex(replayed.stdout, /^replayed 13 events \(to revision 13\) in .*: 2 sessions, 3 live variables\nOK: 3 snapshots checked, 0 mismatched\n$/);
});

test('verify on PostgreSQL finds a payload changed behind the append-only trigger; import refuses a log that is not empty', async (t) => {
  const source = await demoLedger(t);
  const url = await freshDatabase();
  const file = join(tempDir(t), 'ledger.jsonl');
  t.is((await cli(['export', '--data', source, '--out', file])).code, 0);
  await importInProcess(url, file);
  // As the superuser: drop the trigger that refuses UPDATE, then rewrite history.
  await sql(url, "DROP TRIGGER events_are_append_only ON events; UPDATE events SET payload = replace(payload, '0.5', '0.4') WHERE revision = 6");
  const [tampered, refused] = await Promise.all([cli(['verify', '--store', url]), cli(['import', file, '--store', url])]);
  t.is(tampered.code, 1, tampered.stdout + tampered.stderr);
  t.regex(tampered.stdout, /^FAILED at revision 6: changed: /);
  t.is(refused.code, 2);
  t.regex(refused.stderr, /already holds 13 events/);
});

test('a database that is missing or not migrated exits 2 and never shows the password', async (t) => {
  const url = await freshDatabase();
  const withPassword = (u: string) => u.replace('postgres@', 'postgres:s3cret-pw@');
  const missing = withPassword(url.replace(/\/[^/]+$/, '/no_such_database'));
  const [absent, empty] = await Promise.all([cli(['audit', '--store', missing]), cli(['verify'], { env: { VARLEDGER_STORE: withPassword(url) } })]);
  t.is(absent.code, 2);
  t.regex(absent.stderr, /cannot read postgres:\/\/postgres:\*\*\*@.*no_such_database/);
  t.is(empty.code, 2);
  t.regex(empty.stderr, /not fully migrated/);
  for (const run of [absent, empty]) t.false((run.stdout + run.stderr).includes('s3cret-pw'));
});
