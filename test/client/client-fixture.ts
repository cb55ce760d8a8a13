/** Client tests: a real in-process server per test, and clients torn down with it. */
import type { ExecutionContext } from 'ava';
import { connect, type ConnectOptions, type VarledgerClient } from '../../src/client/index.js';
import { startLedger, type TestLedger, type TestServerOptions } from '../helpers/harness.js';

export interface ClientLedger {
  readonly ledger: TestLedger;
  /** Another client on the same server (closed at teardown). */
  client(options?: ConnectOptions): Promise<VarledgerClient>;
}

export async function clientLedger(t: ExecutionContext, serverOptions: TestServerOptions = {}): Promise<ClientLedger> {
  const ledger = await startLedger(serverOptions);
  const clients: VarledgerClient[] = [];
  t.teardown(async () => {
    for (const c of clients) await c.close();
    await ledger.stop();
  });
  return {
    ledger,
    async client(options = {}) {
      const c = await connect(ledger.address, { actor: 'tester', ...options });
      clients.push(c);
      return c;
    },
  };
}

/** Reads the next `count` events of an iterator; fails instead of hanging if it ends first. */
export async function take<T>(iterator: AsyncIterator<T>, count: number): Promise<T[]> {
  const items: T[] = [];
  while (items.length < count) {
    const next = await iterator.next();
    if (next.done) throw new Error(`iterator ended after ${items.length} of ${count} items`);
    items.push(next.value);
  }
  return items;
}
