/**
 * A separate client process for disconnect tests: opens `count` watches of a
 * session on `address`, prints `WATCHING` once each has its initial message,
 * then waits to be killed.
 * Usage: node watch-client-process.js <address> <sessionId> <count>
 */
import { LedgerRpc } from '../../src/client/ledger-rpc.js';
import { WatchReader } from './watch-reader.js';

const [address, sessionId, count] = process.argv.slice(2);
if (!address || !sessionId) throw new Error('usage: watch-client-process <address> <sessionId> [count]');
const rpc = new LedgerRpc(address);
const readers = Array.from({ length: Number(count ?? 1) }, () => new WatchReader(rpc.watch({ sessionId, includeInitial: true })));
await Promise.all(readers.map((reader) => reader.next()));
process.stdout.write('WATCHING\n');
// Keep the process alive (the open streams already do) until the test kills it.
setInterval(() => {}, 1 << 30);
