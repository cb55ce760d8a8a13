/**
 * The service definitions the server registers: the generated ones, with two
 * changes. Requests are decoded with strict UTF-8, so a string that is not
 * valid UTF-8 is refused instead of silently becoming U+FFFD; and watch
 * streams pass already-encoded messages through, so one encoding serves
 * every watcher that receives it.
 */
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { DomainError } from '../domain/index.js';
import { LedgerService as Generated, WatchResponse } from '../gen/varledger/v1/ledger.js';

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class InvalidUtf8 extends Error {}

const decodeStrictly = (bytes: Uint8Array): string => {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new InvalidUtf8();
  }
};

const invalidUtf8 = Symbol('invalid UTF-8');

/** Throws INVALID_ARGUMENT if the request held a string that was not valid UTF-8. */
export function checkUtf8(request: object): void {
  if (invalidUtf8 in request) {
    throw new DomainError('invalid_request', 'The request holds a string that is not valid UTF-8');
  }
}

function strict<T extends object>(decode: (input: BinaryReader | Uint8Array) => T) {
  return (buffer: Buffer): T => {
    try {
      return decode(new BinaryReader(buffer, decodeStrictly));
    } catch (error) {
      if (!(error instanceof InvalidUtf8)) throw error;
      // Decode leniently so the handler can answer with a clear status (see checkUtf8).
      return Object.assign(decode(buffer), { [invalidUtf8]: true });
    }
  };
}

interface MethodDefinition {
  readonly requestDeserialize: (value: Buffer) => unknown;
}

/** A generated definition whose every request is decoded with strict UTF-8. */
export function withStrictUtf8<D extends Record<string, MethodDefinition>>(definition: D): D {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => {
      const decode = (input: BinaryReader | Uint8Array) => method.requestDeserialize(input as Buffer) as object;
      return [name, { ...method, requestDeserialize: strict(decode) }];
    }),
  ) as D;
}

/** A response serializer that sends pre-encoded bytes as they are and encodes anything else. */
export function passEncoded<T>(encode: (value: T) => Buffer): (value: T | Uint8Array) => Buffer {
  return (value) => (value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : encode(value));
}

const strictDefinition = withStrictUtf8(Generated);

export const LedgerServiceDefinition = {
  ...strictDefinition,
  watchVariables: {
    ...strictDefinition.watchVariables,
    responseSerialize: passEncoded((value: WatchResponse) => Buffer.from(WatchResponse.encode(value).finish())),
  },
} as const;
