/**
 * Helpers for API tests: value builders for the wire `Value` oneof, and an
 * assertion that a call fails with a given gRPC status and message.
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import type { ExecutionContext } from 'ava';
import type { DeepPartial, Value } from '../../src/gen/varledger/v1/ledger.js';

export const floatValue = (floatValue: number): DeepPartial<Value> => ({ kind: { $case: 'floatValue', floatValue } });
export const intValue = (integerValue: bigint): DeepPartial<Value> => ({ kind: { $case: 'integerValue', integerValue } });
export const stringValue = (stringValue: string): DeepPartial<Value> => ({ kind: { $case: 'stringValue', stringValue } });
export const boolValue = (boolValue: boolean): DeepPartial<Value> => ({ kind: { $case: 'boolValue', boolValue } });
export const vectorValue = (values: number[]): DeepPartial<Value> => ({ kind: { $case: 'vectorValue', vectorValue: { values } } });
export const tensorValue = (shape: number[], data: number[], dtype = ''): DeepPartial<Value> => ({
  kind: { $case: 'tensorValue', tensorValue: { shape, data, dtype } },
});

/** The status name for messages, e.g. "INVALID_ARGUMENT". */
export const codeName = (code: number): string => status[code] ?? String(code);

/**
 * Awaits a call that must fail; checks its status code and (when given) that
 * its message matches. Returns the error for further checks (e.g. trailers).
 */
export async function expectStatus(
  t: ExecutionContext,
  call: Promise<unknown>,
  code: status,
  message?: string | RegExp,
): Promise<ServiceError> {
  const error = await t.throwsAsync<ServiceError>(call);
  if (!error) throw new Error('expected the call to fail');
  t.is(codeName(error.code), codeName(code), `status of: ${error.details}`);
  if (typeof message === 'string') t.is(error.details, message);
  else if (message) t.regex(error.details, message);
  return error;
}
