/** Small helpers shared by the gRPC benchmarks: values, session seeding, the zero-work call. */
import type { LedgerRpc } from '../src/client/ledger-rpc.js';
import { VariableType, type Value } from '../src/gen/varledger/v1/ledger.js';

export const ACTOR = { actor: 'bench' } as const;

export const floatValue = (x: number): Value => ({ kind: { $case: 'floatValue', floatValue: x } });

/** Registers float variables `<prefix>0 … <prefix>{count-1}` in a session (creating it). */
export async function seedFloats(rpc: LedgerRpc, sessionId: string, count: number, prefix = 'v'): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  await rpc.call(
    'commit',
    {
      sessionId,
      atomic: true,
      operations: names.map((name) => ({
        op: { $case: 'register', register: { name, type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(0) } },
      })),
    },
    ACTOR,
  );
  return names;
}

const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
const EMPTY = Buffer.alloc(0);

/**
 * grpc.health.v1.Health/Check with an empty request: the same channel and
 * server, but no varledger code on either side — the zero-work floor that
 * varledger's own calls are compared with.
 */
export function healthCheck(rpc: LedgerRpc): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // An empty HealthCheckRequest is zero bytes; the reply is left undecoded.
    rpc.grpc.makeUnaryRequest<Buffer, Buffer>(
      HEALTH_CHECK_PATH,
      (b) => b,
      (b) => b,
      EMPTY,
      (error) => (error ? reject(error) : resolve()),
    );
  });
}
