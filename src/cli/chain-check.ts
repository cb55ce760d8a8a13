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
import type { ChainedRow } from '../store/audit-source.js';
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

/**
 * @param pages every event row with its stored hash (null if none), by revision, in pages
 * @param chainHead the newest row of the stored chain (it may outlive deleted events)
 * @param expected a published digest the recomputed chain must reproduce
 */
export async function checkChain(pages: AsyncIterable<readonly ChainedRow[]>, chainHead: Digest, expected?: Digest): Promise<ChainReport> {
  let hash = GENESIS_HASH;
  let previousStored = GENESIS_HASH;
  let revision = 0;
  let events = 0;
  let problem: ChainProblem | undefined;
  let changed: { row: EventRow; previousStored: string; stored: string } | undefined;
  const suspects: Suspect[] = [];
  let hashAtExpected = expected?.revision === 0 ? GENESIS_HASH : undefined;

  for await (const page of pages) {
    for (const stored of page) {
      const row = stored.slice(0, 9) as unknown as EventRow;
      const storedHash = stored[9];
      const rev = row[0];
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
  return { events, head: { revision, hash: revision === 0 ? GENESIS_HASH : hash }, ...(problem && { problem }) };
}
