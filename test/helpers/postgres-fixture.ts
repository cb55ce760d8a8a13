/**
 * One real PostgreSQL server per test file (started before its tests,
 * stopped after), and a fresh database per test on it.
 */
import type { TestFn } from 'ava';
import pg from 'pg';
import { startPostgres, type PostgresServer } from './postgres-server.js';

let server: PostgresServer | undefined;
let databases = 0;

export function usePostgres(test: TestFn): void {
  test.before(async () => {
    server = await startPostgres();
  });
  test.after.always(async () => {
    await server?.stop();
  });
}

/** Creates an empty database on this file's server; returns its URL. */
export async function freshDatabase(): Promise<string> {
  if (!server) throw new Error('usePostgres(test) was not called in this file');
  const name = `t${process.pid}_${++databases}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return server.urlFor(name);
}
