/**
 * `serve --retain-ended`: now and then, sessions that ended more than the
 * retention period ago (by the server's injected clock) are moved into a new
 * archive file in the archive directory (LedgerService.compact). Runs never
 * overlap; a failed run is logged and retried at the next tick.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../service/clock.js';
import type { LedgerService } from '../service/ledger-service.js';
import { ArchiveFile } from '../store/archive-file.js';

export interface RetentionOptions {
  /** Sessions that ended longer ago than this are archived, ms. */
  readonly retainEndedMs: number;
  /** Where archive files go (created if missing). */
  readonly archiveDir: string;
  /** How often to look, ms of real time. */
  readonly intervalMs: number;
}

/** `varledger-archive-2026-01-31T09-00-00-000Z.jsonl`, with `-2`, `-3` … if the name is taken. */
export function archivePath(dir: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  for (let n = 1; ; n++) {
    const path = join(dir, `varledger-archive-${stamp}${n > 1 ? `-${n}` : ''}.jsonl`);
    if (!existsSync(path)) return path;
  }
}

/** Starts the periodic compaction; returns the function that stops it (and waits for a run in progress). */
export function startRetentionSweep(service: LedgerService, clock: Clock, options: RetentionOptions, logger: Logger): () => Promise<void> {
  mkdirSync(options.archiveDir, { recursive: true });
  let running: Promise<void> | undefined;
  const run = async () => {
    const now = clock.now();
    const path = archivePath(options.archiveDir, now);
    const result = await service.compact({ endedBefore: now - options.retainEndedMs, archive: new ArchiveFile(path) });
    if (result) {
      logger.info(
        { revision: result.revision, sessions: result.sessions.length, events: result.events, horizon: result.horizon, archive: path },
        'ended sessions archived',
      );
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
    await running;
  };
}
