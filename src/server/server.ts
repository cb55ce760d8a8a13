/**
 * Server start-up and shutdown: opens the store, folds the projection, serves
 * varledger.v1.Ledger (and snakepit.bridge.BridgeService, src/compat) with
 * health and reflection, and stops cleanly.
 */
import { ServerCredentials } from '@grpc/grpc-js';
import type { PackageDefinition, ProtobufTypeDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import { FILE_DESCRIPTOR_PROTOS } from '../gen/descriptors.js';
import { randomSessionId, randomSuffix, systemClock, type Clock } from '../service/clock.js';
import { LedgerService } from '../service/ledger-service.js';
import type { Durability } from '../store/event-store.js';
import { sessionExists } from './auth-session-exists.js';
import type { EventStore } from '../store/event-store.js';
import type { SqliteEventStore } from '../store/sqlite-event-store.js';
import { openStore } from '../store/open-event-store.js';
import type { StoreLocation } from '../store/store-location.js';
import { ledgerHandlers } from './ledger-handlers.js';
import { GuardedServer } from './call-gate.js';
import { WatchHub } from '../watch/watch-hub.js';
import { watchHandler } from './watch-handler.js';
import { LedgerServiceDefinition } from './service-definition.js';
import { encodeWatchResponse } from './watch-wire.js';
import { addBridgeService, BRIDGE_SERVICE_NAME, type BridgeOptions } from '../compat/bridge-service.js';
import { loadToolModules } from '../tools/server-tools.js';
import { LedgerToolHub } from '../tools/tool-hub.js';
import type { ToolModuleDefinition } from '../tools/tool-types.js';
import { toolHandlers } from './tool-handlers.js';
import { serveToolsHandler } from './tool-serve-handler.js';
import { Authority } from '../auth/authority.js';
import { exposureProblem } from '../auth/exposure.js';
import { PrincipalLimiter } from '../auth/limits.js';
import { authInterceptor } from './auth-interceptor.js';
import { feedSessionLimits } from './session-limit-feed.js';
import { ReloadableTlsCredentials, type TlsFiles } from './tls.js';
import type { WebAccess } from '../web/access.js';
import type { RunningWebServer } from '../web/web-server.js';
import type { MetricsListener } from '../metrics/metrics-http.js';
import { metricsInterceptor } from './metrics-interceptor.js';
import { startRetentionSweep, type RetentionOptions } from './retention-sweep.js';

export interface ServerOptions {
  readonly host: string;
  /** 0 picks a free port; `RunningServer.port` tells which. */
  readonly port: number;
  readonly dataPath: string;
  /** The log's location when it is not the `dataPath` file (`--store postgres://…`). */
  readonly storeLocation?: StoreLocation;
  readonly durability: Durability;
  /** SQLite: the connection's page cache, MiB (default 2, SQLite's own). */
  readonly sqliteCacheMiB?: number;
  readonly maxMessageBytes: number;
  /** Largest request header list; larger ones get RESOURCE_EXHAUSTED (default 16 KiB). */
  readonly maxMetadataBytes?: number;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly newIdSuffix?: () => string;
  readonly newSessionId?: () => string;
  readonly defaultTtlSeconds?: number;
  /** How often idle sessions are swept for expiry; 0 disables the sweep. */
  readonly expirySweepMs?: number;
  /** Bytes queued per watcher before it falls back to reading the log. */
  readonly watchBufferBytes?: number;
  /** Idle watchers get a progress message this often; 0 disables. */
  readonly watchProgressMs?: number;
  /** How often to look for commits by other processes on the same file; 0 disables. */
  readonly externalPollMs?: number;
  /** Snapshot the projection every this many events; 0: only at shutdown. */
  readonly snapshotEvery?: number;
  /** Snapshots kept (older ones pruned); 0 keeps all. */
  readonly snapshotKeep?: number;
  /** false: one transaction per write instead of group commit (the benchmarks' baseline). */
  readonly groupCommit?: boolean;
  /** Server-side tool definitions (tests, embedding). */
  readonly tools?: readonly ToolModuleDefinition[];
  /** Paths of ESM tool modules to load (`serve --tools`). */
  readonly toolModules?: readonly string[];
  /** Deadline of tool calls that bring none. */
  readonly toolDeadlineMs?: number;
  /** Serve TLS from these PEM files; with `clientCaFile`, require client certificates (mTLS). */
  readonly tls?: TlsFiles;
  /** Principals, token hashes, grants and limits (src/auth/auth-file.ts). */
  readonly authFile?: string;
  /** Listen on a non-loopback address without auth and TLS. */
  readonly insecure?: boolean;
  /** Clock of the per-principal limits (ms); tests inject one. */
  readonly limitsClock?: () => number;
  /** Serve the web view on this port of the same host (0 picks a free one); undefined: no web view. */
  readonly httpPort?: number;
  /** Who may do what in the web view; default: the server's authentication (the same principals and grants as gRPC). */
  readonly webAccess?: WebAccess;
  /** Serve Prometheus metrics at `/metrics` on this port (0 picks a free one) of `host` (default 127.0.0.1); undefined: off. */
  readonly metrics?: { readonly port: number; readonly host?: string };
  /** Archive sessions that ended longer ago than this (by `clock`) now and then; undefined: never (`serve --retain-ended`). */
  readonly retention?: RetentionOptions;
  /** How long `shutdown()` lets in-flight calls finish before cancelling them (default DEFAULT_SHUTDOWN_GRACE_MS). */
  readonly shutdownGraceMs?: number;
}

/**
 * Watch and tool streams are ended at once on shutdown; this bounds the rest:
 * unary calls still running, and streams whose end cannot reach a client that
 * stopped reading (HTTP/2 flow control holds the final status behind data).
 */
export const DEFAULT_SHUTDOWN_GRACE_MS = 5_000;

export interface RunningServer {
  readonly port: number;
  /** The web view's port, when it is served. */
  readonly httpPort?: number;
  readonly web?: RunningWebServer;
  /** The metrics listener's port, when metrics are served. */
  readonly metricsPort?: number;
  readonly service: LedgerService;
  /** The log under the service. */
  readonly store: EventStore;
  /** The SQLite file under it, when the log is one (tests and embedders inspect it). */
  readonly file: SqliteEventStore | undefined;
  readonly watchHub: WatchHub;
  /** Server-side and worker-hosted tools, shared by both APIs. */
  readonly toolHub: LedgerToolHub;
  /** Who is who and who may do what: the same answers for any protocol (an HTTP layer too). */
  readonly authority: Authority;
  /** Reads the auth file and TLS files again (SIGHUP); a file that does not load is logged and the old one kept. */
  reloadSecurity(): Promise<void>;
  /**
   * Stops accepting calls, ends watch and tool streams (UNAVAILABLE), lets
   * in-flight calls finish for up to the grace period and then cancels them,
   * and closes the database. Never rejects; calling it again returns the same promise.
   */
  shutdown(): Promise<void>;
}

export const LEDGER_SERVICE_NAME = 'varledger.v1.Ledger';

let reflection: ReflectionService | undefined;

/**
 * Reflection serves the descriptors exactly as buf built them from proto/
 * (src/gen/descriptors.ts, written by scripts/gen.mjs): the proto file names,
 * snake_case field names with their json_name, map entry messages, imports
 * and comments, so grpcurl's JSON uses the same names as the .proto files.
 * @grpc/reflection takes them as a package definition's file descriptors.
 * Built once per process.
 */
function reflectionService(): ReflectionService {
  if (reflection) return reflection;
  const fileDescriptorProtos = FILE_DESCRIPTOR_PROTOS.map((base64) => Buffer.from(base64, 'base64'));
  // @grpc/reflection reads only the `fileDescriptorProtos` of a package
  // definition's entries (deduplicated by file name): one entry holds them all.
  const files: ProtobufTypeDefinition = { format: 'buf build', type: {}, fileDescriptorProtos };
  reflection = new ReflectionService({ files } as PackageDefinition);
  return reflection;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { logger } = options;
  const authOn = options.authFile !== undefined || options.tls?.clientCaFile !== undefined;
  const exposure = exposureProblem(options.host, { auth: authOn, tls: options.tls !== undefined, insecure: options.insecure === true });
  if (exposure) throw new Error(exposure);
  // Loaded before the database opens: a bad module, auth file or certificate fails start-up with nothing to undo.
  const loadedTools = [...(options.tools ?? []), ...(await loadToolModules(options.toolModules ?? []))];
  const tls = options.tls ? await ReloadableTlsCredentials.load(options.tls) : undefined;
  const authority = await Authority.open({
    ...(options.authFile !== undefined && { authFile: options.authFile }),
    clientCertificates: options.tls?.clientCaFile !== undefined,
    onReload: (outcome) =>
      outcome.ok
        ? logger.info({ principals: outcome.principals }, 'auth file reloaded')
        : logger.error({ err: outcome.error }, 'auth file not reloaded; the previous one stays in force'),
  });
  let store: EventStore;
  let file: SqliteEventStore | undefined;
  try {
    ({ store, file } = await openStore(options.storeLocation ?? { kind: 'sqlite', path: options.dataPath }, {
      durability: options.durability,
      ...(options.sqliteCacheMiB !== undefined && { sqliteCacheMiB: options.sqliteCacheMiB }),
      ...(options.externalPollMs !== undefined && { pollMs: options.externalPollMs }),
      onError: (error) => logger.warn({ err: error }, 'store connection failed; retrying'),
    }));
  } catch (error) {
    authority.close();
    throw error;
  }
  // Loaded only when asked for, like the web view: without metrics no prom-client, no interceptor, no hooks.
  const metrics = options.metrics ? new (await import('../metrics/ledger-metrics.js')).LedgerMetrics() : undefined;
  const started = performance.now();
  const service = await LedgerService.open({
    store,
    onError: (error) => logger.error({ err: error }, 'a change-feed listener failed'),
    clock: options.clock ?? systemClock,
    newIdSuffix: options.newIdSuffix ?? randomSuffix,
    newSessionId: options.newSessionId ?? randomSessionId,
    ...(options.defaultTtlSeconds !== undefined && { defaultTtlSeconds: options.defaultTtlSeconds }),
    ...(options.snapshotEvery !== undefined && { snapshotEvery: options.snapshotEvery }),
    ...(options.snapshotKeep !== undefined && { snapshotKeep: options.snapshotKeep }),
    ...(options.groupCommit !== undefined && { groupCommit: options.groupCommit }),
    ...(metrics && { onAppended: metrics.appended }),
  });
  logger.info({ head: service.head, ms: Math.round(performance.now() - started) }, 'projection folded from the log');

  const limiter = new PrincipalLimiter(options.limitsClock ?? Date.now);
  if (authority.enabled) {
    // Session counts follow the log, including the sessions live before this start (a restart, a second node).
    try {
      await feedSessionLimits(service, limiter);
    } catch (error) {
      authority.close();
      await service.close();
      throw error;
    }
  }
  // Malformed bodies and oversized headers are refused before any handler (and before auth), on every service.
  const server = new GuardedServer({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': -1,
    ...(options.maxMetadataBytes !== undefined && { maxMetadataBytes: options.maxMetadataBytes }),
    ...(metrics && { observer: metricsInterceptor(metrics) }),
    admission: authInterceptor({
      authority,
      limiter,
      logger,
      sessionExists: (id) => sessionExists(service, id),
      ...(metrics && { onDenied: metrics.authDenied }),
    }),
  });
  const watchHub = new WatchHub({
    log: service,
    head: () => service.head,
    encode: encodeWatchResponse,
    merge: (parts) => Buffer.concat(parts),
    ...(options.watchBufferBytes !== undefined && { maxBufferBytes: options.watchBufferBytes }),
    ...(options.watchProgressMs !== undefined && { progressIntervalMs: options.watchProgressMs }),
    onError: (error) => logger.error({ err: error }, 'watch delivery failed'),
  });
  service.onCommit((notice) => watchHub.publish(notice));
  const toolHub = new LedgerToolHub({
    service,
    logger,
    ...(options.toolDeadlineMs !== undefined && { defaultDeadlineMs: options.toolDeadlineMs }),
    ...(metrics && { onCallEnded: metrics.toolCallEnded }),
  });
  try {
    toolHub.addServerTools(loadedTools);
  } catch (error) {
    authority.close();
    await service.close();
    throw error;
  }
  if (loadedTools.length > 0) logger.info({ tools: loadedTools.map((t) => t.name) }, 'server-side tools loaded');
  server.addService(LedgerServiceDefinition, {
    ...ledgerHandlers(service, logger),
    watchVariables: watchHandler(service, watchHub, logger),
    ...toolHandlers(toolHub, logger),
    serveTools: serveToolsHandler(toolHub, logger),
  });
  // Snakepit's BridgeService on the same ledger, for existing Python workers.
  // Built as a variable: `toolHub` is for bridge versions that serve tools.
  const bridgeOptions: BridgeOptions & { toolHub: LedgerToolHub } = {
    ...(options.watchBufferBytes !== undefined && { watchBufferBytes: options.watchBufferBytes }),
    ...(options.watchProgressMs !== undefined && { watchProgressMs: options.watchProgressMs }),
    toolHub,
  };
  const bridge = addBridgeService(server, service, logger, bridgeOptions);
  metrics?.collectFrom({
    head: () => service.head,
    liveSessions: () => service.liveSessionCount(),
    watchers: { native: () => watchHub.stats(), bridge: () => bridge.watchHub.stats() },
    oldestRevision: () => service.oldestRevision,
    storage: () => store.storageStats(),
  });
  // Compactions by this server, the CLI or another node all reach the projection as log_compacted events.
  if (metrics) {
    service.onCommit(({ events }) => {
      for (const event of events) if (event.kind === 'log_compacted') metrics.compacted(event.sessions.length, event.events);
    });
  }
  const health = new HealthImplementation({ '': 'SERVING', [LEDGER_SERVICE_NAME]: 'SERVING', [BRIDGE_SERVICE_NAME]: 'SERVING' });
  health.addToServer(server);
  reflectionService().addToServer(server);

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${options.host}:${options.port}`, tls ?? ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      );
    });
  } catch (error) {
    authority.close();
    await service.close();
    throw error;
  }

  let web: RunningWebServer | undefined;
  if (options.httpPort !== undefined) {
    try {
      // Loaded only when asked for: a server without the web view loads none of the HTTP stack.
      const { startWebView } = await import('../web/web-view.js');
      web = await startWebView({
        host: options.host,
        port: options.httpPort,
        service,
        authority,
        store: options.storeLocation ?? { kind: 'sqlite', path: options.dataPath },
        logger,
        ...(options.webAccess && { access: options.webAccess }),
        ...(options.tls && { tls: options.tls }),
      });
    } catch (error) {
      server.forceShutdown();
      authority.close();
      await service.close();
      throw error;
    }
  }

  let metricsListener: MetricsListener | undefined;
  if (metrics && options.metrics) {
    try {
      const { serveMetrics } = await import('../metrics/metrics-http.js');
      metricsListener = await serveMetrics(metrics, options.metrics.host ?? '127.0.0.1', options.metrics.port, logger);
    } catch (error) {
      server.forceShutdown();
      await web?.close();
      authority.close();
      await service.close();
      throw error;
    }
  }

  const sweepMs = options.expirySweepMs ?? 1000;
  const sweep =
    sweepMs > 0
      ? setInterval(() => {
          service.expireIdleSessions().then(
            (expired) => {
              if (expired > 0) logger.info({ expired }, 'idle sessions expired');
            },
            (error: unknown) => logger.error({ err: error }, 'session expiry sweep failed'),
          );
        }, sweepMs).unref()
      : undefined;

  const stopRetention = options.retention ? startRetentionSweep(service, options.clock ?? systemClock, options.retention, logger) : undefined;

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= new Promise<void>((resolve) => {
      // Browsers' live streams end first, with a `shutdown` event.
      const webClosed = Promise.allSettled([web?.close(), metricsListener?.close(), stopRetention?.()]);
      clearInterval(sweep);
      // Watch streams never end on their own; tell clients to reconnect and resume.
      watchHub.closeAll('server shutting down; resume with start_revision');
      bridge.close('server shutting down');
      // Worker streams never end on their own either; running calls fail UNAVAILABLE.
      toolHub.close('server shutting down');
      for (const name of ['', LEDGER_SERVICE_NAME, BRIDGE_SERVICE_NAME]) health.setStatus(name, 'NOT_SERVING');
      authority.close();
      const graceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
      // forceShutdown destroys the connections, which completes tryShutdown below.
      const grace = setTimeout(() => {
        logger.warn({ graceMs }, 'in-flight calls did not finish within the shutdown grace period; cancelling them');
        server.forceShutdown();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(grace);
        void webClosed.then(() =>
          service.close().then(
            () => logger.info('stopped'),
            (error: unknown) => logger.error({ err: error }, 'closing the ledger failed'),
          ),
        ).finally(resolve);
      });
    });
    return stopping;
  };
  const reloadSecurity = async () => {
    await authority.reload();
    if (!tls) return;
    try {
      await tls.reload();
      await web?.reloadTls();
      logger.info('TLS certificates reloaded');
    } catch (error) {
      logger.error({ err: error }, 'TLS certificates not reloaded; the previous ones stay in use');
    }
  };
  return { port, ...(web && { httpPort: web.port, web }), ...(metricsListener && { metricsPort: metricsListener.port }), service, store, file, watchHub, toolHub, authority, reloadSecurity, shutdown };
}
