/**
 * The bridge's per-variable cost: one SetVariables / GetVariables call of
 * 100 variables against one SetVariable / GetVariable call, over real gRPC
 * with values encoded as Snakepit's Python worker encodes them. Rounds
 * alternate the four calls after a warm-up; figures are medians. The target
 * (issue 17) is batch ≤ 3× single for both, so 100 single sets cost ≥ 10×
 * one batch (the last figure).
 *
 * Where a SetVariables of 100 spends its time is shown beside it, in this
 * process without gRPC: the ledger service's commit of 100 sets against one
 * set (decide, SQLite append, projection: the service's work, the same for
 * both APIs), and the bridge's own per-batch work (decoding 100 Snakepit
 * values, encoding 100 variables for a GetVariables reply).
 */
import { pino } from 'pino';
import { decodeAny } from '../src/compat/any-codec.js';
import { variableToBridge } from '../src/compat/bridge-wire.js';
import { EncodingMemory } from '../src/compat/encoding-memory.js';
import { parseSessionId, parseVariableName, type SetVariable, type VariableState } from '../src/domain/index.js';
import { startServer } from '../src/server/server.js';
import { BridgeRpc, jsonAny } from './bridge-rpc.js';
import { BENCH_SERVER_OPTIONS, makeTempDir, type BenchServer } from './server-fixture.js';
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
  /** In process, no gRPC: the service's commit of 100 sets and one set, and the bridge's own work per batch. */
  readonly inProcess: {
    readonly serviceCommitMs: number;
    readonly serviceSetMs: number;
    readonly serviceCommitOverSet: number;
    readonly bridgeDecodeUs: number;
    readonly bridgeEncodeUs: number;
  };
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
      inProcess: await measureInProcess(rounds),
      conditions: { variables: VARIABLES, rounds, warmupRounds: WARMUP_ROUNDS, atomic: false },
    };
  } finally {
    rpc.close();
  }
}

/** The service's commit of 100 sets vs one set, and the bridge's own work, without gRPC. */
async function measureInProcess(rounds: number): Promise<BridgeBatchResult['inProcess']> {
  const tmp = makeTempDir('varledger-bench-');
  const server = await startServer({ ...BENCH_SERVER_OPTIONS, dataPath: `${tmp.dir}/ledger.db`, logger: pino({ level: 'silent' }) });
  try {
    const { service } = server;
    const sessionId = parseSessionId(SESSION);
    const names = Array.from({ length: VARIABLES }, (_, i) => `p${i}`);
    const variables: VariableState[] = [];
    for (const name of names) {
      const v = { kind: 'float', value: 0.5 } as const;
      const registered = await service.register(
        { sessionId, name: parseVariableName(name), type: 'float', value: v, constraints: { min: 0, max: 1 }, metadata: {}, description: '' },
        'bench',
      );
      variables.push(registered);
    }
    let tick = 0;
    const value = () => ({ kind: 'float', value: (++tick % 1000) / 1000 }) as const;
    const anys = names.map(() => jsonAny('float', (++tick % 1000) / 1000));
    const encodings = new EncodingMemory();
    const samples = { commit: [] as number[], set: [] as number[], decode: [] as number[], encode: [] as number[] };
    for (let r = 0; r < WARMUP_ROUNDS + rounds; r++) {
      const operations: SetVariable[] = names.map((identifier) => ({ kind: 'set_variable', sessionId, identifier, value: value(), metadata: {} }));
      let start = performance.now();
      await service.commit({ sessionId, operations, atomic: false }, 'bench');
      const commit = since(start);
      start = performance.now();
      await service.set({ sessionId, identifier: 'p0', value: value(), metadata: {} }, 'bench');
      const set = since(start);
      start = performance.now();
      for (const [i, any] of anys.entries()) decodeAny(any, undefined, `updates[p${i}]`);
      const decode = since(start);
      start = performance.now();
      for (const v of variables) variableToBridge(v, encodings);
      const encode = since(start);
      if (r < WARMUP_ROUNDS) continue;
      samples.commit.push(commit);
      samples.set.push(set);
      samples.decode.push(decode);
      samples.encode.push(encode);
    }
    const serviceCommitMs = median(samples.commit);
    const serviceSetMs = median(samples.set);
    return {
      serviceCommitMs: round(serviceCommitMs, 3),
      serviceSetMs: round(serviceSetMs, 3),
      serviceCommitOverSet: round(serviceCommitMs / serviceSetMs, 1),
      bridgeDecodeUs: round(median(samples.decode) * 1000, 1),
      bridgeEncodeUs: round(median(samples.encode) * 1000, 1),
    };
  } finally {
    await server.shutdown();
    tmp.remove();
  }
}
