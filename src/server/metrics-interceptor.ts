/**
 * Times every call on the port — varledger.v1.Ledger (tools and watch
 * streams included), the Snakepit bridge, health, reflection — and reports
 * its final status once, as the client sees it.
 *
 * Why it wraps the base call instead of being an ordinary interceptor:
 * grpc-js sends some statuses from its base call to itself, below every
 * interceptor (a deadline passing, a body that does not decompress), and
 * the call gate (call-gate.ts) refuses calls on the base call directly. The
 * one place that sees every status is the base call's `sendStatus`, so this
 * interceptor goes first (GuardedServer's `observer`), wraps that method and
 * `start` (for cancellations), and hands the same base call on: the gate
 * after it still wraps the base call, and its rewritten statuses (malformed
 * bodies) reach this wrapper as the client will see them. A stream the
 * client cancels (a watch it stops) ends with CANCELLED.
 */
import { status, type ServerInterceptingCall, type ServerInterceptingCallInterface, type ServerInterceptor } from '@grpc/grpc-js';

export type CallType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

/** What the metrics hear of calls; must not throw. */
export interface RpcRecorder {
  /** A call ended: its path (`/package.Service/Method`), kind, final status code and duration. */
  callEnded(path: string, type: CallType, code: status, seconds: number): void;
}

type ServerListener = Parameters<ServerInterceptingCallInterface['start']>[0];

function callType(requestStream: boolean, responseStream: boolean): CallType {
  if (requestStream) return responseStream ? 'bidi_stream' : 'client_stream';
  return responseStream ? 'server_stream' : 'unary';
}

export function metricsInterceptor(recorder: RpcRecorder): ServerInterceptor {
  return (method, call) => {
    const started = performance.now();
    const type = callType(method.requestStream, method.responseStream);
    let ended = false;
    const end = (code: status) => {
      if (ended) return;
      ended = true;
      recorder.callEnded(method.path, type, code, (performance.now() - started) / 1000);
    };
    const sendStatus = call.sendStatus.bind(call);
    call.sendStatus = (s) => {
      end(s.code);
      sendStatus(s);
    };
    const start = call.start.bind(call);
    // grpc-js also calls onCancel after a status is sent; `end` counts a call once, by what came first.
    call.start = (listener: ServerListener) =>
      start({
        onReceiveMetadata: (metadata) => listener.onReceiveMetadata(metadata),
        onReceiveMessage: (message) => listener.onReceiveMessage(message),
        onReceiveHalfClose: () => listener.onReceiveHalfClose(),
        onCancel: () => {
          end(status.CANCELLED);
          listener.onCancel();
        },
      });
    // grpc-js types the result as its wrapper class, but chains any call (it only calls the interface's methods).
    return call as ServerInterceptingCall;
  };
}
