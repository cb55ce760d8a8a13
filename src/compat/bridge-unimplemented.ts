/** The BridgeService RPCs varledger does not serve yet: each answers UNIMPLEMENTED saying so. */
import { status, type handleServerStreamingCall, type handleUnaryCall } from '@grpc/grpc-js';
import type { BridgeServiceServer } from '../gen/snakepit/bridge/snakepit_bridge.js';

type Unimplemented = Pick<
  BridgeServiceServer,
  | 'executeTool'
  | 'executeStreamingTool'
  | 'registerTools'
  | 'getExposedElixirTools'
  | 'executeElixirTool'
  | 'addDependency'
  | 'startOptimization'
  | 'stopOptimization'
>;

const TOOLS = 'tools are not implemented yet in varledger';

const refuse =
  (details: string): handleUnaryCall<unknown, never> =>
  (_call, callback) =>
    callback({ code: status.UNIMPLEMENTED, details });

const refuseStream =
  (details: string): handleServerStreamingCall<unknown, never> =>
  (call) =>
    call.emit('error', { code: status.UNIMPLEMENTED, details });

export const bridgeUnimplementedHandlers: Unimplemented = {
  executeTool: refuse(TOOLS),
  executeStreamingTool: refuseStream(TOOLS),
  registerTools: refuse(TOOLS),
  getExposedElixirTools: refuse(TOOLS),
  executeElixirTool: refuse(TOOLS),
  addDependency: refuse('AddDependency is not implemented in varledger: variables have no dependency graph'),
  startOptimization: refuse('StartOptimization is not implemented in varledger: optimisers run in your workers'),
  stopOptimization: refuse('StopOptimization is not implemented in varledger: optimisers run in your workers'),
};
