/**
 * One fuzzing session against a running server: seeds a session with a
 * variable of every type, sends request bodies to any RPC, and checks after
 * each call what must always hold — the answer is a status a caller can act
 * on (never INTERNAL or UNKNOWN), the log moved only if the call succeeded
 * (tool-call records and session expiries aside), the call answered within
 * a second, and the server still answers Health. Shared by the CI test (test/fuzz/fuzz.test.ts) and the
 * longer run (bench/hostile-input.ts).
 */
import { status } from '@grpc/grpc-js';
import type { LedgerRpc } from '../../src/client/ledger-rpc.js';
import type { Revision } from '../../src/domain/index.js';
import { VariableType as T } from '../../src/gen/varledger/v1/ledger.js';
import type { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { floatValue, intValue, stringValue, tensorValue, vectorValue, boolValue } from '../helpers/grpc-expect.js';
import { RawClient, type RawReply } from '../helpers/raw-call.js';
import type { FuzzTarget } from './request-arbitraries.js';

/** Slowest answer allowed to any fuzzed call. */
export const MAX_CALL_MS = 1000;

const HEALTH = '/grpc.health.v1.Health/Check';

/** Statuses a well-formed refusal may carry. */
const REFUSALS = new Set([
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.ALREADY_EXISTS,
  status.FAILED_PRECONDITION,
  status.ABORTED,
  status.OUT_OF_RANGE,
  status.RESOURCE_EXHAUSTED,
]);

/** Snakepit RPCs varledger answers UNIMPLEMENTED by design. */
const UNIMPLEMENTED = /\/(AddDependency|StartOptimization|StopOptimization)$/;

/**
 * Tool calls are on the record even when they fail (tool_called, then
 * tool_failed), and a tool's own failure or a missing worker has its own
 * status: these paths may move the head and answer UNKNOWN / UNAVAILABLE /
 * DEADLINE_EXCEEDED.
 */
const TOOL_CALL = /\/(ExecuteTool|ExecuteStreamingTool|ExecuteElixirTool)$/;

export interface Outcome {
  readonly path: string;
  readonly code: status;
  readonly details: string;
  readonly ms: number;
  /** Kinds of the events appended during the call, but for tool records and expiries. */
  readonly appended: readonly string[];
  readonly healthy: boolean;
}

/** Registers one variable of each type in `s1` (and `s2`), as the fuzzed requests name them. */
export async function seedSessions(rpc: LedgerRpc): Promise<void> {
  for (const sessionId of ['s1', 's2']) {
    const register = (name: string, type: T, initialValue: Parameters<typeof rpc.call<'registerVariable'>>[1]['initialValue'], constraints = {}) =>
      rpc.call('registerVariable', { sessionId, name, type, initialValue, constraints });
    await register('f', T.VARIABLE_TYPE_FLOAT, floatValue(0.5), { min: 0, max: 1 });
    await register('i', T.VARIABLE_TYPE_INTEGER, intValue(1n));
    await register('s', T.VARIABLE_TYPE_STRING, stringValue('aaa'), { pattern: '(a+)+$' });
    await register('b', T.VARIABLE_TYPE_BOOLEAN, boolValue(true));
    await register('c', T.VARIABLE_TYPE_CHOICE, stringValue('a'), { choices: ['a', 'b'] });
    await register('m', T.VARIABLE_TYPE_MODULE, stringValue('Predict'));
    await register('e', T.VARIABLE_TYPE_EMBEDDING, vectorValue([1, 2, 3]), { dimensions: 3 });
    await register('t', T.VARIABLE_TYPE_TENSOR, tensorValue([2, 2], [1, 2, 3, 4]), { shape: [2, 2] });
    await register('a'.repeat(64), T.VARIABLE_TYPE_INTEGER, intValue(0n));
  }
}

/** The log as the invariants read it: its head, and the kinds of the events after a revision. */
export interface LogView {
  head(): number;
  kindsAfter(revision: number): string[];
}

/** A LogView over the SQLite file (the server's own, or a second connection to it). */
export const logView = (store: Pick<SqliteEventStore, 'head' | 'readAfter'>): LogView => ({
  head: () => store.head(),
  kindsAfter: (revision) => store.readAfter(revision as Revision, 1000).map((e) => e.kind),
});

/**
 * Events that may land while an unrelated call runs: a tool call's record
 * (a worker stream the fuzzer cancelled fails its calls later) and a
 * session's expiry. Anything else appended during a refused call is a bug.
 */
const ASYNC_KINDS = new Set(['tool_called', 'tool_completed', 'tool_failed', 'session_expired']);

export class FuzzClient {
  readonly raw: RawClient;

  constructor(
    address: string,
    private readonly log: LogView,
  ) {
    this.raw = new RawClient(address);
  }

  private settle = () => this.raw.unary(HEALTH, new Uint8Array());

  /** Sends `bodies` to `target` and observes everything the invariants need. */
  async call(target: FuzzTarget, bodies: readonly Uint8Array[]): Promise<Outcome> {
    const before = this.log.head();
    const started = performance.now();
    let reply: RawReply;
    if (target.kind === 'unary') reply = await this.raw.unary(target.path, bodies[0] ?? new Uint8Array(), { deadlineMs: 5 * MAX_CALL_MS });
    else if (target.kind === 'serverStream') reply = await this.raw.serverStream(target.path, bodies[0] ?? new Uint8Array(), this.settle, 5 * MAX_CALL_MS);
    else reply = await this.raw.bidi(target.path, bodies, this.settle);
    const ms = performance.now() - started;
    const health = await this.raw.unary(HEALTH, new Uint8Array(), { deadlineMs: 5 * MAX_CALL_MS });
    const appended = this.log.head() > before ? this.log.kindsAfter(before).filter((kind) => !ASYNC_KINDS.has(kind)) : [];
    return { path: target.path, code: reply.code, details: reply.details, ms, appended, healthy: health.code === status.OK };
  }

  close(): void {
    this.raw.close();
  }
}

/** What is wrong with an outcome, or undefined when every invariant holds. */
export function violation(o: Outcome): string | undefined {
  const code = status[o.code];
  const tool = TOOL_CALL.test(o.path);
  if (!o.healthy) return `${o.path}: the server stopped answering Health after ${code} ${o.details}`;
  if (o.ms > MAX_CALL_MS) return `${o.path}: took ${o.ms.toFixed(0)} ms (${code} ${o.details})`;
  const expected =
    o.code === status.OK ||
    REFUSALS.has(o.code) ||
    (o.code === status.UNIMPLEMENTED && UNIMPLEMENTED.test(o.path)) ||
    (tool && [status.UNKNOWN, status.UNAVAILABLE, status.DEADLINE_EXCEEDED].includes(o.code));
  if (!expected) return `${o.path}: answered ${code} ${o.details}`;
  if (o.appended.length > 0 && o.code !== status.OK && !tool) {
    return `${o.path}: appended ${o.appended.join(', ')} although it answered ${code} ${o.details}`;
  }
  return undefined;
}

/** Counts for the report: requests, statuses, the slowest call. */
export class FuzzStats {
  requests = 0;
  readonly codes = new Map<string, number>();
  readonly paths = new Set<string>();
  worst: { ms: number; path: string } = { ms: 0, path: '' };

  add(o: Outcome): void {
    this.requests++;
    const code = status[o.code] ?? String(o.code);
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    this.paths.add(o.path);
    if (o.ms > this.worst.ms) this.worst = { ms: o.ms, path: o.path };
  }

  summary(): string {
    const codes = [...this.codes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ');
    return `${this.requests} requests over ${this.paths.size} RPCs; ${codes}; slowest ${this.worst.ms.toFixed(1)} ms (${this.worst.path})`;
  }
}
