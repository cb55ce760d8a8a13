/**
 * The BridgeService definition the server registers: the generated one with
 * the same two changes varledger.v1.Ledger gets (src/server/service-definition.ts):
 * strict UTF-8 requests, and pre-encoded VariableUpdate bytes passed through.
 */
import { BridgeServiceService as Generated, type VariableUpdate } from '../gen/snakepit/bridge/snakepit_bridge.js';
import { checkUtf8, passEncoded, withStrictUtf8 } from '../server/service-definition.js';

/** Throws INVALID_ARGUMENT if the request held a string that was not valid UTF-8. */
export const checkBridgeUtf8 = checkUtf8;

const strictDefinition = withStrictUtf8(Generated);

export const BridgeServiceDefinition = {
  ...strictDefinition,
  watchVariables: {
    ...strictDefinition.watchVariables,
    responseSerialize: passEncoded((value: VariableUpdate) => Generated.watchVariables.responseSerialize(value)),
  },
} as const;
