/**
 * Folds the log from genesis, stopping at each snapshot's revision to compare
 * the snapshot with the fold so far. One pass over the log however many
 * snapshots there are: after each stop the (frozen) fold is thawed through the
 * snapshot codec and the fold continues from it.
 */
import { foldSessions, type SessionState, type StoredEvent } from '../domain/index.js';
import { decodeSession, encodeSession } from '../store/snapshot-codec.js';
import type { SnapshotTable } from '../store/sqlite-snapshots.js';
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

/** Fresh, unfrozen copies foldSessions may continue from. */
function thaw(sessions: ReadonlyMap<string, SessionState>): Map<string, SessionState> {
  return new Map([...sessions].map(([id, s]) => [id, decodeSession(encodeSession(s))]));
}

/**
 * @param events the log, oldest first, up to the revision to replay to
 * @param snapshots the snapshots to check, at or below the last revision, oldest first
 * @param onEvent called after each event (for a progress bar)
 * Throws if the log does not fold (an event for an unknown session, …).
 */
export function replayLog(
  events: Iterable<StoredEvent>,
  snapshots: Iterable<StoredSnapshot>,
  onEvent: (revision: number) => void = () => {},
): ReplayResult {
  const iterator = events[Symbol.iterator]();
  let pending = iterator.next();
  let count = 0;
  let lastRevision = 0;
  function* upTo(limit: number): Generator<StoredEvent> {
    while (!pending.done && pending.value.revision <= limit) {
      const event = pending.value;
      pending = iterator.next();
      count++;
      lastRevision = event.revision;
      onEvent(event.revision);
      yield event;
    }
  }

  let sessions: Map<string, SessionState> = new Map();
  let checked = 0;
  const mismatches: SnapshotMismatch[] = [];
  for (const snapshot of snapshots) {
    sessions = foldSessions(upTo(snapshot.revision), sessions.size > 0 ? thaw(sessions) : new Map());
    checked++;
    const problem = compareSnapshot(snapshot, sessions);
    if (problem) mismatches.push({ revision: snapshot.revision, problem });
  }
  sessions = foldSessions(upTo(Number.MAX_SAFE_INTEGER), thaw(sessions));
  return { events: count, lastRevision, sessions, snapshotsChecked: checked, mismatches };
}

/** The stored snapshots at or below a revision, oldest first, each read only when reached. */
export function* storedSnapshots(table: SnapshotTable, atOrBelow: number): Generator<StoredSnapshot> {
  for (const info of table.list(atOrBelow).reverse()) {
    yield { revision: info.revision, ...table.rows(info) };
  }
}
