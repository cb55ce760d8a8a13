/**
 * The web view's "verify now" on a PostgreSQL log, through the HTTP API of a
 * real server on the harness's PostgreSQL: it runs `varledger verify` on that
 * database (not on a SQLite file), finds a rewritten event, and hands the
 * child the log in its environment, never on its command line.
 */
import test from 'ava';
import pg from 'pg';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { verifyCommandLine } from '../../src/web/verify-job.js';
import { floatValue } from '../helpers/grpc-expect.js';
import { freshDatabase, usePostgres } from '../helpers/postgres-fixture.js';
import { getJson, postJson, webLedger } from '../web/web-fixture.js';

usePostgres(test);

test('verify now checks the PostgreSQL log and finds an event rewritten behind its trigger', async (t) => {
  const url = await freshDatabase();
  const { rpc, base } = await webLedger(t, { storeLocation: { kind: 'postgres', url } });
  await rpc.call('registerVariable', { sessionId: 's', name: 't', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(0.5) });
  const digest = await rpc.call('getDigest', {});

  const verified = await postJson(`${base}/api/verify`, {});
  t.is(verified.status, 200);
  t.true(verified.body.ok, verified.body.output);
  t.is(verified.body.output, `OK: 2 events, 0 snapshots match the log, head ${digest.revision}:${digest.hash}`);
  t.deepEqual((await getJson(`${base}/api/verify`)).body, verified.body);

  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query("DROP TRIGGER events_are_append_only ON events; UPDATE events SET actor = 'mallory' WHERE revision = 2");
  } finally {
    await admin.end();
  }
  const tampered = await postJson(`${base}/api/verify`, {});
  t.false(tampered.body.ok);
  t.regex(tampered.body.output, /^FAILED at revision 2: changed: /);
});

test('the child gets the PostgreSQL URL (with its password) in VARLEDGER_STORE, not in its arguments', (t) => {
  const url = 'postgres://varledger:s3cret-pw@db.internal:5432/varledger';
  const { args, env } = verifyCommandLine({ kind: 'postgres', url }, { VARLEDGER_DATA: 'elsewhere.db', PATH: '/bin' });
  t.false(args.some((a) => a.includes('s3cret-pw')));
  t.is(args[args.length - 1], 'verify');
  t.is(env.VARLEDGER_STORE, url);
  t.is(env.PATH, '/bin');
  t.is(verifyCommandLine({ kind: 'sqlite', path: '/data/ledger.db' }, {}).env.VARLEDGER_STORE, 'sqlite:/data/ledger.db');
});
