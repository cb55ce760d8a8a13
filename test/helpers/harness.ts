/**
 * Test harness: a real server on 127.0.0.1 port 0 with a fresh temp database,
 * a controllable clock, and a promise-based client over real gRPC.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/server.js';
import type { Clock } from '../../src/service/clock.js';

/** A clock tests move by hand, so expiry is tested without waiting. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

export function tempDir(prefix = 'varledger-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TestLedger {
  readonly server: RunningServer;
  /** Promise-based client over real gRPC: `rpc.call('getVariable', {...})`. */
  readonly rpc: LedgerRpc;
  readonly clock: ManualClock;
  readonly dataPath: string;
  readonly address: string;
  /** Stops the client and server; keeps the database unless `remove` is set. */
  stop(options?: { remove?: boolean }): Promise<void>;
}

export type TestServerOptions = Partial<ServerOptions> & { dataPath?: string };

/** Starts a server with a fresh temp database (or `dataPath`) and connects a client. */
export async function startLedger(options: TestServerOptions = {}): Promise<TestLedger> {
  const tmp = options.dataPath ? undefined : tempDir();
  const dataPath = options.dataPath ?? join(tmp!.dir, 'ledger.db');
  const clock = options.clock instanceof ManualClock ? options.clock : new ManualClock();
  let suffix = 0;
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    durability: 'normal',
    maxMessageBytes: 10 * 1024 * 1024,
    clock,
    newIdSuffix: () => (++suffix).toString(36).padStart(4, '0'),
    expirySweepMs: 0,
    ...options,
    dataPath,
    logger: options.logger ?? pino({ level: process.env.VARLEDGER_TEST_LOG ?? 'silent' }, pino.destination(2)),
  });
  const address = `127.0.0.1:${server.port}`;
  const rpc = new LedgerRpc(address);
  return {
    server,
    rpc,
    clock,
    dataPath,
    address,
    async stop({ remove = true } = {}) {
      rpc.close();
      await server.shutdown();
      if (remove) tmp?.remove();
    },
  };
}
