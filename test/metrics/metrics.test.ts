/**
 * Prometheus metrics (`serve --metrics-port`): scraped over real HTTP after
 * a known sequence of real gRPC calls, the counts are exactly those calls —
 * by service, method and status code, events and commits appended, live
 * sessions, watchers going up and down, tool outcomes and auth denials.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata, status } from '@grpc/grpc-js';
import test from 'ava';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import type { Revision, SessionId } from '../../src/domain/index.js';
import type { WatchSink } from '../../src/watch/watch-hub.js';
import type { ToolModuleDefinition } from '../../src/tools/tool-types.js';
import { startAuthLedger } from '../auth/auth-fixture.js';
import { anyOf, startBridge, StreamReader } from '../compat/bridge/bridge-client.js';
import { expectStatus, floatValue } from '../helpers/grpc-expect.js';
import { startCli } from '../helpers/cli-process.js';
import { startLedger, tempDir } from '../helpers/harness.js';
import { scrape, scrapeUntil, type Scrape } from '../helpers/metrics-scrape.js';
import { RawClient } from '../helpers/raw-call.js';
import { ArchiveFile } from '../../src/store/archive-file.js';
import { executeStreaming, json } from '../tools/tool-helpers.js';

const LEDGER = 'varledger.v1.Ledger';
const BRIDGE = 'snakepit.bridge.BridgeService';
const FLOAT = VariableType.VARIABLE_TYPE_FLOAT;

const calls = (s: Scrape, service: string, method: string, code: string) => s.value('varledger_rpc_calls_total', { service, method, code });

const tools: ToolModuleDefinition[] = [
  { name: 'echo', parameters: [{ name: 'text', type: 'string' }], handler: ({ text }) => text },
  {
    name: 'boom',
    handler: () => {
      throw new RangeError('too hot');
    },
  },
  {
    name: 'count',
    supportsStreaming: true,
    async *handler() {
      yield 1;
      yield 2;
    },
  },
];

test('after a known sequence of calls the scrape shows exactly those calls, events, commits and sessions', async (t) => {
  const ledger = await startLedger({ metrics: { port: 0 } });
  t.teardown(() => ledger.stop());
  const port = ledger.server.metricsPort as number;
  t.true(port > 0);
  const { rpc } = ledger;

  await rpc.call('createSession', { sessionId: 's1' });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: FLOAT, initialValue: floatValue(0) });
  for (let i = 1; i <= 3; i++) await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(i / 10) });
  for (let i = 0; i < 2; i++) await expectStatus(t, rpc.call('setVariable', { sessionId: 's1', identifier: 'nope', value: floatValue(1) }), status.NOT_FOUND);
  // Four sets issued in one turn of the event loop form one round: one transaction, a group-commit batch of four.
  const { service } = ledger.server;
  await Promise.all([1, 2, 3, 4].map((i) => service.set({ sessionId: 's1' as SessionId, identifier: 'x', value: { kind: 'float', value: i }, metadata: {} }, 'test')));
  await rpc.call('createSession', { sessionId: 's2' });
  await rpc.call('closeSession', { sessionId: 's2' });

  const s = await scrape(port);
  t.is(calls(s, LEDGER, 'SetVariable', 'OK'), 3);
  t.is(calls(s, LEDGER, 'SetVariable', 'NOT_FOUND'), 2);
  t.is(calls(s, LEDGER, 'CreateSession', 'OK'), 2);
  t.is(s.value('varledger_rpc_calls_total', { method: 'SetVariable', type: 'unary' }), 5);
  t.is(s.value('varledger_rpc_duration_seconds_count', { service: LEDGER, method: 'SetVariable', code: 'OK' }), 3);
  t.true(s.value('varledger_rpc_duration_seconds_sum', { method: 'SetVariable' }) > 0);

  t.is(s.value('varledger_events_appended_total', { kind: 'session_created' }), 2);
  t.is(s.value('varledger_events_appended_total', { kind: 'variable_registered' }), 1);
  t.is(s.value('varledger_events_appended_total', { kind: 'variable_set' }), 7);
  t.is(s.value('varledger_events_appended_total', { kind: 'session_closed' }), 1);
  t.is(s.value('varledger_events_appended_total'), 11);
  // Every write here is its own commit; refused ones (NOT_FOUND) write nothing.
  t.is(s.value('varledger_commits_total'), 11);
  t.is(s.value('varledger_group_commit_batch_commits_sum'), 11, 'batches hold every commit');
  t.is(s.value('varledger_group_commit_batch_commits_count'), 8, 'seven transactions of one commit, one of four');
  t.is(s.value('varledger_group_commit_batch_commits_bucket', { le: '1' }), 7);
  t.is(s.value('varledger_group_commit_batch_commits_bucket', { le: '4' }), 8);
  t.is(s.value('varledger_commit_conflicts_total'), 0);

  t.is(s.value('varledger_live_sessions'), 1, 's2 was closed');
  t.is(s.value('varledger_log_head_revision'), ledger.server.service.head);
  t.is(s.value('varledger_log_head_revision'), 11);
  t.is(s.value('varledger_log_oldest_revision'), 1);
  t.true(s.value('varledger_database_size_bytes') > 4096, 'the SQLite file and its WAL');
  t.true(s.value('process_resident_memory_bytes') > 0, "the process's own metrics are there too");
});

test('a compaction moves the oldest revision up and is counted with the sessions and events it archived', async (t) => {
  const ledger = await startLedger({ metrics: { port: 0 } });
  t.teardown(() => ledger.stop());
  const port = ledger.server.metricsPort as number;
  const { rpc } = ledger;
  await rpc.call('registerVariable', { sessionId: 'gone', name: 'x', type: FLOAT, initialValue: floatValue(1) });
  await rpc.call('setVariable', { sessionId: 'gone', identifier: 'x', value: floatValue(2) });
  await rpc.call('closeSession', { sessionId: 'gone' });
  await rpc.call('createSession', { sessionId: 'stays' });
  t.is((await scrape(port)).value('varledger_log_oldest_revision'), 1);

  const archive = tempDir();
  t.teardown(() => archive.remove());
  ledger.clock.advance(60_000);
  const result = await ledger.server.service.compact({ endedBefore: ledger.clock.now(), archive: new ArchiveFile(`${archive.dir}/a.jsonl`) });
  t.truthy(result);
  const m = await scrape(port);
  t.is(m.value('varledger_compactions_total'), 1);
  t.is(m.value('varledger_compacted_sessions_total'), 1);
  t.is(m.value('varledger_compacted_events_total'), 4, 'created + registered, set, closed');
  t.is(m.value('varledger_log_oldest_revision'), ledger.server.service.oldestRevision);
  t.true(m.value('varledger_log_oldest_revision') > 1, 'reads below it are now out of range');
  t.is(m.value('varledger_live_sessions'), 1);
});

test('each server keeps its own figures: two in one process do not mix', async (t) => {
  const [a, b] = await Promise.all([startLedger({ metrics: { port: 0 } }), startLedger({ metrics: { port: 0 } })]);
  t.teardown(() => Promise.all([a.stop(), b.stop()]).then(() => undefined));
  await a.rpc.call('createSession', { sessionId: 'only-on-a' });
  t.is(calls(await scrape(a.server.metricsPort as number), LEDGER, 'CreateSession', 'OK'), 1);
  t.is(calls(await scrape(b.server.metricsPort as number), LEDGER, 'CreateSession', 'OK'), 0);
  t.is((await scrape(b.server.metricsPort as number)).value('varledger_live_sessions'), 0);
});

test('watchers go up and down, native and bridge; a cancelled stream counts once as CANCELLED', async (t) => {
  const s = await startBridge({ metrics: { port: 0 } });
  t.teardown(() => s.stop());
  const port = s.server.metricsPort as number;
  await s.rpc.call('registerVariable', { sessionId: 'w', name: 'x', type: FLOAT, initialValue: floatValue(1) });
  await s.bridge.call('initializeSession', { sessionId: 'b' });
  await s.bridge.call('registerVariable', { sessionId: 'b', name: 'y', type: 'integer', initialValue: anyOf('integer', 1) });

  const native = s.rpc.watch({ sessionId: 'w', includeInitial: true });
  const nativeFirst = new Promise((resolve, reject) => native.once('data', resolve).once('error', reject));
  const bridged = new StreamReader(s.bridge.stream('watchVariables', { sessionId: 'b', variableIdentifiers: ['y'], includeInitialValues: true }));
  native.on('error', () => {}); // the cancellation below
  bridged.stream.on('error', () => {});
  // The first message (the initial values) means the server holds the watcher.
  await Promise.all([nativeFirst, bridged.next()]);
  let m = await scrape(port);
  t.is(m.value('varledger_watchers', { api: 'native' }), 1);
  t.is(m.value('varledger_watchers', { api: 'bridge' }), 1);
  t.is(m.value('varledger_watchers_lagging'), 0);
  t.is(m.value('varledger_watch_max_lag_revisions'), 0);
  t.is(calls(m, LEDGER, 'WatchVariables', 'CANCELLED'), 0, 'an open stream is not counted yet');

  native.cancel();
  m = await scrapeUntil(port, (x) => x.value('varledger_watchers', { api: 'native' }) === 0);
  t.is(m.value('varledger_watchers', { api: 'bridge' }), 1);
  t.is(calls(m, LEDGER, 'WatchVariables', 'CANCELLED'), 1);
  t.is(m.value('varledger_rpc_calls_total', { method: 'WatchVariables', type: 'server_stream' }), 1);

  bridged.stream.cancel();
  m = await scrapeUntil(port, (x) => x.value('varledger_watchers', { api: 'bridge' }) === 0);
  t.is(calls(m, BRIDGE, 'WatchVariables', 'CANCELLED'), 1);
  t.is(calls(m, BRIDGE, 'RegisterVariable', 'OK'), 1, 'bridge unary calls are counted under their own service');
  t.is(calls(m, LEDGER, 'WatchVariables', 'CANCELLED'), 1, 'counted once, though grpc-js also reports the end of a call as a cancel');
});

test('a watcher whose client stops reading shows as lagging (revisions behind the head) and holds buffered bytes', async (t) => {
  const ledger = await startLedger({ metrics: { port: 0 }, watchBufferBytes: 1 });
  t.teardown(() => ledger.stop());
  const port = ledger.server.metricsPort as number;
  const sessionId = 'slow' as SessionId;
  await ledger.rpc.call('registerVariable', { sessionId, name: 'x', type: FLOAT, initialValue: floatValue(0) });
  for (let i = 1; i <= 3; i++) await ledger.rpc.call('setVariable', { sessionId, identifier: 'x', value: floatValue(i) });
  // A client that never reads: its stream never drains.
  const stuck: WatchSink = { write: () => false, onDrain: () => () => {}, end: () => {}, abort: () => {} };
  const hub = ledger.server.watchHub;
  const fromStart = hub.subscribe({ sessionId, matches: () => true, sink: stuck, position: 0 as Revision });
  const atHead = hub.subscribe({ sessionId, matches: () => true, sink: stuck, position: ledger.server.service.head });
  for (let i = 4; i <= 5; i++) await ledger.rpc.call('setVariable', { sessionId, identifier: 'x', value: floatValue(i) });

  const head = ledger.server.service.head;
  const m = await scrapeUntil(port, (x) => x.value('varledger_watch_buffered_bytes', { api: 'native' }) > 0);
  t.is(m.value('varledger_watchers', { api: 'native' }), 2);
  t.true(m.value('varledger_watchers_lagging', { api: 'native' }) >= 1, 'the one that started at revision 0 is fed from the log');
  const lag = m.value('varledger_watch_max_lag_revisions', { api: 'native' });
  t.true(lag > 0 && lag < head, `lag ${lag} is between the head (${head}) and the first commit it got`);
  fromStart();
  atHead();
  const after = await scrape(port);
  t.is(after.value('varledger_watchers', { api: 'native' }), 0);
  t.is(after.value('varledger_watch_buffered_bytes', { api: 'native' }), 0, 'a stopped watcher frees its buffer');
  t.is(after.value('varledger_watch_max_lag_revisions', { api: 'native' }), 0);
});

test('tool calls by outcome, and ExecuteTool / ExecuteStreamingTool by status', async (t) => {
  const ledger = await startLedger({ metrics: { port: 0 }, tools });
  t.teardown(() => ledger.stop());
  const { rpc } = ledger;
  await rpc.call('createSession', { sessionId: 's1' });
  await rpc.call('executeTool', { sessionId: 's1', toolName: 'echo', parameters: json({ text: 'hi' }) });
  await expectStatus(t, rpc.call('executeTool', { sessionId: 's1', toolName: 'boom' }), status.UNKNOWN, /too hot/);
  await expectStatus(t, rpc.call('executeTool', { sessionId: 's1', toolName: 'echo', parameters: json({ text: 5 }) }), status.INVALID_ARGUMENT);
  t.is((await executeStreaming(rpc, { sessionId: 's1', toolName: 'count' }).chunks).length, 3);
  await ledger.server.toolHub.idle();

  const m = await scrape(ledger.server.metricsPort as number);
  t.is(m.value('varledger_tool_calls_total', { outcome: 'completed' }), 2);
  t.is(m.value('varledger_tool_calls_total', { outcome: 'failed' }), 1);
  t.is(m.value('varledger_tool_calls_total', { outcome: 'invalid_argument' }), 1);
  t.is(calls(m, LEDGER, 'ExecuteTool', 'OK'), 1);
  t.is(calls(m, LEDGER, 'ExecuteTool', 'UNKNOWN'), 1);
  t.is(calls(m, LEDGER, 'ExecuteTool', 'INVALID_ARGUMENT'), 1);
  t.is(m.value('varledger_rpc_calls_total', { method: 'ExecuteStreamingTool', type: 'server_stream', code: 'OK' }), 1);
  t.is(m.value('varledger_events_appended_total', { kind: 'tool_called' }), 4);
});

test('auth denials by reason, and the refused calls by their status', async (t) => {
  const ledger = await startAuthLedger(t, { metrics: { port: 0 } });
  await expectStatus(t, ledger.rpc.call('listSessions', {}), status.UNAUTHENTICATED);
  const stranger = new LedgerRpc(ledger.address, {}, { token: 'made-up-token' });
  t.teardown(() => stranger.close());
  await expectStatus(t, stranger.call('getSession', { sessionId: 'team-a-1' }), status.UNAUTHENTICATED);
  await ledger.as('alice').call('createSession', { sessionId: 'team-a-1' });
  await expectStatus(t, ledger.as('bob').call('closeSession', { sessionId: 'team-a-1' }), status.PERMISSION_DENIED);

  const m = await scrape(ledger.server.metricsPort as number);
  t.is(m.value('varledger_auth_denials_total', { reason: 'unauthenticated' }), 2);
  t.is(m.value('varledger_auth_denials_total', { reason: 'permission_denied' }), 1);
  t.is(m.value('varledger_auth_denials_total'), 3);
  t.is(calls(m, LEDGER, 'ListSessions', 'UNAUTHENTICATED'), 1);
  t.is(calls(m, LEDGER, 'CloseSession', 'PERMISSION_DENIED'), 1);
  t.is(calls(m, LEDGER, 'CreateSession', 'OK'), 1);
});

test('calls refused before any handler are counted too: a malformed body, oversized headers', async (t) => {
  const ledger = await startLedger({ metrics: { port: 0 }, maxMetadataBytes: 1024 });
  t.teardown(() => ledger.stop());
  const raw = new RawClient(ledger.address);
  t.teardown(() => raw.grpc.close());
  t.is((await raw.unary('/varledger.v1.Ledger/GetSession', Buffer.from([0xff, 0xff, 0xff]))).code, status.INVALID_ARGUMENT);
  const big = new Metadata();
  big.set('x-padding', 'p'.repeat(2048));
  t.is((await raw.unary('/varledger.v1.Ledger/GetSession', Buffer.alloc(0), { metadata: big })).code, status.RESOURCE_EXHAUSTED);
  const m = await scrape(ledger.server.metricsPort as number);
  t.is(calls(m, LEDGER, 'GetSession', 'INVALID_ARGUMENT'), 1);
  t.is(calls(m, LEDGER, 'GetSession', 'RESOURCE_EXHAUSTED'), 1);
});

test('off unless asked for; binds 127.0.0.1 by default and the host given otherwise; only /metrics is served', async (t) => {
  const plain = await startLedger();
  t.teardown(() => plain.stop());
  t.is(plain.server.metricsPort, undefined);

  const local = await startLedger({ metrics: { port: 0 } });
  t.teardown(() => local.stop());
  const port = local.server.metricsPort as number;
  t.is((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 200);
  // Another loopback address of this machine: nothing listens there.
  await t.throwsAsync(fetch(`http://127.0.0.2:${port}/metrics`));
  t.is((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
  t.is((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status, 405);

  const other = await startLedger({ metrics: { port: 0, host: '127.0.0.2' } });
  t.teardown(() => other.stop());
  const otherPort = other.server.metricsPort as number;
  t.is((await fetch(`http://127.0.0.2:${otherPort}/metrics`)).status, 200);
  await t.throwsAsync(fetch(`http://127.0.0.1:${otherPort}/metrics`));
});

test('serve: VARLEDGER_METRICS_PORT turns metrics on and stdout names the port after GRPC_READY', async (t) => {
  const tmp = tempDir();
  t.teardown(() => tmp.remove());
  const cli = await startCli(['--port', '0', '--data', `${tmp.dir}/ledger.db`], { VARLEDGER_METRICS_PORT: '0' });
  t.teardown(() => cli.stop());
  const port = Number((await cli.waitForStdout(/^METRICS_READY:\d+$/)).slice('METRICS_READY:'.length));
  const rpc = new LedgerRpc(cli.address);
  t.teardown(() => rpc.close());
  await rpc.call('createSession', { sessionId: 'cli' });
  const m = await scrape(port);
  t.is(calls(m, LEDGER, 'CreateSession', 'OK'), 1);
  t.is(m.value('varledger_live_sessions'), 1);
  t.deepEqual(await cli.stop('SIGTERM'), { code: 0, signal: null });
  t.deepEqual(cli.stdoutLines, [`GRPC_READY:${cli.port}`, `METRICS_READY:${port}`]);
  t.regex(cli.stderr(), /metrics listening/);
});

test('a metrics port already in use fails start-up with a message naming the metrics address', async (t) => {
  const first = await startLedger({ metrics: { port: 0 } });
  t.teardown(() => first.stop());
  const port = first.server.metricsPort as number;
  await t.throwsAsync(startLedger({ metrics: { port } }), { message: `cannot serve metrics on 127.0.0.1:${port}: the port is already in use` });
});

test('the sample Grafana dashboard asks only for metrics the server serves', async (t) => {
  const dashboard = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'docs', 'grafana-dashboard.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
  const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((target) => target.expr);
  t.true(exprs.length >= 20);
  const ledger = await startLedger({ metrics: { port: 0 } });
  t.teardown(() => ledger.stop());
  const { text } = await scrape(ledger.server.metricsPort as number);
  const served = new Set([...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap(([, name, type]) =>
    type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name as string],
  ));
  const asked = new Set(exprs.flatMap((expr) => [...expr.matchAll(/\b((?:varledger|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1] as string)));
  t.true(asked.size >= 20);
  t.deepEqual([...asked].filter((name) => !served.has(name)), []);
});
