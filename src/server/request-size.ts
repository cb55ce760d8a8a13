/**
 * Request sizes for the byte limit. The interceptor sees decoded messages
 * only, so the service definitions the server registers note each request's
 * wire size on the decoded object (a symbol: invisible to handlers, encoders
 * and equality).
 */
const SIZE = Symbol('request bytes');

interface Deserializing {
  readonly requestDeserialize: (value: Buffer) => unknown;
}

/** The definition with every request's wire size noted. */
export function withRequestSizes<D extends Record<string, Deserializing>>(definition: D): D {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (buffer: Buffer) => {
          const message = method.requestDeserialize(buffer);
          if (typeof message === 'object' && message !== null) Object.defineProperty(message, SIZE, { value: buffer.length });
          return message;
        },
      },
    ]),
  ) as D;
}

/** The wire size of a request decoded by a `withRequestSizes` definition; 0 if unknown. */
export function requestBytes(message: unknown): number {
  if (typeof message !== 'object' || message === null) return 0;
  const size = (message as { [SIZE]?: unknown })[SIZE];
  return typeof size === 'number' ? size : 0;
}
