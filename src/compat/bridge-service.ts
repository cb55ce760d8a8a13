/**
 * Serves snakepit.bridge.BridgeService beside varledger.v1.Ledger, on the
 * same ledger service: one log, one projection, so a variable written through
 * either API is visible through the other. Owns its watch hub (its encoder
 * speaks VariableUpdate) fed by the same commit notices. Tool RPCs run on
 * the server's tool hub (`toolHub`), the one behind the native tool RPCs.
 */
import type { Server } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { LedgerService } from '../service/ledger-service.js';
import type { ToolHub } from '../tools/tool-types.js';
import { WatchHub } from '../watch/watch-hub.js';
import { BridgeServiceDefinition } from './bridge-definition.js';
import { bridgeSessionHandlers } from './bridge-sessions.js';
import { bridgeToolHandlers } from './bridge-tools.js';
import { bridgeUnimplementedHandlers } from './bridge-unimplemented.js';
import { bridgeVariableHandlers } from './bridge-variables.js';
import { bridgeWatchEncoder, bridgeWatchHandler } from './bridge-watch.js';
import { EncodingMemory } from './encoding-memory.js';

export const BRIDGE_SERVICE_NAME = 'snakepit.bridge.BridgeService';

export interface BridgeOptions {
  readonly watchBufferBytes?: number;
  readonly watchProgressMs?: number;
  /** The tool hub behind ExecuteTool & co (the server's, shared with the native API); without one, no tools are listed and calls answer NOT_FOUND. */
  readonly toolHub?: ToolHub;
}

export interface BridgeService {
  readonly watchHub: WatchHub;
  /** Ends every bridge watch stream (at shutdown) and stops listening to commits. */
  close(reason: string): void;
}

export function addBridgeService(server: Server, service: LedgerService, logger: Logger, options: BridgeOptions = {}): BridgeService {
  const encodings = new EncodingMemory();
  const watchHub = new WatchHub({
    log: service,
    head: () => service.head,
    encode: bridgeWatchEncoder(encodings),
    // Framed messages concatenate into framed messages.
    merge: (parts) => Buffer.concat(parts),
    ...(options.watchBufferBytes !== undefined && { maxBufferBytes: options.watchBufferBytes }),
    ...(options.watchProgressMs !== undefined && { progressIntervalMs: options.watchProgressMs }),
    onError: (error) => logger.error({ err: error }, 'bridge watch delivery failed'),
  });
  const stopListening = service.onCommit((notice) => watchHub.publish(notice));
  server.addService(BridgeServiceDefinition, {
    ...bridgeSessionHandlers(service, encodings, logger, options.toolHub),
    ...bridgeVariableHandlers(service, encodings, logger),
    ...bridgeToolHandlers({ service, hub: options.toolHub, logger }),
    ...bridgeUnimplementedHandlers,
    watchVariables: bridgeWatchHandler(service, watchHub, logger),
  });
  return {
    watchHub,
    close(reason) {
      stopListening();
      watchHub.closeAll(reason);
    },
  };
}
