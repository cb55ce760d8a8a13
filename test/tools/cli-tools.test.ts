/**
 * Tools through the real CLI: `varledger serve --tools <module>` loads plain
 * ESM modules and serves them over gRPC; a bad module stops start-up with a
 * clear message; and a log with tool events verifies, replays and audits.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { cli, jsonLines, tempDir } from '../cli/fixture.js';
import { spawnCli, startCli, type ReadyCli } from '../helpers/cli-process.js';
import { expectStatus } from '../helpers/grpc-expect.js';
import { executeStreaming, json, openWorker } from './tool-helpers.js';

/** A tool module as a user would write it: plain JS, `tools` exported. */
const MAIN_MODULE = `
export const tools = [
  {
    name: 'greet',
    description: 'says hello',
    parameters: [
      { name: 'who', type: 'string', required: true },
      { name: 'punctuation', type: 'string', default: '!' },
    ],
    handler: ({ who, punctuation }) => 'hello ' + who + punctuation,
  },
  {
    name: 'count',
    supportsStreaming: true,
    parameters: [{ name: 'n', type: 'integer', default: 3 }],
    async *handler({ n }) {
      for (let i = 1; i <= n; i++) yield { i };
    },
  },
  {
    name: 'remember',
    parameters: [{ name: 'note', type: 'string', required: true }],
    handler: async ({ note }, ctx) => {
      await ctx.session.set('note', note, { reason: 'remembered' });
      return { session: ctx.session.sessionId, caller: ctx.actor };
    },
  },
  {
    name: 'boom',
    handler: () => {
      throw new TypeError('kaboom');
    },
  },
];
`;

/** A second module, using the default export. */
const DEFAULT_MODULE = `
export default [{ name: 'whoami', handler: (_params, ctx) => ctx.actor }];
`;

function writeModule(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** `serve` on a fresh database in `dir` with the given tool modules; killed when the test ends. */
async function serveWithTools(t: ExecutionContext, dir: string, modules: readonly string[]): Promise<{ server: ReadyCli; rpc: LedgerRpc; data: string }> {
  const data = join(dir, 'l.db');
  const server = await startCli(['--port', '0', '--data', data, '--log-level', 'warn', ...modules.flatMap((m) => ['--tools', m])]);
  t.teardown(async () => {
    await server.stop('SIGKILL');
  });
  const rpc = new LedgerRpc(server.address);
  t.teardown(() => rpc.close());
  return { server, rpc, data };
}

test('serve --tools loads modules: ListTools, ExecuteTool and streaming work over gRPC; SIGTERM exits 0', async (t) => {
  const dir = tempDir(t);
  const main = writeModule(dir, 'tools.mjs', MAIN_MODULE);
  const extra = writeModule(dir, 'extra.mjs', DEFAULT_MODULE);
  const { server, rpc } = await serveWithTools(t, dir, [main, extra]);

  await rpc.call('createSession', { sessionId: 's1' });
  const { tools } = await rpc.call('listTools', { sessionId: 's1' });
  t.deepEqual(
    tools.map((s) => [s.name, s.host, s.supportsStreaming, s.description]),
    [
      ['boom', 'server', false, ''],
      ['count', 'server', true, ''],
      ['greet', 'server', false, 'says hello'],
      ['remember', 'server', false, ''],
      ['whoami', 'server', false, ''],
    ],
  );
  const greet = tools.find((s) => s.name === 'greet');
  t.deepEqual(greet?.parameters.map((p) => [p.name, p.type, p.required, p.defaultJson]), [
    ['who', 'string', true, ''],
    ['punctuation', 'string', false, '"!"'],
  ]);

  const hello = await rpc.call('executeTool', { sessionId: 's1', toolName: 'greet', parameters: json({ who: 'world' }) }, { actor: 'alice' });
  t.is(hello.resultJson, '"hello world!"');
  const whoami = await rpc.call('executeTool', { sessionId: 's1', toolName: 'whoami' }, { actor: 'alice' });
  t.is(whoami.resultJson, '"alice"');
  const chunks = await executeStreaming(rpc, { sessionId: 's1', toolName: 'count', parameters: json({ n: 2 }) }).chunks;
  t.deepEqual(
    chunks.map((c) => [c.dataJson, c.isFinal]),
    [
      ['{"i":1}', false],
      ['{"i":2}', false],
      ['', true],
    ],
  );
  await expectStatus(t, rpc.call('executeTool', { sessionId: 's1', toolName: 'boom' }), status.UNKNOWN, 'kaboom');
  await expectStatus(t, rpc.call('executeTool', { sessionId: 's1', toolName: 'greet' }), status.INVALID_ARGUMENT, /Missing required parameter who/);

  const exit = await server.stop('SIGTERM');
  t.deepEqual(exit, { code: 0, signal: null }, server.stderr());
});

test('a tool module that writes its session does so as tool:<name>', async (t) => {
  const dir = tempDir(t);
  const { server, rpc } = await serveWithTools(t, dir, [writeModule(dir, 'tools.mjs', MAIN_MODULE)]);
  await rpc.call('createSession', { sessionId: 's1' });
  // The tool sets an existing variable.
  await rpc.call('registerVariable', {
    sessionId: 's1',
    name: 'note',
    type: VariableType.VARIABLE_TYPE_STRING,
    initialValue: { kind: { $case: 'stringValue', stringValue: '' } },
  });
  const reply = await rpc.call('executeTool', { sessionId: 's1', toolName: 'remember', parameters: json({ note: 'hi' }) }, { actor: 'bob' });
  t.deepEqual(JSON.parse(reply.resultJson), { session: 's1', caller: 'bob' });
  const variable = await rpc.call('getVariable', { sessionId: 's1', identifier: 'note' });
  t.is(variable.modifiedBy, 'tool:remember');
  t.is(variable.value?.kind?.$case === 'stringValue' ? variable.value.kind.stringValue : undefined, 'hi');
  t.is((await server.stop('SIGTERM')).code, 0);
});

/** Bad `--tools` arguments: start-up fails, non-zero, with a message naming the problem; no GRPC_READY. */
interface BadCase {
  readonly title: string;
  /** Modules written to the temp dir and passed, in order; a name without text is not written (missing). */
  readonly modules: ReadonlyArray<{ name: string; text?: string }>;
  readonly message: RegExp;
  /** Modules are imported before the database opens; definitions are checked after. */
  readonly noDatabase: boolean;
}

const badCases: readonly BadCase[] = [
  { title: 'a module that does not exist', modules: [{ name: 'no-such-tools.mjs' }], message: /Cannot find module .*no-such-tools\.mjs/, noDatabase: true },
  {
    title: 'a module exporting no tools',
    modules: [{ name: 'empty.mjs', text: 'export const helper = () => 1;\n' }],
    message: /Tool module .*empty\.mjs exports no tools/,
    noDatabase: true,
  },
  {
    title: 'a module whose `tools` is not an array',
    modules: [{ name: 'object.mjs', text: "export const tools = { name: 'x', handler: () => 1 };\n" }],
    message: /Tool module .*object\.mjs exports no tools/,
    noDatabase: true,
  },
  {
    title: 'a tool without a handler',
    modules: [{ name: 'nohandler.mjs', text: "export const tools = [{ name: 'lazy' }];\n" }],
    message: /Tool lazy has no handler function/,
    noDatabase: false,
  },
  {
    title: 'an invalid tool name',
    modules: [{ name: 'badname.mjs', text: "export const tools = [{ name: 'bad name!', handler: () => 1 }];\n" }],
    message: /Invalid tool name "bad name!"/,
    noDatabase: false,
  },
  {
    title: 'the same tool name in two modules',
    modules: [
      { name: 'one.mjs', text: "export const tools = [{ name: 'twin', handler: () => 1 }];\n" },
      { name: 'two.mjs', text: "export default [{ name: 'twin', handler: () => 2 }];\n" },
    ],
    message: /Tool twin is already registered/,
    noDatabase: false,
  },
  {
    title: 'a module with a syntax error',
    modules: [{ name: 'broken.mjs', text: 'export const tools = [;\n' }],
    message: /Unexpected token/,
    noDatabase: true,
  },
];

/** Runs `serve --tools <modules>` expecting start-up to fail; returns its stderr. */
async function failedStart(t: ExecutionContext, c: BadCase): Promise<string> {
  const dir = tempDir(t);
  const paths = c.modules.map((m) => (m.text === undefined ? join(dir, m.name) : writeModule(dir, m.name, m.text)));
  const data = join(dir, 'l.db');
  const proc = spawnCli(['serve', '--port', '0', '--data', data, '--log-level', 'warn', ...paths.flatMap((p) => ['--tools', p])]);
  t.teardown(async () => {
    await proc.stop('SIGKILL');
  });
  const exit = await proc.exited;
  t.is(exit.code, 1, proc.stderr());
  t.is(exit.signal, null);
  t.false(proc.stdoutLines.some((l) => l.startsWith('GRPC_READY')), proc.stdoutLines.join('\n'));
  // Logging is on (warn), so stderr is JSON lines and the failure is the fatal one.
  const records = proc.stderr().trimEnd().split('\n').map((line) => JSON.parse(line) as { level: number; msg: string });
  const fatal = records.find((r) => r.level === 60)?.msg ?? '';
  t.regex(fatal, /^varledger: /);
  t.regex(fatal, c.message);
  if (c.noDatabase) t.false(existsSync(data), 'a module that cannot load leaves no database behind');
  return proc.stderr();
}

for (const c of badCases) {
  test(`serve --tools with ${c.title} exits 1 with a clear message`, async (t) => {
    await failedStart(t, c);
  });
}

// With several --tools modules, an import error must say which module broke.
test('a module that fails to import is named in the error', async (t) => {
  const stderr = await failedStart(t, badCases.find((c) => c.title === 'a module with a syntax error')!);
  t.regex(stderr, /broken\.mjs/);
});

test('verify, replay and audit read a log with tool events written through the server', async (t) => {
  const dir = tempDir(t);
  const { server, rpc, data } = await serveWithTools(t, dir, [writeModule(dir, 'tools.mjs', MAIN_MODULE)]);
  await rpc.call('createSession', { sessionId: 's1' }, { actor: 'alice' });
  // A worker-hosted tool too, so the log holds both hosts.
  const workerRpc = new LedgerRpc(server.address);
  t.teardown(() => workerRpc.close());
  const worker = openWorker(t, workerRpc, (w, inv) => w.result(inv.callId, Number(inv.parameters['n']) * 2));
  await worker.declare({ workerId: 'py', tools: [{ name: 'double', parameters: [{ name: 'n', type: 'integer', required: true }] }] });

  const call = (toolName: string, parameters: Record<string, unknown>, actor: string) =>
    rpc.call('executeTool', { sessionId: 's1', toolName, parameters: json(parameters) }, { actor });
  t.is((await call('greet', { who: 'log' }, 'alice')).resultJson, '"hello log!"');
  t.is((await call('double', { n: 21 }, 'bob')).resultJson, '42');
  await expectStatus(t, call('boom', {}, 'carol'), status.UNKNOWN, 'kaboom');
  await expectStatus(t, call('greet', { who: 7 }, 'dave'), status.INVALID_ARGUMENT);
  t.is((await executeStreaming(rpc, { sessionId: 's1', toolName: 'count' }, { actor: 'erin' }).chunks).length, 4);

  t.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null }, server.stderr());
  // 1 session + 5 calls × (called + completed/failed).
  const events = 11;

  const verify = await cli(['verify', '--data', data]);
  t.is(verify.code, 0, verify.stdout + verify.stderr);
  t.regex(verify.stdout, new RegExp(`^OK: ${events} events, \\d+ snapshots? match the log, head ${events}:[0-9a-f]{64}\\n$`));

  const replay = await cli(['replay', '--data', data]);
  t.is(replay.code, 0, replay.stdout + replay.stderr);
  t.regex(replay.stdout, new RegExp(`^replayed ${events} events \\(to revision ${events}\\) in .*: 1 sessions?, 0 live variables$`, 'm'));
  t.regex(replay.stdout, /^OK: \d+ snapshots? checked, 0 mismatched$/m);
  const replayJson = await cli(['replay', '--data', data, '--json']);
  t.like(JSON.parse(replayJson.stdout), { ok: true, events, to_revision: events, mismatches: [] });

  const audit = await cli(['audit', '--data', data, '--kind', 'tool_called', '--json']);
  t.is(audit.code, 0, audit.stderr);
  const called = jsonLines(audit.stdout);
  t.deepEqual(
    called.map((line) => [line['kind'], line['session_id'], line['tool'], line['host'], line['actor']]),
    [
      ['tool_called', 's1', 'greet', 'server', 'alice'],
      ['tool_called', 's1', 'double', 'worker:py', 'bob'],
      ['tool_called', 's1', 'boom', 'server', 'carol'],
      ['tool_called', 's1', 'greet', 'server', 'dave'],
      ['tool_called', 's1', 'count', 'server', 'erin'],
    ],
  );
  t.deepEqual(
    called.map((line) => line['parameters']),
    ['{"who":"log","punctuation":"!"}', '{"n":21}', '{}', '{"who":7}', '{"n":3}'],
  );
  const outcomes = jsonLines((await cli(['audit', '--data', data, '--kind', 'tool_completed,tool_failed', '--json'])).stdout);
  // Each outcome answers its call: same call id, same actor, in the same order.
  t.deepEqual(
    outcomes.map((line) => [line['call_id'], line['actor']]),
    called.map((line) => [line['call_id'], line['actor']]),
  );
  t.is(new Set(called.map((line) => line['call_id'])).size, 5);
  t.deepEqual(
    outcomes.map((line) => [line['kind'], line['tool'], line['kind'] === 'tool_failed' ? line['error_type'] : line['result']]),
    [
      ['tool_completed', 'greet', '"hello log!"'],
      ['tool_completed', 'double', '42'],
      ['tool_failed', 'boom', 'TypeError'],
      ['tool_failed', 'greet', 'invalid_argument'],
      ['tool_completed', 'count', '{"chunks":4}'],
    ],
  );
});

// Each back-pressure wait in executeStreamingTool must remove both of its
// listeners ('drain' and 'cancelled'); a leak shows as MaxListenersExceededWarning
// on the server's stderr. 2,000 chunks of 1 KiB hit back-pressure far more than 11 times.
test('a long stream leaves no listener warnings on the server', async (t) => {
  const dir = tempDir(t);
  const module = writeModule(
    dir,
    'big.mjs',
    `export const tools = [{
      name: 'big', supportsStreaming: true, parameters: [{ name: 'n', type: 'integer', required: true }],
      async *handler({ n }) { const s = 'x'.repeat(1024); for (let i = 0; i < n; i++) yield s; },
    }];\n`,
  );
  const { server, rpc } = await serveWithTools(t, dir, [module]);
  await rpc.call('createSession', { sessionId: 's1' });
  const chunks = await executeStreaming(rpc, { sessionId: 's1', toolName: 'big', parameters: json({ n: 2000 }) }).chunks;
  t.is(chunks.length, 2001);
  t.is((await server.stop('SIGTERM')).code, 0);
  t.notRegex(server.stderr(), /MaxListenersExceededWarning/);
});
