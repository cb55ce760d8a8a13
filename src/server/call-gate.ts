/**
 * The one interceptor every call on the port passes before its handler:
 * the request guard's checks (request-guard.ts: headers over the size
 * limit, bodies that do not decode) and then admission — who the caller is
 * and whether the call may go on (auth-interceptor.ts) — in a single layer.
 *
 * Why one hand-written layer instead of a grpc-js `ServerInterceptingCall`
 * per concern: each such layer costs every call a wrapper call, a responder,
 * a listener wrapper with pending-event queues and a handful of closures,
 * and an empty response Metadata when the reply goes out — about as much as
 * the checks themselves, on every unary call. The checks here are
 * synchronous, so none of that queueing is needed: `GatedCall` is one
 * object per call that is both the call the handler talks to and the
 * listener the base call reports to, and it forwards in place.
 *
 * It must see the call grpc-js's base call (or an observer that hands that
 * call on, metrics-interceptor.ts): grpc-js sends some statuses from its base
 * call to itself, below every interceptor (a body that does not decompress),
 * so the gate wraps that call's own `sendStatus` to give them the caller's
 * code (asCallerError).
 */
import {
  Server,
  type Metadata,
  type ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerOptions,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import {
  asCallerError,
  DecodedRequest,
  DEFAULT_MAX_METADATA_BYTES,
  guardDefinition,
  malformed,
  MalformedRequest,
  oversizedMetadata,
  type PartialStatusObject,
} from './request-guard.js';

type CallListener = Parameters<ServerInterceptingCallInterface['start']>[0];

/**
 * Decides per call whether it may go on, after the guard's checks. `S` is
 * what it learns at the headers and needs again at each message (the
 * caller's identity).
 */
export interface CallAdmission<S> {
  /** At the request headers: the call's state, or throws the refusal. */
  admitHeaders(path: string, metadata: Metadata, call: ServerInterceptingCallInterface): S;
  /**
   * At each request message (`bytes`: its wire size); throws the refusal.
   * Returns a promise when the decision needs a lookup (is the session an
   * ended one the server no longer holds in memory?): the message, and
   * everything the caller sends after it, waits for it; it rejects with the
   * refusal. Most calls decide synchronously and pay nothing for this.
   */
  admitMessage(path: string, admitted: S, message: unknown, bytes: number): void | Promise<void>;
  /**
   * Once per call, at its first reply message, its status or its cancel,
   * whichever comes first: what admission held for the call (a session
   * place) can go. Optional.
   */
  answered?(admitted: S | undefined): void;
  /** The status a refusal thrown above gets (logged and counted there); `admitted` is undefined for one thrown at the headers. */
  refusal(error: unknown, path: string, admitted: S | undefined, message: unknown, call: ServerInterceptingCallInterface): PartialStatusObject;
}

interface GateOptions<S> {
  readonly maxMetadataBytes: number;
  readonly admission: CallAdmission<S> | undefined;
}

/** One call behind the gate: the call its handler talks to, and the listener grpc-js's base call reports to. */
class GatedCall<S> implements ServerInterceptingCallInterface, CallListener {
  private listener: CallListener | undefined;
  private admitted: S | undefined;
  /** Refused or cancelled: nothing more reaches the handler. */
  private closed = false;
  /** Set once a message waits for an asynchronous admission: what the caller sends next waits behind it, in order. */
  private waiting: Promise<void> | undefined;
  /** `answered` was called. */
  private answeredOnce = false;

  constructor(
    private readonly base: ServerInterceptingCallInterface,
    private readonly path: string,
    private readonly options: GateOptions<S>,
  ) {
    const sendStatus = base.sendStatus;
    base.sendStatus = (s) => {
      this.answer();
      sendStatus.call(base, asCallerError(path, s));
    };
  }

  private answer(): void {
    if (this.answeredOnce) return;
    this.answeredOnce = true;
    const admission = this.options.admission;
    if (!admission?.answered) return;
    // An admission still deciding (cancelled meanwhile) may yet take something for the call: release after it.
    if (this.waiting) void this.waiting.then(() => admission.answered?.(this.admitted));
    else admission.answered(this.admitted);
  }

  private refuse(s: PartialStatusObject): void {
    this.closed = true;
    this.base.sendStatus(s);
  }

  // What the base call reports, checked, then handed to the handler's listener.

  onReceiveMetadata(metadata: Metadata): void {
    if (this.closed) return;
    const oversized = oversizedMetadata(metadata, this.options.maxMetadataBytes);
    if (oversized) return this.refuse(oversized);
    const admission = this.options.admission;
    if (admission) {
      try {
        this.admitted = admission.admitHeaders(this.path, metadata, this.base);
      } catch (error) {
        return this.refuse(admission.refusal(error, this.path, undefined, undefined, this.base));
      }
    }
    this.listener?.onReceiveMetadata(metadata);
  }

  onReceiveMessage(received: unknown): void {
    const waiting = this.waiting ? this.waiting.then(() => this.receiveMessage(received)) : this.receiveMessage(received);
    this.waiting = waiting;
    // Settled and nothing queued behind it: later events go straight through again.
    void waiting?.then(() => {
      if (this.waiting === waiting) this.waiting = undefined;
    });
  }

  /** Checks a message and hands it on; a promise when admission must look something up first (never rejects). */
  private receiveMessage(received: unknown): Promise<void> | undefined {
    if (this.closed) return undefined;
    if (received instanceof MalformedRequest) {
      this.refuse(malformed(this.path, received));
      return undefined;
    }
    // Every deserializer of a GuardedServer yields a DecodedRequest; anything else passes as it is.
    let message = received;
    let bytes = 0;
    if (received instanceof DecodedRequest) {
      message = received.message;
      bytes = received.bytes;
    }
    const admission = this.options.admission;
    if (admission) {
      let decision: void | Promise<void>;
      try {
        decision = admission.admitMessage(this.path, this.admitted as S, message, bytes);
      } catch (error) {
        this.refuse(admission.refusal(error, this.path, this.admitted, message, this.base));
        return undefined;
      }
      if (decision) {
        return decision.then(
          () => {
            if (!this.closed) this.listener?.onReceiveMessage(message);
          },
          (error: unknown) => {
            if (!this.closed) this.refuse(admission.refusal(error, this.path, this.admitted, message, this.base));
          },
        );
      }
    }
    this.listener?.onReceiveMessage(message);
    return undefined;
  }

  onReceiveHalfClose(): void {
    if (this.waiting) {
      this.waiting = this.waiting.then(() => {
        if (!this.closed) this.listener?.onReceiveHalfClose();
      });
    } else if (!this.closed) {
      this.listener?.onReceiveHalfClose();
    }
  }

  onCancel(): void {
    this.closed = true;
    this.answer();
    this.listener?.onCancel();
  }

  // What the handler does, handed down to the base call.

  start(listener: CallListener): void {
    this.listener = listener;
    this.base.start(this);
  }
  sendMetadata(metadata: Metadata): void {
    this.base.sendMetadata(metadata);
  }
  sendMessage(message: unknown, callback: () => void): void {
    this.answer();
    this.base.sendMessage(message, callback);
  }
  sendStatus(s: PartialStatusObject): void {
    this.base.sendStatus(s);
  }
  startRead(): void {
    this.base.startRead();
  }
  getPeer(): string {
    return this.base.getPeer();
  }
  getDeadline(): ReturnType<ServerInterceptingCallInterface['getDeadline']> {
    return this.base.getDeadline();
  }
  getHost(): string {
    return this.base.getHost();
  }
  getAuthContext(): ReturnType<ServerInterceptingCallInterface['getAuthContext']> {
    return this.base.getAuthContext();
  }
  getConnectionInfo(): ReturnType<ServerInterceptingCallInterface['getConnectionInfo']> {
    return this.base.getConnectionInfo();
  }
  getMetricsRecorder(): ReturnType<ServerInterceptingCallInterface['getMetricsRecorder']> {
    return this.base.getMetricsRecorder();
  }
}

/** The gate as a grpc-js server interceptor; it must come first (after an observer that hands the base call on). */
export function callGate<S>(options: GateOptions<S>): ServerInterceptor {
  // grpc-js types the result as its wrapper class, but chains any call (it only calls the interface's methods).
  return (method, call) => new GatedCall(call, method.path, options) as unknown as ServerInterceptingCall;
}

export interface GuardedServerOptions<S> extends ServerOptions {
  /** Largest request header list; default DEFAULT_MAX_METADATA_BYTES. */
  readonly maxMetadataBytes?: number;
  /** Who may make which call (auth-interceptor.ts); without it every call that passes the guard goes on. */
  readonly admission?: CallAdmission<S>;
  /**
   * Sees every call before the gate (metrics-interceptor.ts). It must hand
   * on the call it is given — grpc-js's base call — so that the gate can
   * still wrap that call's own statuses.
   */
  readonly observer?: ServerInterceptor;
}

/** A grpc-js Server whose every service, whoever adds it, goes through the gate. */
export class GuardedServer<S = unknown> extends Server {
  constructor({ maxMetadataBytes = DEFAULT_MAX_METADATA_BYTES, admission, observer, ...options }: GuardedServerOptions<S> = {}) {
    const gate = callGate({ maxMetadataBytes, admission });
    super({ ...options, interceptors: [...(observer ? [observer] : []), gate, ...(options.interceptors ?? [])] });
  }

  override addService(service: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    super.addService(guardDefinition(service), implementation);
  }
}
