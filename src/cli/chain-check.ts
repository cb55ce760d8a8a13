/**
 * Recomputes the hash chain from genesis over the stored rows and finds the
 * first revision where the log stops being the one the chain sealed.
 *
 * Classifying the damage uses the stored hashes locally: row r is intact iff
 * chainHash(stored(r-1), row r) = stored(r), which holds for untouched rows
 * even after an earlier one changed. So the rows that fail it are exactly the
 * altered ones, and if another altered row, put back at r, seals correctly,
 * the rows were moved rather than edited.
 */
import type { ChainedRow, RemovedRun } from '../store/audit-source.js';
import type { EventRow } from '../store/event-codec.js';
import { chainHash, GENESIS_HASH, type Digest } from '../store/hash-chain.js';

export type ChainProblemKind = 'changed' | 'missing' | 'out of order' | 'digest mismatch';

export interface ChainProblem {
  readonly revision: number;
  readonly kind: ChainProblemKind;
  readonly detail: string;
}

export interface ChainReport {
  readonly events: number;
  /** Revisions retention removed (archived; their chain rows kept and trusted here, proven by `verify --archive`). */
  readonly removed: number;
  /** The recomputed head. */
  readonly head: Digest;
  readonly problem?: ChainProblem;
}

/** Altered rows kept for classifying the first problem; enough for any real tampering. */
const MAX_SUSPECTS = 10_000;

interface Suspect {
  readonly row: EventRow;
}

function classifyChange(revision: number, row: EventRow, previousStored: string, stored: string, suspects: readonly Suspect[]): ChainProblem {
  for (const other of suspects) {
    const moved: EventRow = [...other.row];
    moved[0] = revision;
    if (chainHash(previousStored, moved) === stored) {
      return { revision, kind: 'out of order', detail: `the event that belongs at revision ${revision} is stored at revision ${other.row[0]}` };
    }
    const swappedPayload: EventRow = [...row];
    swappedPayload[8] = other.row[8];
    if (chainHash(previousStored, swappedPayload) === stored) {
      return { revision, kind: 'out of order', detail: `the payload that belongs at revision ${revision} is stored at revision ${other.row[0]}` };
    }
  }
  return { revision, kind: 'changed', detail: 'the event differs from the one its chain hash sealed' };
}

/** What retention recorded, for a chain with removed revisions (AuditView.removedRuns, chainHashes). */
export interface RemovedRecords {
  readonly runs: AsyncIterable<readonly RemovedRun[]>;
  /** The kept chain hash of a removed revision: a published digest may fall inside a run. */
  chainHashAt(revision: number): Promise<string | undefined>;
}

/** Reads runs one at a time from their pages. */
function cursorOf(runs: AsyncIterable<readonly RemovedRun[]> | undefined) {
  const pages = runs?.[Symbol.asyncIterator]();
  let page: readonly RemovedRun[] = [];
  let index = 0;
  let done = pages === undefined;
  return {
    async peek(): Promise<RemovedRun | undefined> {
      while (index >= page.length && !done) {
        const next = await (pages as AsyncIterator<readonly RemovedRun[]>).next();
        if (next.done) done = true;
        else [page, index] = [next.value, 0];
      }
      return page[index];
    },
    take(): void {
      index++;
    },
  };
}

/**
 * @param pages every event row with its stored hash (null if none), by revision, in pages
 * @param chainHead the newest row of the stored chain (it may outlive deleted events)
 * @param expected a published digest the recomputed chain must reproduce
 * @param removed revisions retention removed: a gap there is sanctioned, and
 *   the chain goes on from the hash kept for the gap's last revision
 */
export async function checkChain(
  pages: AsyncIterable<readonly ChainedRow[]>,
  chainHead: Digest,
  expected?: Digest,
  removed?: RemovedRecords,
): Promise<ChainReport> {
  let hash = GENESIS_HASH;
  let previousStored = GENESIS_HASH;
  let revision = 0;
  let events = 0;
  let problem: ChainProblem | undefined;
  let changed: { row: EventRow; previousStored: string; stored: string } | undefined;
  const suspects: Suspect[] = [];
  let hashAtExpected = expected?.revision === 0 ? GENESIS_HASH : undefined;
  let removedCount = 0;
  const runs = cursorOf(removed?.runs);

  /** Steps over the removed runs that start at or before `upTo`. */
  const passRemoved = async (upTo: number) => {
    for (let run = await runs.peek(); run && run.from <= upTo; run = await runs.peek()) {
      runs.take();
      if (!problem && run.from !== revision + 1) {
        problem =
          run.from <= revision
            ? { revision: run.from, kind: 'changed', detail: `revision ${run.from} is recorded as removed by retention but is still in the log` }
            : { revision: revision + 1, kind: 'missing', detail: `no event at revision ${revision + 1} (the next one is ${run.from}, removed by retention)` };
      }
      if (!problem && run.hash === null) {
        problem = { revision: run.to, kind: 'missing', detail: `the chain has no row for revision ${run.to}, which retention removed` };
      }
      if (expected && expected.revision >= run.from && expected.revision <= run.to) {
        hashAtExpected = expected.revision === run.to ? (run.hash ?? undefined) : await removed?.chainHashAt(expected.revision);
      }
      if (run.hash !== null) hash = previousStored = run.hash;
      revision = Math.max(revision, run.to);
      removedCount += run.to - run.from + 1;
    }
  };

  for await (const page of pages) {
    for (const stored of page) {
      const row = stored.slice(0, 9) as unknown as EventRow;
      const storedHash = stored[9];
      const rev = row[0];
      await passRemoved(rev - 1);
      const recomputed = chainHash(hash, row);
      if (!problem) {
        if (rev !== revision + 1) {
          problem = { revision: revision + 1, kind: 'missing', detail: `no event at revision ${revision + 1} (the next one is ${rev})` };
        } else if (storedHash === null) {
          problem = { revision: rev, kind: 'missing', detail: 'the event has no row in the hash chain' };
        } else if (storedHash !== recomputed) {
          changed = { row, previousStored, stored: storedHash };
          problem = { revision: rev, kind: 'changed', detail: '' };
        }
      } else if (storedHash !== null && suspects.length < MAX_SUSPECTS && chainHash(previousStored, row) !== storedHash) {
        suspects.push({ row });
      }
      if (expected && rev === expected.revision) hashAtExpected = recomputed;
      hash = recomputed;
      previousStored = storedHash ?? recomputed;
      revision = rev;
      events++;
    }
  }

  await passRemoved(Number.MAX_SAFE_INTEGER);
  if (changed && problem) problem = classifyChange(problem.revision, changed.row, changed.previousStored, changed.stored, suspects);
  if (!problem && chainHead.revision > revision) {
    problem = { revision: revision + 1, kind: 'missing', detail: `the chain seals up to revision ${chainHead.revision}, the log ends at ${revision}` };
  }
  if (expected) {
    const digestProblem =
      expected.revision > revision
        ? `the log ends at revision ${revision}`
        : hashAtExpected !== expected.hash
          ? `the chain at revision ${expected.revision} is ${hashAtExpected ?? '(none)'}, not ${expected.hash}`
          : undefined;
    // Report whichever is earlier: the first bad revision is what the user needs.
    if (digestProblem && (!problem || expected.revision < problem.revision)) {
      problem = { revision: expected.revision, kind: 'digest mismatch', detail: digestProblem };
    }
  }
  return { events, removed: removedCount, head: { revision, hash: revision === 0 ? GENESIS_HASH : hash }, ...(problem && { problem }) };
}
