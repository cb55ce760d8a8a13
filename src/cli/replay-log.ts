/**
 * Folds the log from genesis, stopping at each snapshot's revision to compare
 * the snapshot with the fold so far: one pass over the log, page by page,
 * however many snapshots there are.
 */
import { foldSessions, type SessionState, type StoredEvent } from '../domain/index.js';
import type { AuditView } from '../store/audit-source.js';
import { fromRow } from '../store/event-codec.js';
import { compareSnapshot, type StoredSnapshot } from './snapshot-compare.js';

export interface SnapshotMismatch {
  readonly revision: number;
  readonly problem: string;
}

export interface ReplayResult {
  readonly events: number;
  readonly lastRevision: number;
  readonly sessions: ReadonlyMap<string, SessionState>;
  readonly snapshotsChecked: number;
  readonly mismatches: readonly SnapshotMismatch[];
}

/** The log holds an event the fold refuses (one for a session it never created, …): a finding, not a read error. */
export class LogDoesNotFold extends Error {
  override name = 'LogDoesNotFold';
}

/**
 * @param pages the log, oldest first, up to the revision to replay to
 * @param snapshots the snapshots to check, at or below the last revision, oldest first
 * @param onEvent called after each event (for a progress bar)
 * Rejects with LogDoesNotFold if the log does not fold; with the store's error if it cannot be read.
 */
export async function replayLog(
  pages: AsyncIterable<readonly StoredEvent[]>,
  snapshots: AsyncIterable<StoredSnapshot>,
  onEvent: (revision: number) => void = () => {},
): Promise<ReplayResult> {
  // Unfrozen all along: the fold continues in place after each comparison.
  const sessions = new Map<string, SessionState>();
  const pending = snapshots[Symbol.asyncIterator]();
  let next = await pending.next();
  let count = 0;
  let lastRevision = 0;
  let checked = 0;
  const mismatches: SnapshotMismatch[] = [];
  const check = async (snapshot: StoredSnapshot) => {
    checked++;
    const problem = compareSnapshot(snapshot, sessions);
    if (problem) mismatches.push({ revision: snapshot.revision, problem });
    next = await pending.next();
  };

  for await (const page of pages) {
    let i = 0;
    while (i < page.length) {
      // Fold up to the next snapshot's revision (or the page's end), then check it once the fold is past it.
      const limit = next.done ? Number.POSITIVE_INFINITY : next.value.revision;
      let j = i;
      while (j < page.length && (page[j] as StoredEvent).revision <= limit) j++;
      if (j > i) {
        try {
          foldSessions(page.slice(i, j), sessions, { freeze: false });
        } catch (error) {
          throw new LogDoesNotFold(error instanceof Error ? error.message : String(error));
        }
        for (let k = i; k < j; k++) onEvent((page[k] as StoredEvent).revision);
        count += j - i;
        lastRevision = (page[j - 1] as StoredEvent).revision;
        i = j;
      }
      if (i < page.length && !next.done) await check(next.value);
    }
  }
  while (!next.done) await check(next.value);
  return { events: count, lastRevision, sessions, snapshotsChecked: checked, mismatches };
}

/** The log up to a revision as pages of events, oldest first. */
export async function* logPages(view: AuditView, upTo: number): AsyncGenerator<StoredEvent[]> {
  for await (const page of view.events({ beforeRevision: upTo + 1 })) yield page.map(fromRow);
}

/** The stored snapshots at or below a revision, oldest first, each read only when reached. */
export async function* storedSnapshots(view: AuditView, atOrBelow: number): AsyncGenerator<StoredSnapshot> {
  for (const info of (await view.snapshots(atOrBelow)).reverse()) {
    yield { revision: info.revision, ...(await view.snapshotRows(info)) };
  }
}
