/**
 * Profiling entry for the bridge's batch calls: runs bridge-batch.ts against
 * an in-process server and prints the figures. Use with a CPU profile:
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/profile-bridge-batch.js [rounds]
 */
import { runBridgeBatch } from './bridge-batch.js';
import { startBenchServer } from './server-fixture.js';

const server = await startBenchServer('inproc');
try {
  console.log(await runBridgeBatch(server, Number(process.argv[2] ?? 300)));
} finally {
  await server.stop();
}
