/**
 * A real PostgreSQL server for tests, started from Debian's postgresql
 * package: initdb into a temp directory, pg_ctl on a free loopback port, and
 * stopped (immediate) when the test file is done. No Docker, no mock.
 *
 * As root (CI), the server runs as the `postgres` user the package creates,
 * since PostgreSQL refuses to run as root. fsync is off: these tests check
 * behaviour, not power-loss durability, and it makes each start ~1 s faster.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string;
  readonly port: number;
  /** A connection URL for another database on this server. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

/** The directory holding initdb and pg_ctl: PG_BIN, else Debian's newest major version. */
export function postgresBinDir(): string | undefined {
  if (process.env['PG_BIN']) return process.env['PG_BIN'];
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((d) => /^\d+$/.test(d))
    .sort((a, b) => Number(b) - Number(a));
  const dir = majors[0] && join(root, majors[0], 'bin');
  return dir && existsSync(join(dir, 'pg_ctl')) ? dir : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs a PostgreSQL binary as the user that owns the cluster. */
function asOwner(bin: string, args: string[], asRoot: boolean) {
  return asRoot ? run('runuser', ['-u', 'postgres', '--', bin, ...args]) : run(bin, args);
}

/** `settings`: extra `name=value` server settings, after (so overriding) the defaults below; the bench uses them. */
export async function startPostgres(settings: readonly string[] = []): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL binaries not found: install Debian package postgresql (or set PG_BIN)');
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'varledger-pg-'));
  if (asRoot) chownSync(dir, Number((await run('id', ['-u', 'postgres'])).stdout), Number((await run('id', ['-g', 'postgres'])).stdout));
  const data = join(dir, 'data');
  await asOwner(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C'], asRoot);

  // Another process may take the port between our probe and the bind: retry.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const options = [
      `-p ${port}`,
      `-k ${dir}`,
      "-c listen_addresses='127.0.0.1'",
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
      ...settings.map((setting) => `-c ${setting}`),
    ].join(' ');
    try {
      await asOwner(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start'], asRoot);
    } catch (error) {
      if (attempt < 3) continue;
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    const urlFor = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
    let stopped = false;
    return {
      port,
      url: urlFor('postgres'),
      urlFor,
      async stop() {
        if (stopped) return;
        stopped = true;
        try {
          await asOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], asRoot);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  }
}

/** Creates an empty database on a server (through its admin URL); returns the new database's URL. */
export async function createDatabase(server: Pick<PostgresServer, 'url' | 'urlFor'>, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return server.urlFor(name);
}
