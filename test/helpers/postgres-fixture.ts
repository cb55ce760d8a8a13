/**
 * A real PostgreSQL server for a test file, and a fresh database per test on it.
 *
 * `npm test` starts one server for the whole run (scripts/test.mjs) and
 * names it in VARLEDGER_TEST_POSTGRES: every file shares it, since each test
 * gets its own database anyway and a cluster costs seconds to create. A file
 * run on its own (`npx ava dist/test/postgres/x.test.js`) starts and stops
 * its own server.
 */
import { randomBytes } from 'node:crypto';
import type { TestFn } from 'ava';
import { createDatabase, startPostgres, type PostgresServer } from './postgres-server.js';

/** The environment variable holding the shared server's admin URL. */
export const SHARED_POSTGRES_ENV = 'VARLEDGER_TEST_POSTGRES';

let server: Pick<PostgresServer, 'url' | 'urlFor'> | undefined;
let databases = 0;
// Files run in worker threads of one process and may share the server:
// the pid alone would not keep their database names apart.
const prefix = `t${process.pid}_${randomBytes(4).toString('hex')}`;

/** The shared server named by the environment, if any. */
function sharedServer(): Pick<PostgresServer, 'url' | 'urlFor'> | undefined {
  const url = process.env[SHARED_POSTGRES_ENV];
  if (!url) return undefined;
  const urlFor = (database: string) => {
    const u = new URL(url);
    u.pathname = `/${database}`;
    return u.toString();
  };
  return { url, urlFor };
}

export function usePostgres(test: TestFn): void {
  let own: PostgresServer | undefined;
  test.before(async () => {
    server = sharedServer();
    if (!server) server = own = await startPostgres();
  });
  test.after.always(async () => {
    await own?.stop();
  });
}

/** Creates an empty database on this file's server; returns its URL. */
export async function freshDatabase(): Promise<string> {
  if (!server) throw new Error('usePostgres(test) was not called in this file');
  return createDatabase(server, `${prefix}_${++databases}`);
}
