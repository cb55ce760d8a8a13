/**
 * Helpers for watch tests: operation builders for Commit, a bounded wait on
 * server-side state (no timers), readers that skip progress messages, and a
 * `varledger serve` child process for restart tests.
 */
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { ExecutionContext } from 'ava';
import type { DeepPartial, Operation, Value, WatchResponse, WatchVariablesRequest } from '../../src/gen/varledger/v1/ledger.js';
import { WatchEventKind } from '../../src/gen/varledger/v1/ledger.js';
import { startLedger, type TestLedger, type TestServerOptions } from './harness.js';
import { spawnReaped } from './reaper.js';
import { WatchReader } from './watch-reader.js';

export type WireEvent = WatchResponse['events'][number];

/** A test ledger stopped (and its database removed) when the test ends. */
export async function ledgerFor(t: ExecutionContext, options: TestServerOptions = {}): Promise<TestLedger> {
  const ledger = await startLedger(options);
  t.teardown(() => ledger.stop());
  return ledger;
}

/** Opens a watch on the ledger's client; cancelled when the test ends. */
export function openWatch(t: ExecutionContext, ledger: TestLedger, request: DeepPartial<WatchVariablesRequest>): WatchReader {
  const reader = new WatchReader(ledger.rpc.watch(request));
  t.teardown(() => reader.cancel());
  return reader;
}

export const setOp = (identifier: string, value: DeepPartial<Value>, metadata: Record<string, string> = {}): DeepPartial<Operation> => ({
  op: { $case: 'set', set: { identifier, value, metadata } },
});
export const deleteOp = (identifier: string): DeepPartial<Operation> => ({ op: { $case: 'delete', delete: { identifier } } });
export const registerOp = (name: string, type: number, initialValue: DeepPartial<Value>): DeepPartial<Operation> => ({
  op: { $case: 'register', register: { name, type, initialValue } },
});

/** The kind as a readable name, so failures say "WATCH_EVENT_KIND_SET" rather than 3. */
export const kindName = (event: WireEvent | undefined): string => (event ? (WatchEventKind[event.kind] ?? String(event.kind)) : 'none');

/** The integer carried by a wire value (integer variables), or undefined. */
export function intOf(value: Value | undefined): number | undefined {
  return value?.kind?.$case === 'integerValue' ? Number(value.kind.integerValue) : undefined;
}

/**
 * Awaits a condition on server state that changes as the event loop runs
 * (e.g. the hub noticing a cancelled stream). Yields with setImmediate so
 * network I/O proceeds between checks; `maxTurns` only guards against a hang.
 */
export async function until(condition: () => boolean, what: string, maxTurns = 200_000): Promise<void> {
  for (let turn = 0; turn < maxTurns; turn++) {
    if (condition()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`gave up waiting for: ${what}`);
}

/** The next message that carries events, skipping progress messages. */
export async function nextWithEvents(reader: WatchReader): Promise<WatchResponse> {
  for (;;) {
    const message = await reader.next();
    if (message.events.length > 0) return message;
  }
}

/** Reads messages (skipping progress) until one at or beyond `revision`; returns those with events. */
export async function readThrough(reader: WatchReader, revision: bigint): Promise<WatchResponse[]> {
  const messages: WatchResponse[] = [];
  for (;;) {
    const message = await reader.next();
    if (message.events.length > 0) messages.push(message);
    if (message.revision >= revision) return messages;
  }
}

/** A `varledger serve` child process on a free port. */
export interface ServerProcess {
  readonly port: number;
  readonly address: string;
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Sends a signal and resolves once the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
  stderr(): string;
}

const CLI = new URL('../../src/cli/main.js', import.meta.url);

/** Spawns the built CLI on `dataPath` and resolves once it prints `GRPC_READY:<port>`. */
export function spawnServer(dataPath: string): Promise<ServerProcess> {
  // Reaped: a test that times out must not leave the server running.
  const child = spawnReaped(process.execPath, [CLI.pathname, 'serve', '--port', '0', '--data', dataPath, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcessByStdio<null, Readable, Readable>;
  let errors = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    const onExit = (code: number | null, signal: string | null) =>
      reject(new Error(`server exited before ready (code ${code}, signal ${signal}): ${errors}`));
    child.once('exit', onExit);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /GRPC_READY:(\d+)\n/.exec(out);
      if (!match) return;
      child.off('exit', onExit);
      const port = Number(match[1]);
      resolve({
        port,
        address: `127.0.0.1:${port}`,
        child,
        stderr: () => errors,
        kill(signal) {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    });
  });
}
