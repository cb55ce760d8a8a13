/** Runs a unary bridge handler: strict UTF-8 check, errors through the one status table. */
import type { handleUnaryCall, ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { toGrpcError } from '../server/status-table.js';
import { checkBridgeUtf8 } from './bridge-definition.js';

export type Unary<Req, Res> = (request: Req, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>;

export const unaryWith =
  (logger: Logger) =>
  <Req, Res>(handler: Unary<Req, Res>): handleUnaryCall<Req, Res> =>
  (call, callback) => {
    void (async () => {
      let reply: Res;
      try {
        checkBridgeUtf8(call.request as object);
        reply = await handler(call.request, call);
      } catch (error) {
        callback(toGrpcError(error, logger));
        return;
      }
      callback(null, reply);
    })();
  };
