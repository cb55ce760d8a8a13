/**
 * The bridge's per-variable cost: one SetVariables / GetVariables call of
 * 100 variables against one SetVariable / GetVariable call, over real gRPC
 * with values encoded as Snakepit's Python worker encodes them. Rounds
 * alternate the four calls after a warm-up; figures are medians. The target
 * (issue 17) is batch ≤ 3× single for both, so 100 single sets cost ≥ 10×
 * one batch (the last figure).
 */
import { BridgeRpc, jsonAny } from './bridge-rpc.js';
import type { BenchServer } from './server-fixture.js';
import { median, round, since } from './stats.js';

export interface BridgeBatchResult {
  readonly setSingleMs: number;
  readonly setBatchMs: number;
  readonly getSingleMs: number;
  readonly getBatchMs: number;
  /** SetVariables of 100 / one SetVariable. */
  readonly setBatchOverSingle: number;
  /** GetVariables of 100 / one GetVariable. */
  readonly getBatchOverSingle: number;
  /** 100 × one SetVariable / one SetVariables of 100. */
  readonly hundredSinglesOverBatch: number;
  readonly conditions: { readonly variables: number; readonly rounds: number; readonly warmupRounds: number; readonly atomic: boolean };
}

const VARIABLES = 100;
const ROUNDS = Number(process.env.BENCH_BRIDGE_ROUNDS ?? 200);
const WARMUP_ROUNDS = 20;
const SESSION = 'bridge-batch';

export async function runBridgeBatch(server: BenchServer, rounds = ROUNDS): Promise<BridgeBatchResult> {
  const rpc = new BridgeRpc(server.address);
  try {
    await rpc.call('initializeSession', { sessionId: SESSION });
    const names = Array.from({ length: VARIABLES }, (_, i) => `p${i}`);
    for (const name of names) {
      // Constraints as a Snakepit worker registers them, so replies carry constraints_json.
      await rpc.call('registerVariable', {
        sessionId: SESSION,
        name,
        type: 'float',
        initialValue: jsonAny('float', 0.5),
        constraintsJson: JSON.stringify({ min: 0, max: 1 }),
      });
    }
    let tick = 0;
    const next = () => (++tick % 1000) / 1000;
    const time = async (fn: () => Promise<unknown>): Promise<number> => {
      const start = performance.now();
      await fn();
      return since(start);
    };
    const setSingle = () => rpc.call('setVariable', { sessionId: SESSION, variableIdentifier: 'p0', value: jsonAny('float', next()) });
    const setBatch = async () => {
      const updates = Object.fromEntries(names.map((n) => [n, jsonAny('float', next())]));
      const reply = await rpc.call('setVariables', { sessionId: SESSION, updates, atomic: false });
      if (!reply.success) throw new Error(`SetVariables failed: ${JSON.stringify(reply.errors)}`);
    };
    const getSingle = () => rpc.call('getVariable', { sessionId: SESSION, variableIdentifier: 'p0' });
    const getBatch = async () => {
      const reply = await rpc.call('getVariables', { sessionId: SESSION, variableIdentifiers: names });
      if (Object.keys(reply.variables).length !== VARIABLES) throw new Error('GetVariables missed variables');
    };

    const samples = { setSingle: [] as number[], setBatch: [] as number[], getSingle: [] as number[], getBatch: [] as number[] };
    for (let r = 0; r < WARMUP_ROUNDS + rounds; r++) {
      const s1 = await time(setSingle);
      const sb = await time(setBatch);
      const g1 = await time(getSingle);
      const gb = await time(getBatch);
      if (r < WARMUP_ROUNDS) continue;
      samples.setSingle.push(s1);
      samples.setBatch.push(sb);
      samples.getSingle.push(g1);
      samples.getBatch.push(gb);
    }
    const setSingleMs = median(samples.setSingle);
    const setBatchMs = median(samples.setBatch);
    const getSingleMs = median(samples.getSingle);
    const getBatchMs = median(samples.getBatch);
    return {
      setSingleMs: round(setSingleMs, 3),
      setBatchMs: round(setBatchMs, 3),
      getSingleMs: round(getSingleMs, 3),
      getBatchMs: round(getBatchMs, 3),
      setBatchOverSingle: round(setBatchMs / setSingleMs, 2),
      getBatchOverSingle: round(getBatchMs / getSingleMs, 2),
      hundredSinglesOverBatch: round((VARIABLES * setSingleMs) / setBatchMs, 1),
      conditions: { variables: VARIABLES, rounds, warmupRounds: WARMUP_ROUNDS, atomic: false },
    };
  } finally {
    rpc.close();
  }
}
