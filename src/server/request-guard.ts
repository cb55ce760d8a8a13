/**
 * What reaches no handler: request bodies that do not decode and request
 * headers over the size limit, for every service on the port (Ledger,
 * Snakepit's BridgeService, health, reflection).
 *
 * grpc-js answers INTERNAL "Error deserializing request" when a method's
 * `requestDeserialize` throws, and has no option to cap the size of request
 * headers. So every service is registered through `GuardedServer`, whose
 * deserializers never throw — a body that does not decode becomes a
 * `MalformedRequest` — and the interceptor below answers it with
 * INVALID_ARGUMENT, and headers over the limit with RESOURCE_EXHAUSTED,
 * before any handler runs.
 */
import {
  Server,
  ServerInterceptingCall,
  status,
  type Metadata,
  type ServerInterceptor,
  type ServerOptions,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';

/** Largest request header list accepted by default, counted as HTTP/2 does. */
export const DEFAULT_MAX_METADATA_BYTES = 16 * 1024;

/** HTTP/2 counts each header as name + value + 32 bytes (RFC 7540 §6.5.2). */
const HEADER_OVERHEAD = 32;

/** Stands in for a request body its message type could not decode. */
class MalformedRequest {
  constructor(readonly reason: string) {}
}

function tolerant(deserialize: (bytes: Buffer) => unknown): (bytes: Buffer) => unknown {
  return (bytes) => {
    try {
      return deserialize(bytes);
    } catch (error) {
      return new MalformedRequest(error instanceof Error ? error.message : String(error));
    }
  };
}

/** The definition with deserializers that return a MalformedRequest instead of throwing. */
function guardDefinition<D extends ServiceDefinition>(definition: D): D {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [name, { ...method, requestDeserialize: tolerant(method.requestDeserialize) }]),
  ) as D;
}

/** Size of the request headers as HTTP/2 counts a header list. Linear in their size. */
export function metadataSize(metadata: Metadata): number {
  let size = 0;
  for (const [key, value] of Object.entries(metadata.toHttp2Headers())) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) size += key.length + String(v).length + HEADER_OVERHEAD;
  }
  return size;
}

/** Refuses what GuardedServer's deserializers marked, and header lists over `maxMetadataBytes`. */
export function requestGuard(maxMetadataBytes: number): ServerInterceptor {
  return (method, call) => {
    let refused = false;
    const refuse = (code: status, details: string) => {
      refused = true;
      call.sendStatus({ code, details });
    };
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, forward) => {
            const size = metadataSize(metadata);
            if (size > maxMetadataBytes) {
              refuse(status.RESOURCE_EXHAUSTED, `Request metadata is ${size} bytes; the limit is ${maxMetadataBytes}`);
              return;
            }
            forward(metadata);
          },
          // Neither a refused message nor anything after it reaches the handler.
          onReceiveMessage: (message, forward) => {
            if (refused) return;
            if (message instanceof MalformedRequest) {
              refuse(status.INVALID_ARGUMENT, `Malformed request for ${method.path}: ${message.reason}`);
              return;
            }
            forward(message);
          },
          onReceiveHalfClose: (forward) => {
            if (!refused) forward();
          },
        }),
    });
  };
}

export interface GuardedServerOptions extends ServerOptions {
  /** Largest request header list; default DEFAULT_MAX_METADATA_BYTES. */
  readonly maxMetadataBytes?: number;
}

/** A grpc-js Server whose every service, whoever adds it, goes through the request guard. */
export class GuardedServer extends Server {
  constructor({ maxMetadataBytes = DEFAULT_MAX_METADATA_BYTES, ...options }: GuardedServerOptions = {}) {
    super({ ...options, interceptors: [requestGuard(maxMetadataBytes), ...(options.interceptors ?? [])] });
  }

  override addService(service: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    super.addService(guardDefinition(service), implementation);
  }
}
