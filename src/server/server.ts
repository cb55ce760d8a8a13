/**
 * Server start-up and shutdown: opens the store, folds the projection, serves
 * varledger.v1.Ledger with health and reflection, and stops cleanly.
 */
import { join } from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { Logger } from 'pino';
import { PACKAGE_ROOT } from '../package-root.js';
import { LedgerService as LedgerServiceDefinition } from '../gen/varledger/v1/ledger.js';
import { randomSessionId, randomSuffix, systemClock, type Clock } from '../service/clock.js';
import { LedgerService } from '../service/ledger-service.js';
import type { Durability } from '../store/event-store.js';
import { SqliteEventStore } from '../store/sqlite-event-store.js';
import { ledgerHandlers } from './ledger-handlers.js';

export interface ServerOptions {
  readonly host: string;
  /** 0 picks a free port; `RunningServer.port` tells which. */
  readonly port: number;
  readonly dataPath: string;
  readonly durability: Durability;
  readonly maxMessageBytes: number;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly newIdSuffix?: () => string;
  readonly newSessionId?: () => string;
  readonly defaultTtlSeconds?: number;
  /** How often idle sessions are swept for expiry; 0 disables the sweep. */
  readonly expirySweepMs?: number;
}

export interface RunningServer {
  readonly port: number;
  readonly service: LedgerService;
  /** Stops accepting calls, lets in-flight ones finish, closes the database. */
  shutdown(): Promise<void>;
}

export const LEDGER_SERVICE_NAME = 'varledger.v1.Ledger';

const PROTO_ROOT = join(PACKAGE_ROOT, 'proto');

/** Reflection needs descriptors, which the generated code does not carry. */
function reflectionService(): ReflectionService {
  const definition = loadSync(['varledger/v1/ledger.proto', healthProtoPath], {
    includeDirs: [PROTO_ROOT],
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return new ReflectionService(definition);
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { logger } = options;
  const store = new SqliteEventStore(options.dataPath, { durability: options.durability });
  const started = performance.now();
  const service = new LedgerService({
    store,
    clock: options.clock ?? systemClock,
    newIdSuffix: options.newIdSuffix ?? randomSuffix,
    newSessionId: options.newSessionId ?? randomSessionId,
    ...(options.defaultTtlSeconds !== undefined && { defaultTtlSeconds: options.defaultTtlSeconds }),
  });
  logger.info({ head: service.head, ms: Math.round(performance.now() - started) }, 'projection folded from the log');

  const server = new Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': -1,
  });
  server.addService(LedgerServiceDefinition, ledgerHandlers(service, logger));
  const health = new HealthImplementation({ '': 'SERVING', [LEDGER_SERVICE_NAME]: 'SERVING' });
  health.addToServer(server);
  reflectionService().addToServer(server);

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${options.host}:${options.port}`, ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      );
    });
  } catch (error) {
    service.close();
    throw error;
  }

  const sweepMs = options.expirySweepMs ?? 1000;
  const sweep =
    sweepMs > 0
      ? setInterval(() => {
          try {
            const expired = service.expireIdleSessions();
            if (expired > 0) logger.info({ expired }, 'idle sessions expired');
          } catch (error) {
            logger.error({ err: error }, 'session expiry sweep failed');
          }
        }, sweepMs).unref()
      : undefined;

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= new Promise<void>((resolve) => {
      clearInterval(sweep);
      for (const name of ['', LEDGER_SERVICE_NAME]) health.setStatus(name, 'NOT_SERVING');
      server.tryShutdown(() => {
        service.close();
        logger.info('stopped');
        resolve();
      });
    });
    return stopping;
  };
  return { port, service, shutdown };
}
