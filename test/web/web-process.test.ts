/**
 * `varledger serve --http-port` as a real child process: the readiness line,
 * the page and its assets served from the build, and SIGTERM ending the
 * browsers' live streams and the process.
 */
import { createServer } from 'node:net';
import test from 'ava';
import { join } from 'node:path';
import { spawnCli, startCli } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/harness.js';
import { openSse } from './web-fixture.js';

test('serve --http-port 0 prints HTTP_READY, serves the page offline, and stops its streams on SIGTERM', async (t) => {
  const tmp = tempDir();
  t.teardown(() => tmp.remove());
  const server = await startCli(['--port', '0', '--http-port', '0', '--data', join(tmp.dir, 'ledger.db')]);
  t.teardown(() => server.stop('SIGKILL'));
  const line = await server.waitForStdout(/^HTTP_READY:\d+$/);
  const base = `http://127.0.0.1:${line.slice('HTTP_READY:'.length)}`;

  const page = await fetch(`${base}/sessions/s1`);
  t.is(page.status, 200);
  const html = await page.text();
  t.regex(html, /<script type="module" src="\/assets\/app.js">/);
  t.notRegex(html, /https?:\/\//, 'the page loads nothing from elsewhere');
  const script = await fetch(`${base}/assets/app.js`);
  t.is(script.status, 200);
  t.regex(script.headers.get('content-type') ?? '', /javascript/);
  t.true((await script.text()).includes('uplot'), 'uPlot is bundled');
  t.is((await fetch(`${base}/assets/app.css`)).status, 200);
  t.is((await fetch(`${base}/assets/../../cli/main.js`)).status, 404);

  const stream = await openSse(`${base}/api/events`);
  await stream.nextOf('head');
  server.child.kill('SIGTERM');
  const shutdown = await stream.nextOf('shutdown');
  t.regex(shutdown.data.reason, /shutting down/);
  t.is(await stream.next(), undefined);
  t.deepEqual(await server.exited, { code: 0, signal: null });
});

test('serve --http-port on a port in use exits 1 naming the web view\'s address', async (t) => {
  const tmp = tempDir();
  t.teardown(() => tmp.remove());
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => taken.close());
  const port = (taken.address() as { port: number }).port;
  const proc = spawnCli(['serve', '--port', '0', '--http-port', String(port), '--data', join(tmp.dir, 'ledger.db')]);
  t.teardown(() => proc.stop('SIGKILL'));
  t.deepEqual(await proc.exited, { code: 1, signal: null });
  t.regex(proc.stderr(), new RegExp(`the web view cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use`));
});
