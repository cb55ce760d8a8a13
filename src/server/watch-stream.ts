/**
 * Connects a server-streaming call to the watch hub: a sink that writes to
 * the call and waits for its 'drain', and a release of the watcher the
 * moment the call is cancelled, closed or fails. Shared by the native and
 * the Snakepit-compatible WatchVariables.
 */
import { status, type ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { WatchSink } from '../watch/watch-hub.js';
import { toGrpcError } from './status-table.js';

/**
 * Runs `subscribe` with a sink over `call`; what it returns (or resolves to)
 * stops the watcher. If `subscribe` throws or rejects (bad request, unknown
 * session), the call ends with the mapped status. `write` sends one encoded message (the
 * default passes it to the call, whose serializer lets bytes through).
 */
export function serveWatch<Req, Res>(
  call: ServerWritableStream<Req, Res>,
  logger: Logger,
  subscribe: (sink: WatchSink) => (() => void) | Promise<() => void>,
  write: (bytes: Uint8Array) => boolean = (bytes) => call.write(bytes as unknown as Res),
): void {
  let unsubscribe: (() => void) | undefined;
  let released = false;
  const release = () => {
    released = true;
    unsubscribe?.();
    unsubscribe = undefined;
  };
  call.on('cancelled', release);
  call.on('close', release);
  call.on('error', release);
  const sink: WatchSink = {
    write,
    onDrain: (listener) => {
      call.on('drain', listener);
      return () => call.off('drain', listener);
    },
    end: () => call.end(),
    abort: (reason) => call.emit('error', { code: status.UNAVAILABLE, details: reason }),
  };
  void (async () => {
    try {
      const stop = await subscribe(sink);
      // The client may have gone while the subscription was being set up.
      if (released) stop();
      else unsubscribe = stop;
    } catch (error) {
      call.emit('error', toGrpcError(error, logger));
    }
  })();
}
