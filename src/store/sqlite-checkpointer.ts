/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs
 * inside whichever COMMIT pushes the WAL past its limit, and with
 * `synchronous=NORMAL` it fsyncs the WAL and the database file: measured
 * here at 2.7 ms per commit of 100 events on average (most of a write's
 * cost), paid by one unlucky caller while every other call waits on the
 * same thread. Instead, the server's connection checkpoints only as a
 * backstop (BACKSTOP_PAGES), and a worker thread with its own connection
 * runs a PASSIVE checkpoint after every CHECKPOINT_EVERY_EVENTS appended
 * events; the fsync then blocks that thread, not the writer.
 *
 * Nothing about durability changes: a COMMIT is as durable as before (the
 * WAL), and SQLite keeps checkpoints crash-safe whichever connection runs
 * them. If the worker cannot start or dies, the connection goes back to
 * SQLite's default automatic checkpoint.
 */
import { Worker } from 'node:worker_threads';
import type { CheckpointDone } from './sqlite-checkpoint-worker.js';

/** Appended events between checkpoint requests (a few WAL pages each). */
export const CHECKPOINT_EVERY_EVENTS = 256;
/** The writer's own automatic checkpoint, only reached if the worker falls behind (pages, 16 MB; SQLite's default is 1,000). */
export const BACKSTOP_PAGES = 4_000;
/** SQLite's default automatic checkpoint, restored if the worker fails. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;

export class WalCheckpointer {
  private worker: Worker | undefined;
  private failed = false;
  private sinceRequest = 0;
  private running = false;
  private requestedAgain = false;
  private idleWaiters: (() => void)[] = [];
  private exited: Promise<void> | undefined;

  /**
   * @param path the database file (the worker opens its own connection)
   * @param setAutoCheckpoint sets the writer connection's `wal_autocheckpoint` (pages)
   */
  constructor(
    private readonly path: string,
    private readonly setAutoCheckpoint: (pages: number) => void,
  ) {
    this.setAutoCheckpoint(BACKSTOP_PAGES);
  }

  /** Counts appended events; asks for a checkpoint every CHECKPOINT_EVERY_EVENTS. Never throws. */
  appended(events: number): void {
    this.sinceRequest += events;
    if (this.sinceRequest < CHECKPOINT_EVERY_EVENTS || this.failed) return;
    this.sinceRequest = 0;
    this.request();
  }

  /** Resolves when no checkpoint is running or asked for (tests). */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Asks for a checkpoint now (tests; otherwise `appended` decides). */
  request(): void {
    if (this.failed) return;
    if (this.running) {
      this.requestedAgain = true;
      return;
    }
    const worker = this.worker ?? this.start();
    if (!worker) return;
    this.running = true;
    // Referenced while it works, so whoever awaits `idle()` keeps the process alive; idle, it never does.
    worker.ref();
    worker.postMessage('checkpoint');
  }

  /** Stops the worker (before the writer connection closes: the last connection to close cleans up the WAL). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failed = true;
    if (worker) {
      // Referenced, or an otherwise idle process would exit before the worker does and leave this pending.
      worker.ref();
      worker.postMessage('close');
      await this.exited;
    }
    this.settle();
  }

  private start(): Worker | undefined {
    try {
      const worker = new Worker(new URL('./sqlite-checkpoint-worker.js', import.meta.url), { workerData: { path: this.path } });
      worker.unref();
      worker.on('message', (_done: CheckpointDone) => this.finished());
      worker.on('error', () => this.fail());
      this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
      worker.once('exit', () => {
        if (this.worker === worker) this.fail();
      });
      this.worker = worker;
      return worker;
    } catch {
      this.fail();
      return undefined;
    }
  }

  private finished(): void {
    this.running = false;
    this.worker?.unref();
    if (this.requestedAgain) {
      this.requestedAgain = false;
      this.request();
      return;
    }
    this.settle();
  }

  private fail(): void {
    if (this.failed && !this.worker) return this.settle();
    this.failed = true;
    this.worker = undefined;
    try {
      this.setAutoCheckpoint(DEFAULT_AUTOCHECKPOINT_PAGES);
    } catch {
      // The connection is closed already: nothing left to checkpoint for.
    }
    this.settle();
  }

  private settle(): void {
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
