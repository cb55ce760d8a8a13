/**
 * Child-process entry of the bench server (see server-fixture.ts): starts a
 * server on 127.0.0.1:0 with the database path given as argv[2], reports the
 * port to the parent over IPC, and shuts down when told to or when the parent
 * goes away.
 */
import { pino } from 'pino';
import { startServer } from '../src/server/server.js';
import { BENCH_SERVER_OPTIONS } from './server-fixture.js';

const dataPath = process.argv[2];
if (!dataPath || !process.send) {
  console.error('usage: forked by bench/server-fixture.ts with a database path');
  process.exit(2);
}

try {
  const server = await startServer({ ...BENCH_SERVER_OPTIONS, dataPath, logger: pino({ level: 'silent' }) });
  const stop = async () => {
    await server.shutdown();
    process.disconnect?.();
    process.exit(0);
  };
  process.on('message', (message) => {
    if (message === 'shutdown') void stop();
  });
  process.once('disconnect', () => void stop());
  process.send({ port: server.port });
} catch (error) {
  process.send({ error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}
