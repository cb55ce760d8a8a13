/**
 * The part of grpcurl the README uses, for running its examples in tests
 * (grpcurl itself is neither on npm nor in Debian): `grpcurl -plaintext
 * [-H 'name: value']… [-d JSON|@] ADDRESS SERVICE/METHOD`. Like grpcurl it
 * learns every type from the server's reflection service, reads the request
 * as protojson (strict: unknown fields and enum names are errors; proto
 * names and JSON names both accepted), prints each reply as JSON, and on an
 * error status prints `ERROR:` with the code and exits 64 + code.
 *
 * The README addresses a server on the default port; when README_SERVER is
 * set, an address ending in `:50051` is sent there instead (tests listen on
 * port 0).
 */
import { readFileSync } from 'node:fs';
import { credentials, Metadata, makeGenericClientConstructor, status, type ServiceError } from '@grpc/grpc-js';
import { create, createFileRegistry, fromBinary, fromJson, toBinary, toJson, type DescMethod, type JsonValue } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { reflect } from './reflection-client.js';

class UsageError extends Error {}

interface Invocation {
  readonly headers: Array<[string, string]>;
  readonly data: string | undefined;
  readonly address: string;
  readonly method: string;
}

function parseArgs(argv: readonly string[]): Invocation {
  const headers: Array<[string, string]> = [];
  let data: string | undefined;
  let plaintext = false;
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    if (arg === '-plaintext') plaintext = true;
    else if (arg === '-H') {
      const header = value();
      const colon = header.indexOf(':');
      if (colon < 1) throw new UsageError(`bad header ${JSON.stringify(header)}`);
      headers.push([header.slice(0, colon).trim().toLowerCase(), header.slice(colon + 1).trim()]);
    } else if (arg === '-d') data = value();
    else if (arg.startsWith('-')) throw new UsageError(`flag ${arg} is not supported by this stand-in`);
    else positional.push(arg);
  }
  if (!plaintext) throw new UsageError('only -plaintext is supported');
  const [address, method, ...rest] = positional;
  if (address === undefined || method === undefined || rest.length > 0) throw new UsageError('usage: grpcurl -plaintext [-H h]… [-d data] ADDRESS SERVICE/METHOD');
  const target = process.env.README_SERVER && address.endsWith(':50051') ? process.env.README_SERVER : address;
  return { headers, data: data === '@' ? readFileSync(0, 'utf8') : data, address: target, method };
}

/** A registry is built from files whose imports come before them. */
function dependenciesFirst<F extends { name: string; dependency: string[] }>(files: F[]): F[] {
  const ordered: F[] = [];
  const placed = new Set<string>();
  let rest = files;
  while (rest.length > 0) {
    const ready = rest.filter((f) => f.dependency.every((d) => placed.has(d)));
    if (ready.length === 0) throw new Error(`unresolved imports in ${rest.map((f) => f.name).join(', ')}`);
    for (const f of ready) {
      ordered.push(f);
      placed.add(f.name);
    }
    rest = rest.filter((f) => !placed.has(f.name));
  }
  return ordered;
}

async function resolveMethod(address: string, name: string): Promise<{ method: DescMethod; registry: ReturnType<typeof createFileRegistry> }> {
  const separator = name.lastIndexOf('/') >= 0 ? name.lastIndexOf('/') : name.lastIndexOf('.');
  const serviceName = name.slice(0, separator);
  const methodName = name.slice(separator + 1);
  const { files } = await reflect(address, [serviceName]);
  const set = create(FileDescriptorSetSchema, { file: dependenciesFirst([...files.values()].map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes))) });
  const registry = createFileRegistry(set);
  const service = registry.getService(serviceName);
  const method = service?.methods.find((m) => m.name === methodName);
  if (!method) throw new UsageError(`${name} not found through reflection`);
  return { method, registry };
}

async function main(): Promise<number> {
  const call = parseArgs(process.argv.slice(2));
  const { method, registry } = await resolveMethod(call.address, call.method);
  const request = fromJson(method.input, (call.data === undefined ? {} : JSON.parse(call.data)) as JsonValue, { registry });
  const metadata = new Metadata();
  for (const [name, value] of call.headers) metadata.add(name, value);
  const path = `/${method.parent.typeName}/${method.name}`;
  const Client = makeGenericClientConstructor({}, method.parent.typeName);
  const client = new Client(call.address, credentials.createInsecure());
  const serialize = (m: typeof request) => Buffer.from(toBinary(method.input, m));
  const deserialize = (bytes: Buffer) => fromBinary(method.output, bytes);
  const print = (reply: ReturnType<typeof deserialize>) =>
    process.stdout.write(`${JSON.stringify(toJson(method.output, reply, { registry }), null, 2)}\n`);
  try {
    if (method.methodKind === 'unary') {
      const reply = await new Promise<ReturnType<typeof deserialize>>((resolve, reject) =>
        client.makeUnaryRequest(path, serialize, deserialize, request, metadata, (error, value) => (error || !value ? reject(error) : resolve(value))),
      );
      print(reply);
    } else if (method.methodKind === 'server_streaming') {
      const stream = client.makeServerStreamRequest(path, serialize, deserialize, request, metadata);
      await new Promise<void>((resolve, reject) => {
        stream.on('data', print);
        stream.on('error', reject);
        stream.on('end', resolve);
      });
    } else {
      throw new UsageError(`${method.methodKind} calls are not supported by this stand-in`);
    }
    return 0;
  } catch (error) {
    const e = error as ServiceError;
    if (typeof e.code !== 'number') throw error;
    process.stderr.write(`ERROR:\n  Code: ${status[e.code]}\n  Message: ${e.details}\n`);
    return 64 + e.code;
  } finally {
    client.close();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`grpcurl: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
