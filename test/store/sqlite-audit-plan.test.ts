/**
 * `audit --variable NAME` on SQLite finds the name's registrations through
 * their partial expression index (migrations/0008_registrations_by_name.sql)
 * and each variable's events through the variable index: the plan of the
 * audit query's own SQL names the index and scans no table of events.
 * Before the migration it scanned every row of the log to read the names.
 */
import { join } from 'node:path';
import test from 'ava';
import type { NewEvent, SessionId, VariableId } from '../../src/domain/index.js';
import { AuditQueries } from '../../src/store/sqlite-audit-queries.js';
import { created, registered, set } from './event-samples.js';
import { openStore, tempDir } from './temp-store.js';

const float = (value: number) => ({ kind: 'float' as const, value });

test('audit by variable name reads the registrations-by-name index, never a scan of the log', (t) => {
  const store = openStore(t, join(tempDir(t), 'ledger.db'));
  // Ten sessions, each with `shared` (a variable of its own) and `own_S`, then a set of each.
  for (let s = 0; s < 10; s++) {
    const sessionId = `s${s}` as SessionId;
    const variable = (name: string, event: NewEvent) => ({ ...event, variableId: `${name}@${sessionId}` as VariableId }) as NewEvent;
    store.write((tx) =>
      tx.append([
        created(sessionId),
        variable('shared', registered('shared', float(0), sessionId)),
        variable(`own_${s}`, registered(`own_${s}`, float(0), sessionId)),
        variable('shared', set('shared', 1, float(s), sessionId)),
        variable(`own_${s}`, set(`own_${s}`, 1, float(s), sessionId)),
      ]),
    );
  }
  // The audit queries' own SQL, captured as they prepare it.
  const prepared: string[] = [];
  const db = store.db;
  const capturing = new Proxy(db, {
    get: (target, key) => (key === 'prepare' ? (sql: string) => (prepared.push(sql), target.prepare(sql)) : Reflect.get(target, key, target)),
  });
  const queries = new AuditQueries(capturing);

  const revisions = (variable: string) => [...queries.events({ variable })].map((row) => Number(row[0]));
  const shared = revisions('shared');
  t.is(shared.length, 20, 'a registration and a set in each of the ten sessions');
  t.deepEqual(revisions('own_3'), [3 * 5 + 3, 3 * 5 + 5]);
  t.deepEqual(revisions('shared@s4'), [4 * 5 + 2, 4 * 5 + 4], 'a variable id still matches');

  const sql = prepared.find((text) => text.includes('@variable'));
  t.truthy(sql, prepared.join('\n'));
  const plan = db
    .prepare(`EXPLAIN QUERY PLAN ${sql!}`)
    .all({ variable: 'shared' })
    .map((row) => (row as { detail: string }).detail)
    .join('\n');
  t.regex(plan, /USING INDEX events_registered_by_name/, plan);
  t.notRegex(plan, /^SCAN events\b/m, plan);
});
