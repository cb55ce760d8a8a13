/**
 * `verify --archive`: proves a retention archive against the live chain.
 * Every archived event must be one the log recorded as removed, carry the
 * hash the chain kept for its revision, and re-hash to it from the chain row
 * before it; and the file's SHA-256 must be the one a log_compacted event
 * recorded, so no line was added or dropped.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { AuditView } from '../store/audit-source.js';
import type { EventRow } from '../store/event-codec.js';
import { fromExported } from '../store/export-format.js';
import { chainHash, GENESIS_HASH } from '../store/hash-chain.js';

export interface ArchiveProblem {
  /** The revision of the first bad event, or 0 for the file as a whole. */
  readonly revision: number;
  readonly detail: string;
}

export interface ArchiveReport {
  readonly events: number;
  readonly sessions: number;
  readonly sha256: string;
  /** The compaction that recorded this archive's digest. */
  readonly compaction?: number;
  readonly problem?: ArchiveProblem;
}

const BATCH = 2_000;

interface Line {
  readonly number: number;
  readonly row: EventRow;
  readonly hash: string;
}

/** Checks a batch of archived events against the live chain; the first problem, if any. */
async function checkBatch(view: AuditView, lines: readonly Line[], compactions: Set<number>): Promise<ArchiveProblem | undefined> {
  const revisions = lines.map((l) => l.row[0]);
  const chain = await view.chainHashes([...new Set(revisions.flatMap((r) => [r - 1, r]))]);
  const removed = await view.removedBy(revisions);
  for (const { row, hash } of lines) {
    const revision = row[0];
    const compaction = removed.get(revision);
    if (compaction === undefined) return { revision, detail: 'the log did not remove this revision: the file is not an archive of this log' };
    compactions.add(compaction);
    const kept = chain.get(revision);
    if (kept !== hash) return { revision, detail: `the archived hash differs from the chain row kept for it (${kept ?? 'none'})` };
    const previous = revision === 1 ? GENESIS_HASH : chain.get(revision - 1);
    if (previous === undefined || chainHash(previous, row) !== kept) {
      return { revision, detail: 'changed: the archived event differs from the one its chain hash sealed' };
    }
  }
  return undefined;
}

/** The log_compacted events: revision → the archive digest it recorded, and how many events it removed. */
async function compactionsOf(view: AuditView): Promise<Map<string, { revision: number; events: number }>> {
  const found = new Map<string, { revision: number; events: number }>();
  for await (const page of view.events({ kinds: ['log_compacted'] })) {
    for (const row of page) {
      const payload = JSON.parse(row[8]) as { archive_sha256?: string; events?: number };
      if (payload.archive_sha256) found.set(payload.archive_sha256, { revision: row[0], events: payload.events ?? 0 });
    }
  }
  return found;
}

export async function checkArchive(path: string, view: AuditView): Promise<ArchiveReport> {
  const file = createReadStream(path);
  const digest = createHash('sha256');
  file.on('data', (chunk) => digest.update(chunk));
  const compactions = new Set<number>();
  const sessions = new Set<string>();
  let batch: Line[] = [];
  let events = 0;
  let number = 0;
  let last = 0;
  let problem: ArchiveProblem | undefined;
  for await (const text of createInterface({ input: file, crlfDelay: Infinity })) {
    number++;
    if (problem || text.trim() === '') continue;
    let line: Line;
    try {
      line = { number, ...fromExported(text) };
    } catch (error) {
      problem = { revision: 0, detail: `line ${number} is not an exported event: ${error instanceof Error ? error.message : String(error)}` };
      continue;
    }
    if (line.row[0] <= last) {
      problem = { revision: line.row[0], detail: `line ${number} is out of order (after revision ${last})` };
      continue;
    }
    last = line.row[0];
    sessions.add(line.row[2]);
    events++;
    batch.push(line);
    if (batch.length >= BATCH) {
      problem = await checkBatch(view, batch, compactions);
      batch = [];
    }
  }
  if (!problem && batch.length > 0) problem = await checkBatch(view, batch, compactions);
  const sha256 = digest.digest('hex');
  const recorded = (await compactionsOf(view)).get(sha256);
  if (!problem && !recorded) {
    problem = { revision: 0, detail: `no compaction recorded this file's SHA-256 ${sha256}: lines were added or dropped, or it is not an archive of this log` };
  }
  if (!problem && recorded && recorded.events !== events) {
    problem = { revision: 0, detail: `the file holds ${events} events; the compaction at revision ${recorded.revision} removed ${recorded.events}` };
  }
  return { events, sessions: sessions.size, sha256, ...(recorded && { compaction: recorded.revision }), ...(problem && { problem }) };
}
