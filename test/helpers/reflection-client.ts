/**
 * A server-reflection client over real gRPC (grpc.reflection.v1alpha, the
 * version grpcurl asks first): lists services and fetches file descriptors,
 * following declared imports by file name as grpcurl does. Returns the
 * serialized FileDescriptorProtos exactly as the server sent them.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { credentials, loadPackageDefinition, type Client, type ClientDuplexStream } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';

const require = createRequire(import.meta.url);
const V1ALPHA_PROTO = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto/grpc/reflection/v1alpha/reflection.proto');

interface ReflectionRequest {
  list_services?: string;
  file_containing_symbol?: string;
  file_by_filename?: string;
}

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

type ReflectionStream = ClientDuplexStream<ReflectionRequest, ReflectionResponse>;

function reflectionClient(address: string): Client & { ServerReflectionInfo(): ReflectionStream } {
  const definition = loadSync(V1ALPHA_PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = loadPackageDefinition(definition) as unknown as {
    grpc: { reflection: { v1alpha: { ServerReflection: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client } } };
  };
  const Constructor = pkg.grpc.reflection.v1alpha.ServerReflection;
  return new Constructor(address, credentials.createInsecure()) as Client & { ServerReflectionInfo(): ReflectionStream };
}

/** One reflection stream: requests answered in order. */
class ReflectionSession {
  private readonly waiting: Array<{ resolve(r: ReflectionResponse): void; reject(e: Error): void }> = [];
  private failure: Error | undefined;

  constructor(private readonly stream: ReflectionStream) {
    stream.on('data', (response: ReflectionResponse) => this.waiting.shift()?.resolve(response));
    stream.on('error', (error: Error) => {
      this.failure = error;
      for (const w of this.waiting.splice(0)) w.reject(error);
    });
  }

  ask(request: ReflectionRequest): Promise<ReflectionResponse> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.stream.write(request);
    });
  }
}

export interface Reflected {
  readonly services: string[];
  /** Serialized FileDescriptorProtos by file name: the requested symbols' files and all they import. */
  readonly files: Map<string, Uint8Array>;
}

/** Lists the services and fetches the files defining `symbols`, with their transitive imports. */
export async function reflect(address: string, symbols: readonly string[]): Promise<Reflected> {
  const client = reflectionClient(address);
  const stream = client.ServerReflectionInfo();
  const session = new ReflectionSession(stream);
  try {
    const listed = await session.ask({ list_services: '*' });
    const services = listed.list_services_response?.service.map((s) => s.name) ?? [];
    const files = new Map<string, Uint8Array>();
    const imports = new Map<string, string[]>();
    const add = (response: ReflectionResponse, what: string) => {
      if (response.error_response) throw new Error(`${what}: ${response.error_response.error_message}`);
      for (const bytes of response.file_descriptor_response?.file_descriptor_proto ?? []) {
        const { name, dependency } = fromBinary(FileDescriptorProtoSchema, bytes);
        if (files.has(name)) continue;
        files.set(name, new Uint8Array(bytes));
        imports.set(name, dependency);
      }
    };
    for (const symbol of symbols) add(await session.ask({ file_containing_symbol: symbol }), symbol);
    // Imports the server did not send along are asked for by name.
    const missing = () => [...new Set([...imports.values()].flat())].filter((name) => !files.has(name));
    for (let names = missing(); names.length > 0; names = missing()) {
      for (const name of names) add(await session.ask({ file_by_filename: name }), name);
    }
    return { services, files };
  } finally {
    stream.end();
    client.close();
  }
}
