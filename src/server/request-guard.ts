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
  type StatusObject,
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

/** What an interceptor's sendStatus receives (grpc-js does not export its name). */
type PartialStatusObject = Pick<StatusObject, 'code' | 'details'> & { metadata?: StatusObject['metadata'] | null };

/**
 * Statuses grpc-js itself gives to request bodies it cannot read, as the
 * caller should see them: a body that does not decompress (INTERNAL from
 * grpc-js) and a unary or server-streaming call without a whole message
 * (UNIMPLEMENTED "Received no request message") are malformed requests.
 * Matched by grpc-js's text; test/api/malformed-requests.test.ts pins it.
 */
function asCallerError(path: string, s: PartialStatusObject): PartialStatusObject {
  if (s.code === status.INTERNAL && s.details?.startsWith('Failed to decompress')) {
    return { ...s, code: status.INVALID_ARGUMENT, details: `Malformed request for ${path}: the body does not decompress` };
  }
  if (s.code === status.UNIMPLEMENTED && s.details?.startsWith('Received no request message')) {
    return { ...s, code: status.INVALID_ARGUMENT, details: `Malformed request for ${path}: no complete request message` };
  }
  return s;
}

/** Refuses what GuardedServer's deserializers marked, and header lists over `maxMetadataBytes`. */
export function requestGuard(maxMetadataBytes: number): ServerInterceptor {
  return (method, call) => {
    let refused = false;
    const refuse = (code: status, details: string) => {
      refused = true;
      call.sendStatus({ code, details });
    };
    // grpc-js's base call reports a failed decompression to itself, below
    // every interceptor; this guard is the first interceptor (after an
    // observer that hands the base call on), so `call` is that base call and
    // its own sendStatus can be wrapped.
    const sendStatus = call.sendStatus.bind(call);
    call.sendStatus = (s) => sendStatus(asCallerError(method.path, s));
    return new ServerInterceptingCall(call, {
      sendStatus: (s, next) => next(asCallerError(method.path, s)),
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
  /**
   * Sees every call before the guard (metrics-interceptor.ts). It must hand
   * on the call it is given — grpc-js's base call — so that the guard can
   * still wrap that call's own statuses.
   */
  readonly observer?: ServerInterceptor;
}

/** A grpc-js Server whose every service, whoever adds it, goes through the request guard. */
export class GuardedServer extends Server {
  constructor({ maxMetadataBytes = DEFAULT_MAX_METADATA_BYTES, observer, ...options }: GuardedServerOptions = {}) {
    super({ ...options, interceptors: [...(observer ? [observer] : []), requestGuard(maxMetadataBytes), ...(options.interceptors ?? [])] });
  }

  override addService(service: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    super.addService(guardDefinition(service), implementation);
  }
}
