/**
 * `serve --retain-ended`: now and then, sessions that ended more than the
 * retention period ago (by the server's injected clock) are moved into
 * archive files in the archive directory (LedgerService.compact). Runs never
 * overlap; a failed run is logged and retried at the next tick.
 *
 * A run works through its backlog in steps — one compaction (one archive
 * file, one log_compacted event) of at most SWEEP_STEP — and gives the
 * event loop a turn between steps. On SQLite a compaction runs on the event
 * loop; on PostgreSQL it holds the log's write lock: either way one
 * compaction of a large backlog (retention switched on over an old log:
 * 10,000 ended sessions of 10 events) stalled every other client for the
 * whole of it (SQLite: the loop blocked 0.7–0.8 s; PostgreSQL: writers on
 * other sessions waited 1.7–3.7 s), a step for tens of ms.
 */
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Clock } from '../service/clock.js';
import type { LedgerService } from '../service/ledger-service.js';
import { ArchiveFile } from '../store/archive-file.js';
import { nextArchivePath } from './archive-names.js';

export interface RetentionOptions {
  /** Sessions that ended longer ago than this are archived, ms. */
  readonly retainEndedMs: number;
  /** Where archive files go (created if missing). */
  readonly archiveDir: string;
  /** How often to look, ms of real time. */
  readonly intervalMs: number;
  /** The most one compaction of a run takes; SWEEP_STEP unless set (tests). */
  readonly step?: SweepStep;
  /** Lets others run between two steps; one turn of the event loop unless set (tests gate it). */
  readonly betweenSteps?: () => Promise<void>;
}

export interface SweepStep {
  readonly maxSessions: number;
  readonly maxEvents: number;
}

/**
 * One step of a run: 500 events (10,000 sessions of 10 events: 200 steps)
 * kept the event loop's worst stall at 16–17 ms on SQLite, incremental
 * vacuum included (1,000 events: 23–34 ms; load average 1). A session
 * bigger than that still goes whole, in a step of its own.
 */
export const SWEEP_STEP: SweepStep = { maxSessions: 500, maxEvents: 500 };

/** One turn of the event loop: the calls that arrived meanwhile are read and answered. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Starts the periodic compaction; returns the function that stops it (and waits for a run in progress). */
export function startRetentionSweep(service: LedgerService, clock: Clock, options: RetentionOptions, logger: Logger): () => Promise<void> {
  mkdirSync(options.archiveDir, { recursive: true });
  const step = options.step ?? SWEEP_STEP;
  const betweenSteps = options.betweenSteps ?? nextTurn;
  let running: Promise<void> | undefined;
  let stopping = false;
  const run = async () => {
    // One cut-off for the whole run: its steps archive what had ended by then.
    const now = clock.now();
    const endedBefore = now - options.retainEndedMs;
    let compacted = false;
    // Each step's archive: the run's time and the next sequence number (archive-names.ts).
    let sequence = 1;
    try {
      while (!stopping) {
        const next = nextArchivePath(options.archiveDir, now, sequence);
        const path = next.path;
        sequence = next.sequence + 1;
        const result = await service.compact({ endedBefore, archive: new ArchiveFile(path), ...step, snapshot: false });
        if (!result) break;
        compacted = true;
        logger.info(
          { revision: result.revision, sessions: result.sessions.length, events: result.events, horizon: result.horizon, archive: path },
          'ended sessions archived',
        );
        await betweenSteps();
      }
    } finally {
      // Each compaction dropped the snapshots before it; one new one for the run, not one per step.
      if (compacted) await service.snapshot();
    }
  };
  const timer = setInterval(() => {
    if (running) return;
    running = run()
      .catch((error: unknown) => logger.error({ err: error }, 'retention run failed'))
      .finally(() => (running = undefined));
  }, options.intervalMs).unref();
  return async () => {
    clearInterval(timer);
    // A run in progress ends after its current step; the next run takes the rest.
    stopping = true;
    await running;
  };
}
