/**
 * The one interceptor over every RPC family: the Snakepit bridge, tools
 * (calling, listing, serving), health (open) and reflection (token).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { credentials, loadPackageDefinition, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import test from 'ava';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import type { ToolModuleDefinition } from '../../src/tools/tool-types.js';
import { BridgeRpc, anyOf } from '../compat/bridge/bridge-client.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { expectStatus, floatValue } from '../helpers/grpc-expect.js';
import { startLedger } from '../helpers/harness.js';
import { until } from '../helpers/watch-helpers.js';
import { json, openWorker, toolEvents } from '../tools/tool-helpers.js';
import { startAuthLedger, TOKENS } from './auth-fixture.js';

const TOOLS: ToolModuleDefinition[] = [
  { name: 'bump', parameters: [{ name: 'by', type: 'float', default: 1 }], handler: ({ by }, { actor }) => ({ by, actor }) },
  { name: 'setx', parameters: [{ name: 'to', type: 'float', required: true }], handler: async ({ to }, { session }) => session.set('x', to) },
];

const failure = (stream: NodeJS.EventEmitter) =>
  new Promise((resolve, reject) => {
    stream.on('error', reject);
    stream.on('data', resolve);
  });

test('the Snakepit bridge answers to the same tokens and grants', async (t) => {
  const ledger = await startAuthLedger(t);
  const bridge = (token?: string) => {
    const client = new BridgeRpc(ledger.address, token);
    t.teardown(() => client.close());
    return client;
  };
  await expectStatus(t, bridge().call('ping', { message: 'hi' }), status.UNAUTHENTICATED);
  const alice = bridge(TOKENS.alice);
  t.is((await alice.call('ping', { message: 'hi' })).message, 'pong: hi');
  t.true((await alice.call('initializeSession', { sessionId: 'team-a-1' })).success);
  await alice.call('registerVariable', { sessionId: 'team-a-1', name: 't', type: 'float', initialValue: anyOf('float', 0.5) }, 'worker-1');
  const carol = bridge(TOKENS.carol);
  await expectStatus(t, carol.call('initializeSession', { sessionId: 'team-a-1' }), status.PERMISSION_DENIED);
  await expectStatus(t, carol.call('getVariable', { sessionId: 'team-a-1', variableIdentifier: 't' }), status.PERMISSION_DENIED);
  await expectStatus(t, carol.call('cleanupSession', { sessionId: 'team-a-1' }), status.PERMISSION_DENIED);
  const bob = bridge(TOKENS.bob);
  // A reader's worker may initialize an existing session (workers do on start), not create one.
  t.true((await bob.call('initializeSession', { sessionId: 'team-a-1' })).success);
  await expectStatus(t, bob.call('initializeSession', { sessionId: 'team-a-new' }), status.PERMISSION_DENIED);
  await expectStatus(t, bob.call('setVariable', { sessionId: 'team-a-1', variableIdentifier: 't', value: anyOf('float', 0.9) }), status.PERMISSION_DENIED);
  await expectStatus(t, failure(carol.stream('watchVariables', { sessionId: 'team-a-1', variableIdentifiers: ['t'] })), status.PERMISSION_DENIED);
  const variable = await bob.call('getVariable', { sessionId: 'team-a-1', variableIdentifier: 't' });
  t.is(variable.variable?.version, 0, 'the refused set wrote nothing');
  t.is(variable.variable?.source, 0);
  const history = await bob.call('getVariableHistory', { sessionId: 'team-a-1', variableIdentifier: 't' });
  t.deepEqual(history.entries.map((e) => e.changedBy), ['alice/worker-1']);
});

test('tools: calling needs write, listing needs read, and the call is recorded under the principal', async (t) => {
  const ledger = await startAuthLedger(t, { tools: TOOLS });
  await ledger.as('alice').call('createSession', { sessionId: 'team-a-1' });
  const reply = await ledger.as('alice').call('executeTool', { sessionId: 'team-a-1', toolName: 'bump', parameters: json({ by: 2 }) }, { actor: 'opt' });
  t.deepEqual(JSON.parse(reply.resultJson), { by: 2, actor: 'alice/opt' });
  await expectStatus(t, ledger.as('bob').call('executeTool', { sessionId: 'team-a-1', toolName: 'bump' }), status.PERMISSION_DENIED);
  t.deepEqual((await ledger.as('bob').call('listTools', { sessionId: 'team-a-1' })).tools.map((s) => s.name), ['bump', 'setx']);
  await expectStatus(t, ledger.as('carol').call('listTools', { sessionId: 'team-a-1' }), status.PERMISSION_DENIED);
  // Global tools (no session) are listed to any principal.
  t.deepEqual((await ledger.as('carol').call('listTools', {})).tools.map((s) => s.name), ['bump', 'setx']);
  await ledger.server.toolHub.idle();
  t.deepEqual(
    toolEvents(ledger).map((e) => [e.kind, e.actor]),
    [
      ['tool_called', 'alice/opt'],
      ['tool_completed', 'alice/opt'],
    ],
  );
  // A server-side tool writes on behalf of its caller: the log names both.
  await ledger.as('alice').call('registerVariable', { sessionId: 'team-a-1', name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(0) });
  await ledger.as('alice').call('executeTool', { sessionId: 'team-a-1', toolName: 'setx', parameters: json({ to: 3 }) });
  t.is((await ledger.as('bob').call('getVariable', { sessionId: 'team-a-1', identifier: 'x' })).modifiedBy, 'alice/tool:setx');
});

test('a worker serves tools only for sessions it may write, global tools only as admin', async (t) => {
  const ledger = await startAuthLedger(t);
  await ledger.as('alice').call('createSession', { sessionId: 'team-a-1' });
  const intruder = openWorker(t, ledger.as('carol'));
  void intruder.declare({ workerId: 'evil', sessionId: 'team-a-1', tools: [{ name: 'steal' }] });
  t.is((await intruder.closed)?.code, status.PERMISSION_DENIED);
  const reader = openWorker(t, ledger.as('bob'));
  void reader.declare({ workerId: 'ro', sessionId: 'team-a-1', tools: [{ name: 'steal' }] });
  t.is((await reader.closed)?.code, status.PERMISSION_DENIED);
  const global = openWorker(t, ledger.as('alice'));
  void global.declare({ workerId: 'g', tools: [{ name: 'everywhere' }] });
  t.is((await global.closed)?.code, status.PERMISSION_DENIED);
  t.deepEqual((await ledger.as('root').call('listTools', { sessionId: 'team-a-1' })).tools, [], 'no refused declaration took effect');

  const own = openWorker(t, ledger.as('alice'));
  t.deepEqual((await own.declare({ workerId: 'a1', sessionId: 'team-a-1', tools: [{ name: 'mine' }] })).tools, ['mine']);
  const admin = openWorker(t, ledger.as('root'));
  t.deepEqual((await admin.declare({ workerId: 'r1', tools: [{ name: 'shared' }] })).tools, ['shared']);
  t.deepEqual((await ledger.as('bob').call('listTools', { sessionId: 'team-a-1' })).tools.map((s) => s.name), ['mine', 'shared']);

  // A later declaration outside its grants ends the stream, and its earlier tools go with it.
  void own.declare({ sessionId: 'team-b-1', tools: [{ name: 'reach' }] });
  t.is((await own.closed)?.code, status.PERMISSION_DENIED);
  await until(() => ledger.server.toolHub.list('team-a-1').length === 1, "the worker's tools are removed");
  t.deepEqual(ledger.server.toolHub.list('team-a-1').map((s) => s.name), ['shared']);
});

test('a worker cannot replace a server-side tool, even for its own session and without auth', async (t) => {
  const ledger = await startLedger({ tools: TOOLS });
  t.teardown(() => ledger.stop());
  await ledger.rpc.call('createSession', { sessionId: 'victim' });
  const workerRpc = new LedgerRpc(ledger.address);
  t.teardown(() => workerRpc.close());
  const attacker = openWorker(t, workerRpc);
  void attacker.declare({ workerId: 'evil', sessionId: 'victim', tools: [{ name: 'bump' }] });
  const refused = await attacker.closed;
  t.is(refused?.code, status.ALREADY_EXISTS);
  t.regex(refused?.details ?? '', /server-side tool/);
  const reply = await ledger.rpc.call('executeTool', { sessionId: 'victim', toolName: 'bump', parameters: json({ by: 1 }) }, { actor: 'victim-user' });
  t.deepEqual(JSON.parse(reply.resultJson), { by: 1, actor: 'victim-user' }, 'the server ran its own tool');
  t.is(attacker.invocations.length, 0, 'the attacker saw no call');
});

type Ctor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client;
function serviceClient(protoFile: string, path: readonly string[]): Ctor {
  let node: unknown = loadPackageDefinition(loadSync(protoFile, { keepCase: true, enums: String, defaults: true, oneofs: true }));
  for (const part of path) node = (node as Record<string, unknown>)[part];
  return node as Ctor;
}
const require = createRequire(import.meta.url);
const REFLECTION_PROTO = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto/grpc/reflection/v1/reflection.proto');

test('health stays open; reflection needs a token', async (t) => {
  const ledger = await startAuthLedger(t);
  const Health = serviceClient(healthProtoPath, ['grpc', 'health', 'v1', 'Health']);
  const health = new Health(ledger.address, credentials.createInsecure()) as Client & {
    Check(request: object, callback: (error: ServiceError | null, reply?: { status: string }) => void): void;
  };
  t.teardown(() => health.close());
  const checked = await new Promise<{ status: string } | undefined>((resolve, reject) => health.Check({ service: '' }, (e, r) => (e ? reject(e) : resolve(r))));
  t.is(checked?.status, 'SERVING');

  const Reflection = serviceClient(REFLECTION_PROTO, ['grpc', 'reflection', 'v1', 'ServerReflection']);
  const reflection = new Reflection(ledger.address, credentials.createInsecure()) as Client & {
    ServerReflectionInfo(metadata?: Metadata): NodeJS.ReadWriteStream & { write(request: object): boolean; end(): void };
  };
  t.teardown(() => reflection.close());
  const ask = (metadata: Metadata) =>
    new Promise<unknown>((resolve, reject) => {
      const stream = reflection.ServerReflectionInfo(metadata);
      stream.on('data', resolve);
      stream.on('error', reject);
      stream.write({ list_services: '' });
      stream.end();
    });
  await expectStatus(t, ask(new Metadata()), status.UNAUTHENTICATED);
  const withToken = new Metadata();
  withToken.set('authorization', `Bearer ${TOKENS.carol}`);
  const listed = (await ask(withToken)) as { list_services_response?: { service: { name: string }[] } };
  t.true(listed.list_services_response?.service.some((s) => s.name === 'varledger.v1.Ledger'));
});
