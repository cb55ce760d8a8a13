/** `varledger serve`: flags, environment, readiness line, signals. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { dirname, join } from 'node:path';
import { formatWithOptions } from 'node:util';
import { duration } from './arguments.js';
import { pino, type Logger } from 'pino';
import { DEFAULT_CACHE_MIB } from '../store/sqlite-page-cache.js';
import { DEFAULT_HEAP_GROWTH_PERCENT, limitHeapGrowth } from './heap-growth.js';
import { describeLocation, parseStoreLocation, type StoreLocation } from '../store/store-location.js';

const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
/**
 * After the grace period the calls are cancelled and the database closes at
 * once; this only guards against a close that cannot finish (a PostgreSQL
 * server that stopped answering), so the process still ends.
 */
const CLOSE_GUARD_MS = 5_000;

function integer(min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

/** Tool module paths: the flag repeats, and each value (or VARLEDGER_TOOLS) may list several, comma-separated. */
function toolPaths(raw: string, previous: string[] = []): string[] {
  return [...previous, ...raw.split(',').map((p) => p.trim()).filter((p) => p !== '')];
}

/**
 * grpc-js logs to the console by default (`E No address added…`), which
 * would put raw text among the JSON log lines: send its lines to the logger.
 * The bind failure it logs is also thrown, and reported once, below.
 */
function routeGrpcLogs(grpc: typeof import('@grpc/grpc-js'), logger: Logger): void {
  const line = (message: unknown, params: unknown[]) => formatWithOptions({ breakLength: Infinity }, message, ...params);
  grpc.setLogger({
    error: (message: unknown, ...params: unknown[]) => {
      const text = line(message, params);
      if (!text.startsWith('No address added')) logger.error({ source: 'grpc' }, text);
    },
    // grpc-js sends these only when GRPC_VERBOSITY / GRPC_TRACE ask for them, so they are shown.
    info: (message: unknown, ...params: unknown[]) => logger.info({ source: 'grpc' }, line(message, params)),
    debug: (message: unknown, ...params: unknown[]) => logger.info({ source: 'grpc' }, line(message, params)),
  });
}

/** One line a user can act on, for the start-up failures people actually meet. */
export function startupFailure(error: unknown, host: string, port: number): string {
  const message = error instanceof Error ? error.message : String(error);
  const address = `${host}:${port}`;
  if (message.includes('EADDRINUSE')) return `${address} is already in use`;
  if (message.includes('EACCES')) return `no permission to listen on ${address}`;
  if (message.includes('EADDRNOTAVAIL')) return `${host} is not an address of this machine`;
  return message;
}

/**
 * stderr holds JSON log lines unless logging is off, so the failure is a
 * fatal log line then, and a plain `varledger: …` line otherwise.
 */
function reportStartupFailure(logger: Logger, text: string): void {
  if (logger.isLevelEnabled('fatal')) logger.fatal(`varledger: ${text}`);
  else process.stderr.write(`varledger: ${text}\n`);
}

/**
 * The first SIGTERM or SIGINT stops gracefully (streams end UNAVAILABLE,
 * in-flight calls get the grace period, the database closes) and exits 0.
 * A second one while that runs exits 1 at once: every acknowledged write is
 * already committed to the log, so nothing acknowledged is lost.
 *
 * With `stopWithStdin`, the end of standard input stops it the same way: a
 * parent that spawned the server with a pipe holds the other end, and the
 * pipe closes however the parent ends, SIGKILL included, so the server
 * cannot outlive it. The end of input never escalates a stop under way.
 */
function stopWhenAsked(server: { shutdown(): Promise<void> }, logger: Logger, graceMs: number, stopWithStdin: boolean): void {
  let stopping = false;
  const stop = (why: { signal: NodeJS.Signals } | { stdin: 'closed' }) => {
    stopping = true;
    logger.info({ ...why, graceMs }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown did not finish after the grace period; exiting');
      process.exit(1);
    }, graceMs + CLOSE_GUARD_MS).unref();
    void server.shutdown().then(() => process.exit(0));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal while shutting down; exiting now');
      process.exit(1);
    }
    stop({ signal });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  if (stopWithStdin) {
    // Read and drop whatever comes: only the end matters.
    process.stdin.on('data', () => {});
    process.stdin.once('end', () => {
      if (!stopping) stop({ stdin: 'closed' });
    });
  }
}

interface ServeOptions {
  host: string;
  port: number;
  httpPort?: number;
  metricsPort?: number;
  metricsHost: string;
  data: string;
  store?: string;
  durability: 'normal' | 'full';
  sqliteCacheMib: number;
  heapGrowthPercent: number;
  maxMessageBytes: number;
  snapshotEvery: number;
  snapshotKeep: number;
  watchBufferBytes: number;
  watchProgressMs: number;
  logLevel: string;
  tools?: string[];
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  authFile?: string;
  insecure?: boolean;
  retainEnded?: number;
  archiveDir?: string;
  retentionInterval: number;
  shutdownGrace?: number;
  stopWithStdin?: boolean;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the gRPC server')
    .addOption(new Option('--host <host>', 'address to listen on').env('VARLEDGER_HOST').default('127.0.0.1'))
    .addOption(
      new Option('--port <port>', 'port to listen on (0 = any free port)')
        .env('VARLEDGER_PORT')
        .default(50051)
        .argParser(integer(0, 65535)),
    )
    .addOption(
      new Option('--http-port <port>', 'also serve the web view on this port (0 = any free port); off when not given')
        .env('VARLEDGER_HTTP_PORT')
        .argParser(integer(0, 65535)),
    )
    .addOption(
      new Option('--metrics-port <port>', 'serve Prometheus metrics at /metrics on this port (0 = any free port); off when not given')
        .env('VARLEDGER_METRICS_PORT')
        .argParser(integer(0, 65535)),
    )
    .addOption(
      new Option('--metrics-host <host>', 'address the metrics port listens on (not --host: metrics need no exposure of the API)')
        .env('VARLEDGER_METRICS_HOST')
        .default('127.0.0.1'),
    )
    .addOption(new Option('--data <path>', 'SQLite database file').env('VARLEDGER_DATA').default('data/ledger.db'))
    .addOption(
      new Option('--store <location>', 'where the log lives: sqlite:PATH (as --data) or postgres://user:pass@host:port/db for several nodes').env(
        'VARLEDGER_STORE',
      ),
    )
    .addOption(
      new Option('--durability <mode>', 'normal survives a process crash; full also survives power loss')
        .env('VARLEDGER_DURABILITY')
        .choices(['normal', 'full'])
        .default('normal'),
    )
    .addOption(
      new Option('--sqlite-cache-mib <mib>', "SQLite's page cache, MiB: hot pages kept in memory (the rest is read from the OS's cache)")
        .env('VARLEDGER_SQLITE_CACHE_MIB')
        .default(DEFAULT_CACHE_MIB)
        .argParser(integer(1, 64 * 1024)),
    )
    .addOption(
      new Option(
        '--heap-growth-percent <percent>',
        "after start-up, let V8's old generation grow to (1 + N/100) × the live heap between full collections, so RSS follows live data (0: V8's own choice, up to 4×)",
      )
        .env('VARLEDGER_HEAP_GROWTH_PERCENT')
        .default(DEFAULT_HEAP_GROWTH_PERCENT)
        .argParser(integer(0, 1_000)),
    )
    .addOption(
      new Option('--max-message-bytes <bytes>', 'largest request accepted')
        .env('VARLEDGER_MAX_MESSAGE_BYTES')
        .default(DEFAULT_MAX_MESSAGE_BYTES)
        .argParser(integer(1024, 2 ** 31 - 1)),
    )
    .addOption(
      new Option('--watch-buffer-bytes <bytes>', 'queued bytes per watcher before it falls back to reading the log')
        .env('VARLEDGER_WATCH_BUFFER_BYTES')
        .default(4 * 1024 * 1024)
        .argParser(integer(1024, 2 ** 31 - 1)),
    )
    .addOption(
      new Option('--watch-progress-ms <ms>', 'send an idle watcher a progress message this often (0: never)')
        .env('VARLEDGER_WATCH_PROGRESS_MS')
        .default(10_000)
        .argParser(integer(0, 24 * 3600 * 1000)),
    )
    .addOption(
      new Option('--snapshot-every <events>', 'snapshot the projection every N events (0: only at shutdown)')
        .env('VARLEDGER_SNAPSHOT_EVERY')
        .default(10_000)
        .argParser(integer(0, Number.MAX_SAFE_INTEGER)),
    )
    .addOption(
      new Option('--snapshot-keep <n>', 'keep the newest N snapshots, pruning older ones (0: keep all)')
        .env('VARLEDGER_SNAPSHOT_KEEP')
        .default(3)
        .argParser(integer(0, Number.MAX_SAFE_INTEGER)),
    )
    .addOption(
      new Option('--tools <module>', 'load server-side tools from an ESM module (repeatable, or comma-separated)')
        .env('VARLEDGER_TOOLS')
        .argParser(toolPaths),
    )
    .addOption(new Option('--tls-cert <file>', 'serve TLS with this PEM certificate chain (with --tls-key)').env('VARLEDGER_TLS_CERT'))
    .addOption(new Option('--tls-key <file>', 'PEM private key of --tls-cert').env('VARLEDGER_TLS_KEY'))
    .addOption(
      new Option('--tls-client-ca <file>', 'require client certificates signed by this PEM CA (mTLS); the subject CN is the principal').env(
        'VARLEDGER_TLS_CLIENT_CA',
      ),
    )
    .addOption(new Option('--auth-file <file>', 'principals, token hashes and grants (JSON); reloaded on change and SIGHUP').env('VARLEDGER_AUTH_FILE'))
    .addOption(new Option('--insecure', 'allow a non-loopback --host without auth and TLS').env('VARLEDGER_INSECURE'))
    .addOption(
      new Option('--retain-ended <duration>', 'move sessions that ended longer ago than this (e.g. 30d) into archive files; off when not given')
        .env('VARLEDGER_RETAIN_ENDED')
        .argParser(duration),
    )
    .addOption(
      new Option('--archive-dir <dir>', 'where --retain-ended writes its archives (default: archive/ beside the SQLite file)').env(
        'VARLEDGER_ARCHIVE_DIR',
      ),
    )
    .addOption(
      new Option('--retention-interval <duration>', 'how often --retain-ended looks for sessions to archive')
        .env('VARLEDGER_RETENTION_INTERVAL')
        .default(600_000, '10m')
        .argParser(duration),
    )
    .addOption(
      new Option('--shutdown-grace <duration>', 'on SIGTERM/SIGINT, how long in-flight calls may finish before they are cancelled (default: 5s)')
        .env('VARLEDGER_SHUTDOWN_GRACE')
        .argParser(duration),
    )
    .addOption(
      new Option('--stop-with-stdin', 'stop gracefully, as on SIGTERM, when standard input ends (a parent holding a pipe to it exited)').env(
        'VARLEDGER_STOP_WITH_STDIN',
      ),
    )
    .addOption(
      new Option('--log-level <level>', 'stderr log level')
        .env('VARLEDGER_LOG_LEVEL')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('info'),
    )
    .action(async (opts: ServeOptions, command: Command) => {
      if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) command.error('error: --tls-cert and --tls-key go together');
      if (opts.tlsClientCa !== undefined && opts.tlsCert === undefined) command.error('error: --tls-client-ca needs --tls-cert and --tls-key');
      if (opts.retainEnded !== undefined && opts.archiveDir === undefined && /^postgres(ql)?:/.test(opts.store ?? '')) {
        command.error('error: --retain-ended on PostgreSQL needs --archive-dir');
      }
      // Synchronous: an asynchronous destination flushes what it still holds
      // with sonic-boom's flushSync at exit, which retries EPIPE forever — a
      // server whose log reader went away (a dead supervisor or test runner)
      // then hung in process.exit, deaf to every further signal. A sync write
      // meets EPIPE at once, and pino then drops further lines.
      const logger = pino({ level: opts.logLevel }, pino.destination({ dest: 2, sync: true }));
      // Loaded here, not at the top: gRPC takes most of the start-up time of
      // the other (audit) commands, which never need it.
      const [{ startServer, DEFAULT_SHUTDOWN_GRACE_MS }, grpc] = await Promise.all([import('../server/server.js'), import('@grpc/grpc-js')]);
      routeGrpcLogs(grpc, logger);
      let server: Awaited<ReturnType<typeof startServer>>;
      let location: StoreLocation;
      try {
        location = parseStoreLocation(opts.store, opts.data);
        const archiveDir = opts.archiveDir ?? (location.kind === 'sqlite' ? join(dirname(location.path), 'archive') : undefined);
        server = await startServer({
          host: opts.host,
          port: opts.port,
          dataPath: location.kind === 'sqlite' ? location.path : opts.data,
          storeLocation: location,
          durability: opts.durability,
          sqliteCacheMiB: opts.sqliteCacheMib,
          maxMessageBytes: opts.maxMessageBytes,
          snapshotEvery: opts.snapshotEvery,
          snapshotKeep: opts.snapshotKeep,
          watchBufferBytes: opts.watchBufferBytes,
          watchProgressMs: opts.watchProgressMs,
          toolModules: opts.tools ?? [],
          ...(opts.tlsCert !== undefined &&
            opts.tlsKey !== undefined && {
              tls: { certFile: opts.tlsCert, keyFile: opts.tlsKey, ...(opts.tlsClientCa !== undefined && { clientCaFile: opts.tlsClientCa }) },
            }),
          ...(opts.authFile !== undefined && { authFile: opts.authFile }),
          insecure: opts.insecure === true,
          ...(opts.httpPort !== undefined && { httpPort: opts.httpPort }),
          ...(opts.metricsPort !== undefined && { metrics: { port: opts.metricsPort, host: opts.metricsHost } }),
          ...(opts.retainEnded !== undefined &&
            archiveDir !== undefined && { retention: { retainEndedMs: opts.retainEnded, archiveDir, intervalMs: opts.retentionInterval } }),
          ...(opts.shutdownGrace !== undefined && { shutdownGraceMs: opts.shutdownGrace }),
          logger,
        });
      } catch (error) {
        reportStartupFailure(logger, startupFailure(error, opts.host, opts.port));
        process.exitCode = 1;
        return;
      }
      logger.info(
        {
          host: opts.host,
          port: server.port,
          store: describeLocation(location),
          durability: opts.durability,
          tls: opts.tlsCert !== undefined,
          auth: server.authority.enabled,
          heapGrowthPercent: opts.heapGrowthPercent,
        },
        'listening',
      );
      // Start-up's fold is done: from here the heap holds what the server keeps (see heap-growth.ts).
      limitHeapGrowth(opts.heapGrowthPercent);
      // The one line on stdout: supervisors and tests wait for it.
      process.stdout.write(`GRPC_READY:${server.port}\n`);
      if (server.httpPort !== undefined) {
        logger.info({ host: opts.host, port: server.httpPort, protocol: server.web?.protocol }, 'web view listening');
        process.stdout.write(`HTTP_READY:${server.httpPort}\n`);
      }
      if (server.metricsPort !== undefined) {
        logger.info({ host: opts.metricsHost, port: server.metricsPort }, 'metrics listening');
        process.stdout.write(`METRICS_READY:${server.metricsPort}\n`);
      }

      stopWhenAsked(server, logger, opts.shutdownGrace ?? DEFAULT_SHUTDOWN_GRACE_MS, opts.stopWithStdin === true);
      // Rotated certificates and edited grants take effect without a restart.
      process.on('SIGHUP', () => {
        logger.info({ signal: 'SIGHUP' }, 'reloading the auth file and TLS certificates');
        void server.reloadSecurity().then(() => logger.info('reload done'));
      });
    });
}
