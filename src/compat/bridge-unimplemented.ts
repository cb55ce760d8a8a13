/** The BridgeService RPCs varledger does not serve: each answers UNIMPLEMENTED saying so. (Tools: bridge-tools.ts.) */
import { status, type handleUnaryCall } from '@grpc/grpc-js';
import type { BridgeServiceServer } from '../gen/snakepit/bridge/snakepit_bridge.js';

type Unimplemented = Pick<BridgeServiceServer, 'addDependency' | 'startOptimization' | 'stopOptimization'>;

const refuse =
  (details: string): handleUnaryCall<unknown, never> =>
  (_call, callback) =>
    callback({ code: status.UNIMPLEMENTED, details });

export const bridgeUnimplementedHandlers: Unimplemented = {
  addDependency: refuse('AddDependency is not implemented in varledger: variables have no dependency graph'),
  startOptimization: refuse('StartOptimization is not implemented in varledger: optimisers run in your workers'),
  stopOptimization: refuse('StopOptimization is not implemented in varledger: optimisers run in your workers'),
};
