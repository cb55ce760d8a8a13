/** Small helpers shared by the gRPC benchmarks: values and session seeding. */
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
