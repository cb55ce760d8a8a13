#!/usr/bin/env node
/**
 * `npm test` after the build: starts one real PostgreSQL server for the
 * whole run (initdb in a temp dir, a free loopback port; see
 * test/helpers/postgres-server.ts), runs ava with the given arguments, and
 * stops the server however ava ends. Test files that need PostgreSQL create
 * a fresh database on it per test; without the package installed they start
 * (and fail to start) their own, with a message saying what to install.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const { startPostgres, postgresBinDir } = await import('../dist/test/helpers/postgres-server.js');
const { SHARED_POSTGRES_ENV } = await import('../dist/test/helpers/postgres-fixture.js');

const server = postgresBinDir() ? await startPostgres() : undefined;
let stopping;
const stop = () => (stopping ??= server ? server.stop() : Promise.resolve());

// ava's package exports do not include its command line: take the bin's file.
const ava = fileURLToPath(new URL('../node_modules/ava/entrypoints/cli.mjs', import.meta.url));
const child = spawn(process.execPath, [ava, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: server ? { ...process.env, [SHARED_POSTGRES_ENV]: server.url } : process.env,
});
// Ctrl-C reaches ava through the terminal; stop the server once it has ended.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('close', async (code, signal) => {
  await stop();
  process.exit(code ?? (signal ? 1 : 0));
});
