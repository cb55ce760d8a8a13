/**
 * Server reflection serves the descriptors as buf builds them from proto/:
 * what grpcurl needs to accept the README's JSON. Fetched over real gRPC
 * (grpc.reflection.v1alpha) and decoded with protobufjs' descriptor
 * extension; then a request in the README's style (snake_case names, a
 * metadata map, an enum by name, an optional field) goes through the
 * reflected descriptors, strict protojson as grpcurl reads it, to the server.
 */
import { credentials, makeGenericClientConstructor, Metadata } from '@grpc/grpc-js';
import { create, createFileRegistry, fromBinary, fromJson, toBinary, toJson, type JsonValue } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import test from 'ava';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { FILE_DESCRIPTOR_PROTOS } from '../../src/gen/descriptors.js';
import { startLedger } from '../helpers/harness.js';
import { reflect } from '../helpers/reflection-client.js';

interface DecodedFile {
  name: string;
  package: string;
  dependency: string[];
  messageType: Array<{ name: string; field: Array<{ name: string; jsonName?: string }>; nestedType?: Array<{ name: string; options?: { mapEntry?: boolean } }> }>;
}

const decode = (bytes: Uint8Array) => descriptor.FileDescriptorProto.decode(bytes) as unknown as DecodedFile;

test('reflection serves the proto files by their names, with imports, snake_case fields and MetadataEntry maps', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const { services, files } = await reflect(ledger.address, ['varledger.v1.Ledger', 'snakepit.bridge.BridgeService', 'grpc.health.v1.Health']);
  for (const name of ['varledger.v1.Ledger', 'snakepit.bridge.BridgeService', 'grpc.health.v1.Health']) t.true(services.includes(name), name);
  t.deepEqual([...files.keys()].sort(), [
    'google/protobuf/any.proto',
    'google/protobuf/timestamp.proto',
    'grpc/health/v1/health.proto',
    'snakepit/bridge/snakepit_bridge.proto',
    'varledger/v1/ledger.proto',
  ]);
  // Byte for byte what `buf build` wrote at build time (src/gen/descriptors.ts), comments included.
  for (const base64 of FILE_DESCRIPTOR_PROTOS) {
    const built = Buffer.from(base64, 'base64');
    const name = fromBinary(FileDescriptorProtoSchema, built).name;
    t.true(built.equals(Buffer.from(files.get(name) ?? [])), name);
  }
  const ledgerFile = decode(files.get('varledger/v1/ledger.proto')!);
  t.is(ledgerFile.package, 'varledger.v1');
  t.deepEqual(ledgerFile.dependency, ['google/protobuf/timestamp.proto']);
  t.deepEqual(decode(files.get('snakepit/bridge/snakepit_bridge.proto')!).dependency, ['google/protobuf/any.proto', 'google/protobuf/timestamp.proto']);

  const register = ledgerFile.messageType.find((m) => m.name === 'RegisterVariableRequest');
  t.deepEqual(register?.field.map((f) => f.name), ['session_id', 'name', 'type', 'initial_value', 'constraints', 'metadata', 'description']);
  t.is(register?.field.find((f) => f.name === 'session_id')?.jsonName, 'sessionId');
  const set = ledgerFile.messageType.find((m) => m.name === 'SetVariableRequest');
  t.deepEqual(
    set?.nestedType?.map((n) => [n.name, n.options?.mapEntry]),
    [['MetadataEntry', true]],
  );

  // protobufjs resolves both services and their types from the reflected files alone.
  const root = (protobuf.Root as unknown as { fromDescriptor(set: object): protobuf.Root }).fromDescriptor({ file: [...files.values()].map(decode) });
  const ledgerService = root.lookupService('varledger.v1.Ledger');
  t.truthy(ledgerService.methods.RegisterVariable);
  t.is(root.lookupType(ledgerService.methods.RegisterVariable!.requestType).fields.session_id?.type, 'string');
  const bridge = root.lookupService('snakepit.bridge.BridgeService');
  t.is(root.lookupType(bridge.methods.SetVariables!.requestType).fields.session_id?.type, 'string');
});

test('a README-style JSON request through the reflected descriptors is accepted by the server', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const { files } = await reflect(ledger.address, ['varledger.v1.Ledger']);
  const ordered = ['google/protobuf/timestamp.proto', 'varledger/v1/ledger.proto'].map((name) => fromBinary(FileDescriptorProtoSchema, files.get(name)!));
  const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
  const service = registry.getService('varledger.v1.Ledger')!;
  const Client = makeGenericClientConstructor({}, 'varledger.v1.Ledger');
  const client = new Client(ledger.address, credentials.createInsecure());
  t.teardown(() => client.close());
  const call = (methodName: string, json: JsonValue, actor?: string) => {
    const method = service.methods.find((m) => m.name === methodName)!;
    const request = fromJson(method.input, json, { registry });
    const metadata = new Metadata();
    if (actor) metadata.set('x-varledger-actor', actor);
    return new Promise<JsonValue>((resolve, reject) =>
      client.makeUnaryRequest(
        `/varledger.v1.Ledger/${methodName}`,
        (m: typeof request) => Buffer.from(toBinary(method.input, m)),
        (bytes: Buffer) => fromBinary(method.output, bytes),
        request,
        metadata,
        (error, reply) => (error || !reply ? reject(error) : resolve(toJson(method.output, reply, { registry }))),
      ),
    );
  };
  const registered = await call(
    'RegisterVariable',
    { session_id: 's1', name: 'temperature', type: 'VARIABLE_TYPE_FLOAT', initial_value: { float_value: 0.7 }, constraints: { min: 0, max: 2 } },
    'alice',
  );
  t.like(registered, { sessionId: 's1', name: 'temperature', modifiedBy: 'alice' });
  const set = await call('SetVariable', {
    session_id: 's1',
    identifier: 'temperature',
    value: { float_value: 0.9 },
    metadata: { reason: 'more diverse samples' },
    expected_version: 0,
  });
  t.like(set, { version: '1', value: { floatValue: 0.9 }, metadata: { reason: 'more diverse samples' } });
  // Strict, as grpcurl: a misspelt field is refused before any call.
  t.throws(() => fromJson(service.methods[0]!.input, { sesion_id: 's1' } as JsonValue, { registry }));
});
