/**
 * `connect()`: the entry point of the TypeScript client. A `VarledgerClient`
 * holds one gRPC channel (and, with `spawn`, a local server process) and
 * hands out `Session` handles.
 */
import type { ChannelOptions } from '@grpc/grpc-js';
import { Caller } from './caller.js';
import type { TlsOptions } from './connection.js';
import { LedgerRpc } from './ledger-rpc.js';
import { spawnLocalServer, type LocalServer, type SpawnOptions } from './local-server.js';
import { Session, type SessionOptions } from './session.js';
import { sessionFromWire, type SessionInfo } from './variable.js';

export interface ConnectOptions extends SessionOptions {
  /**
   * Recorded on every change this client makes; the server says `anonymous`
   * otherwise. With auth on the server records the principal, and this as a
   * label after it (`alice/optimizer`).
   */
  readonly actor?: string;
  /** Bearer token (`varledger token add`), sent on every call. */
  readonly token?: string;
  /** Connect over TLS: `ca` to trust (PEM), and `cert` + `key` for a server that requires client certificates. */
  readonly tls?: TlsOptions;
  /** Deadline of each unary call, in ms; none by default. */
  readonly callTimeoutMs?: number;
  /** Start a local `varledger serve` child process and connect to it; `close()` stops it. */
  readonly spawn?: SpawnOptions;
  /** Passed to grpc-js. By default reconnection backoff starts at 100 ms and is capped at 2 s. */
  readonly channelOptions?: ChannelOptions;
}

export interface CreateSessionOptions {
  /** Empty or absent: the server generates one. */
  readonly id?: string;
  readonly metadata?: Record<string, string>;
  /** Idle time-to-live; absent: the server default (3600 s). */
  readonly ttlSeconds?: number;
}

const CHANNEL_DEFAULTS: ChannelOptions = {
  // grpc-js waits 1 s before its first reconnection; a restarted local server is back sooner.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2000,
};

export class VarledgerClient {
  private closed: Promise<void> | undefined;

  /** @internal Use `connect()`. */
  constructor(
    /** `host:port` of the server. */
    readonly address: string,
    private readonly caller: Caller,
    private readonly options: ConnectOptions,
    /** The spawned server, if any. */
    readonly server: LocalServer | undefined,
  ) {}

  /** The low-level typed caller, for RPCs the session API does not cover. */
  get rpc(): LedgerRpc {
    return this.caller.rpc;
  }

  /**
   * A handle on session `id`. Nothing is sent: the first `register` creates
   * the session if it does not exist. Options default to the client's.
   */
  session(id: string, options: SessionOptions = {}): Session {
    return new Session(this.caller, id, { ...this.sessionDefaults(), ...options });
  }

  /** Creates a session (id generated when absent) and returns its handle. Throws `AlreadyExistsError`. */
  async createSession(options: CreateSessionOptions = {}, sessionOptions: SessionOptions = {}): Promise<Session> {
    const reply = await this.caller.call('createSession', {
      sessionId: options.id ?? '',
      metadata: options.metadata ?? {},
      ttlSeconds: options.ttlSeconds ?? 0,
    });
    return this.session(reply.sessionId, sessionOptions);
  }

  /** Every session, active or ended, following pages. */
  async listSessions(): Promise<SessionInfo[]> {
    const sessions: SessionInfo[] = [];
    let pageToken = '';
    do {
      const reply = await this.caller.call('listSessions', { pageSize: 1000, pageToken });
      sessions.push(...reply.sessions.map(sessionFromWire));
      pageToken = reply.nextPageToken;
    } while (pageToken !== '');
    return sessions;
  }

  /**
   * Ends every watch (iterators finish quietly), closes the channel and stops
   * a spawned server. Sessions stay open on the server.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.caller.close();
      await this.server?.stop();
    })();
    return this.closed;
  }

  private sessionDefaults(): SessionOptions {
    const { cache, updateRetries, updateBackoff } = this.options;
    return {
      ...(cache !== undefined && { cache }),
      ...(updateRetries !== undefined && { updateRetries }),
      ...(updateBackoff !== undefined && { updateBackoff }),
    };
  }
}

/**
 * Connects to a varledger server: `await connect('127.0.0.1:50051', { actor: 'optimizer' })`,
 * or starts one for this process: `await connect({ spawn: { data: 'ledger.db' } })`
 * (with an address too, the spawned server listens there).
 * The channel connects lazily; the first call fails with `UnavailableError` if nobody listens.
 */
export async function connect(address: string, options?: ConnectOptions): Promise<VarledgerClient>;
export async function connect(options: ConnectOptions & { readonly spawn: SpawnOptions }): Promise<VarledgerClient>;
export async function connect(addressOrOptions: string | ConnectOptions, maybeOptions: ConnectOptions = {}): Promise<VarledgerClient> {
  const [address, options] = typeof addressOrOptions === 'string' ? [addressOrOptions, maybeOptions] : [undefined, addressOrOptions];
  let server: LocalServer | undefined;
  if (options.spawn) {
    const listen = address ? parseAddress(address) : {};
    server = await spawnLocalServer({ ...listen, ...options.spawn });
  }
  const target = server?.address ?? address;
  if (!target) throw new TypeError('varledger connect: give an address or `spawn` options');
  const rpc = new LedgerRpc(
    target,
    { ...CHANNEL_DEFAULTS, ...options.channelOptions },
    { ...(options.token !== undefined && { token: options.token }), ...(options.tls !== undefined && { tls: options.tls }) },
  );
  const caller = new Caller(rpc, {
    ...(options.actor !== undefined && { actor: options.actor }),
    ...(options.callTimeoutMs !== undefined && { callTimeoutMs: options.callTimeoutMs }),
  });
  return new VarledgerClient(target, caller, options, server);
}

function parseAddress(address: string): { host?: string; port?: number } {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address);
  return match ? { host: match[1] ?? '127.0.0.1', port: Number(match[2]) } : { host: address };
}
