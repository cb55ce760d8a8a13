/** `varledger serve`: flags, environment, readiness line, signals. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';

const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
/** A shutdown that takes longer than this (a stuck stream) is forced. */
const SHUTDOWN_GRACE_MS = 10_000;

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

interface ServeOptions {
  host: string;
  port: number;
  data: string;
  durability: 'normal' | 'full';
  maxMessageBytes: number;
  snapshotEvery: number;
  watchBufferBytes: number;
  watchProgressMs: number;
  logLevel: string;
  tools?: string[];
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
    .addOption(new Option('--data <path>', 'SQLite database file').env('VARLEDGER_DATA').default('data/ledger.db'))
    .addOption(
      new Option('--durability <mode>', 'normal survives a process crash; full also survives power loss')
        .env('VARLEDGER_DURABILITY')
        .choices(['normal', 'full'])
        .default('normal'),
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
      new Option('--tools <module>', 'load server-side tools from an ESM module (repeatable, or comma-separated)')
        .env('VARLEDGER_TOOLS')
        .argParser(toolPaths),
    )
    .addOption(
      new Option('--log-level <level>', 'stderr log level')
        .env('VARLEDGER_LOG_LEVEL')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('info'),
    )
    .action(async (opts: ServeOptions) => {
      const logger = pino({ level: opts.logLevel }, pino.destination(2));
      // Loaded here, not at the top: gRPC takes most of the start-up time of
      // the other (audit) commands, which never need it.
      const { startServer } = await import('../server/server.js');
      const server = await startServer({
        host: opts.host,
        port: opts.port,
        dataPath: opts.data,
        durability: opts.durability,
        maxMessageBytes: opts.maxMessageBytes,
        snapshotEvery: opts.snapshotEvery,
        watchBufferBytes: opts.watchBufferBytes,
        watchProgressMs: opts.watchProgressMs,
        toolModules: opts.tools ?? [],
        logger,
      });
      logger.info({ host: opts.host, port: server.port, data: opts.data, durability: opts.durability }, 'listening');
      // The one line on stdout: supervisors and tests wait for it.
      process.stdout.write(`GRPC_READY:${server.port}\n`);

      const stop = (signal: string) => {
        logger.info({ signal }, 'shutting down');
        setTimeout(() => {
          logger.warn('in-flight calls did not finish in time; exiting');
          process.exit(1);
        }, SHUTDOWN_GRACE_MS).unref();
        void server.shutdown().then(() => process.exit(0));
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
