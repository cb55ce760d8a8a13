import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { credentials, loadPackageDefinition, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import test from 'ava';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { startLedger } from '../helpers/harness.js';

const require = createRequire(import.meta.url);
const REFLECTION_PROTO = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto/grpc/reflection/v1/reflection.proto');

type ClientConstructor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client;

function serviceConstructor(protoFile: string, path: readonly string[]): ClientConstructor {
  const definition = loadSync(protoFile, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  let node: unknown = loadPackageDefinition(definition);
  for (const part of path) node = (node as Record<string, unknown>)[part];
  if (typeof node !== 'function') throw new Error(`${path.join('.')} not found in ${protoFile}`);
  return node as ClientConstructor;
}

interface HealthClient extends Client {
  Check(request: { service: string }, callback: (error: ServiceError | null, reply?: { status: string }) => void): void;
}

test('grpc.health.v1.Health/Check answers SERVING for the server and the Ledger service', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const Health = serviceConstructor(healthProtoPath, ['grpc', 'health', 'v1', 'Health']);
  const client = new Health(ledger.address, credentials.createInsecure()) as HealthClient;
  t.teardown(() => client.close());
  const check = (service: string) =>
    new Promise<{ status: string }>((resolve, reject) =>
      client.Check({ service }, (error, reply) => (error || !reply ? reject(error) : resolve(reply))),
    );
  t.is((await check('')).status, 'SERVING');
  t.is((await check('varledger.v1.Ledger')).status, 'SERVING');
});

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

test('server reflection lists the Ledger and health services and serves the Ledger descriptor', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const Reflection = serviceConstructor(REFLECTION_PROTO, ['grpc', 'reflection', 'v1', 'ServerReflection']);
  const client = new Reflection(ledger.address, credentials.createInsecure()) as Client & {
    ServerReflectionInfo(): NodeJS.ReadWriteStream & { write(request: object): boolean; end(): void };
  };
  t.teardown(() => client.close());
  const stream = client.ServerReflectionInfo();
  const responses: ReflectionResponse[] = [];
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', (response: ReflectionResponse) => responses.push(response));
    stream.on('error', reject);
    stream.on('end', resolve);
  });
  stream.write({ list_services: '' });
  stream.write({ file_containing_symbol: 'varledger.v1.Ledger' });
  stream.end();
  await done;
  t.is(responses.length, 2);
  const names = responses[0]?.list_services_response?.service.map((s) => s.name) ?? [];
  t.true(names.includes('varledger.v1.Ledger'), names.join(', '));
  t.true(names.includes('grpc.health.v1.Health'), names.join(', '));
  const files = responses[1]?.file_descriptor_response?.file_descriptor_proto ?? [];
  t.true(files.length > 0);
  // The descriptor of the file that defines the service: package, service and its methods.
  const ledgerFile = files.map((f) => Buffer.from(f)).find((f) => f.includes('varledger.v1') && f.includes('Ledger'));
  t.truthy(ledgerFile, 'a file descriptor declares package varledger.v1 and the Ledger service');
  for (const method of ['CreateSession', 'RegisterVariable', 'GetVariable', 'Commit']) t.true(ledgerFile?.includes(method), method);
});
