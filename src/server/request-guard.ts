/**
 * What reaches no handler: request bodies that do not decode and request
 * headers over the size limit, for every service on the port (Ledger,
 * Snakepit's BridgeService, health, reflection).
 *
 * grpc-js answers INTERNAL "Error deserializing request" when a method's
 * `requestDeserialize` throws, and has no option to cap the size of request
 * headers. So every service is registered through `GuardedServer`
 * (call-gate.ts), whose deserializers never throw — a body that does not
 * decode becomes a `MalformedRequest` — and whose one interceptor answers it
 * with INVALID_ARGUMENT, and headers over the limit with RESOURCE_EXHAUSTED,
 * before any handler runs. This file holds those checks; call-gate.ts runs
 * them.
 */
import { status, type Metadata, type StatusObject, type ServiceDefinition } from '@grpc/grpc-js';

/** Largest request header list accepted by default, counted as HTTP/2 does. */
export const DEFAULT_MAX_METADATA_BYTES = 16 * 1024;

/** HTTP/2 counts each header as name + value + 32 bytes (RFC 7540 §6.5.2). */
const HEADER_OVERHEAD = 32;

/** Stands in for a request body its message type could not decode. */
export class MalformedRequest {
  constructor(readonly reason: string) {}
}

/**
 * A decoded request with its wire size (the byte limit counts it). The
 * interceptor unwraps it, so handlers get the message itself: the size
 * travels beside the message instead of being written onto it.
 */
export class DecodedRequest {
  constructor(
    readonly message: unknown,
    readonly bytes: number,
  ) {}
}

function tolerant(deserialize: (bytes: Buffer) => unknown): (bytes: Buffer) => DecodedRequest | MalformedRequest {
  return (bytes) => {
    try {
      return new DecodedRequest(deserialize(bytes), bytes.length);
    } catch (error) {
      return new MalformedRequest(error instanceof Error ? error.message : String(error));
    }
  };
}

/** The definition with deserializers that never throw: a DecodedRequest, or a MalformedRequest for a body that does not decode. */
export function guardDefinition<D extends ServiceDefinition>(definition: D): D {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [name, { ...method, requestDeserialize: tolerant(method.requestDeserialize) }]),
  ) as D;
}

/** Length of a header value as sent: binary (`-bin`) values travel base64-encoded, with padding. */
const sentLength = (value: string | Buffer): number => (typeof value === 'string' ? value.length : 4 * Math.ceil(value.length / 3));

/**
 * Size of the request headers as HTTP/2 counts a header list (pseudo-headers
 * aside, as grpc-js keeps them out of the metadata). Linear in their size;
 * reads the values in place instead of re-encoding them.
 */
export function metadataSize(metadata: Metadata): number {
  let size = 0;
  const headers = metadata.toJSON();
  for (const key in headers) {
    if (key.startsWith(':')) continue;
    for (const value of headers[key] ?? []) size += key.length + sentLength(value) + HEADER_OVERHEAD;
  }
  return size;
}

/** What an interceptor's sendStatus receives (grpc-js does not export its name). */
export type PartialStatusObject = Pick<StatusObject, 'code' | 'details'> & { metadata?: StatusObject['metadata'] | null };

/**
 * Statuses grpc-js itself gives to request bodies it cannot read, as the
 * caller should see them: a body that does not decompress (INTERNAL from
 * grpc-js) and a unary or server-streaming call without a whole message
 * (UNIMPLEMENTED "Received no request message") are malformed requests.
 * Matched by grpc-js's text; test/api/malformed-requests.test.ts pins it.
 */
export function asCallerError(path: string, s: PartialStatusObject): PartialStatusObject {
  if (s.code === status.INTERNAL && s.details?.startsWith('Failed to decompress')) {
    return { ...s, code: status.INVALID_ARGUMENT, details: `Malformed request for ${path}: the body does not decompress` };
  }
  if (s.code === status.UNIMPLEMENTED && s.details?.startsWith('Received no request message')) {
    return { ...s, code: status.INVALID_ARGUMENT, details: `Malformed request for ${path}: no complete request message` };
  }
  // grpc-js answers a grpc-timeout header it cannot parse with INTERNAL; it is the caller's header.
  if (s.code === status.INTERNAL && s.details?.startsWith('Invalid grpc-timeout value')) {
    return { ...s, code: status.INVALID_ARGUMENT, details: `Malformed request for ${path}: the grpc-timeout header is not a timeout (digits and one of H M S m u n)` };
  }
  return s;
}

/** The refusal of a body that did not decode. */
export const malformed = (path: string, request: MalformedRequest): PartialStatusObject => ({
  code: status.INVALID_ARGUMENT,
  details: `Malformed request for ${path}: ${request.reason}`,
});

/** The refusal of headers over the limit, or undefined when they fit. */
export function oversizedMetadata(metadata: Metadata, maxMetadataBytes: number): PartialStatusObject | undefined {
  const size = metadataSize(metadata);
  return size > maxMetadataBytes ? { code: status.RESOURCE_EXHAUSTED, details: `Request metadata is ${size} bytes; the limit is ${maxMetadataBytes}` } : undefined;
}
