/**
 * The WAL checkpointer's thread (see sqlite-checkpointer.ts): its own
 * connection to the file, running PASSIVE checkpoints when asked. PASSIVE
 * never waits for a lock and never blocks the writer or readers; SQLite
 * keeps it safe against a crash at any point, as its own auto-checkpoint is.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointDone {
  /** Frames in the WAL and frames copied into the database file by this checkpoint. */
  readonly walFrames: number;
  readonly checkpointed: number;
}

const port = parentPort;
if (!port) throw new Error('sqlite-checkpoint-worker runs as a worker thread');
const db = new Database((workerData as { path: string }).path, { fileMustExist: true });
// This connection never writes: it must not checkpoint on its own schedule either.
db.pragma('wal_autocheckpoint = 0');
// A checkpoint copies WAL frames to the file without the page cache: the 16 MiB better-sqlite3 gives each connection would only hold the schema.
db.pragma('cache_size = -128');
const checkpoint = db.prepare<[], [number, number, number]>('PRAGMA wal_checkpoint(PASSIVE)').raw();

port.on('message', (message: 'checkpoint' | 'close') => {
  if (message === 'close') {
    db.close();
    port.close();
    return;
  }
  const [, walFrames, checkpointed] = checkpoint.get() ?? [0, 0, 0];
  port.postMessage({ walFrames, checkpointed } satisfies CheckpointDone);
});
