/**
 * Names of the archive files `serve --retain-ended` writes: the run's time,
 * then the step's sequence number, zero-padded, so that a directory listing
 * sorted by name (`ls`, a backup tool, `sort`) is the order they were
 * written: `…-000010.jsonl` after `…-000002.jsonl`. A run through a backlog
 * writes one archive per step, all with the run's time.
 *
 * Names written before (no sequence for the first step, `-2`, `-3` … after
 * it, which listed `-10` before `-2` and the first after all the others) are
 * still understood: a step never takes a sequence number an old name of the
 * same time holds, and `sortArchiveNames` orders old and new names alike.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const PREFIX = 'varledger-archive-';
const SUFFIX = '.jsonl';
/** Sorts by name up to 999,999 steps of one run (a run of 500-event steps: half a billion events); numbers beyond still sort right in sortArchiveNames. */
const SEQUENCE_DIGITS = 6;
/** `2026-01-31T09-00-00-000Z`: an ISO time with `:` and `.` made file-name safe; same width for every year 0000–9999, so it sorts as text. */
const STAMP = '\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}-\\d{3}Z';
const NAME = new RegExp(`^${PREFIX}(${STAMP})(?:-(\\d{1,${SEQUENCE_DIGITS + 3}}))?\\${SUFFIX}$`);

const stampOf = (now: number): string => new Date(now).toISOString().replace(/[:.]/g, '-');

/** `varledger-archive-2026-01-31T09-00-00-000Z-000001.jsonl`. */
export function archiveName(now: number, sequence: number): string {
  return `${PREFIX}${stampOf(now)}-${String(sequence).padStart(SEQUENCE_DIGITS, '0')}${SUFFIX}`;
}

/** The name an archive of this time and sequence had before names were zero-padded. */
function oldArchiveName(now: number, sequence: number): string {
  return `${PREFIX}${stampOf(now)}${sequence > 1 ? `-${sequence}` : ''}${SUFFIX}`;
}

/** An archive file's time stamp and sequence number (1 for an old name without one); undefined for any other file. */
export function parseArchiveName(name: string): { stamp: string; sequence: number } | undefined {
  const match = NAME.exec(name);
  if (!match) return undefined;
  return { stamp: match[1] as string, sequence: match[2] === undefined ? 1 : Number(match[2]) };
}

/** Archive file names in the order they were written, old and new names alike; other names are left out. */
export function sortArchiveNames(names: readonly string[]): string[] {
  const parsed = names.flatMap((name) => {
    const parts = parseArchiveName(name);
    return parts ? [{ name, ...parts }] : [];
  });
  parsed.sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : a.sequence - b.sequence));
  return parsed.map((p) => p.name);
}

/**
 * The path of the next archive of a run at `now` in `dir`: the first
 * sequence number from `from` on that no file holds, under its new or its
 * old name. Returns the number too, so a run's next step starts after it
 * (rather than testing every taken name again).
 */
export function nextArchivePath(dir: string, now: number, from = 1): { path: string; sequence: number } {
  for (let sequence = from; ; sequence++) {
    const path = join(dir, archiveName(now, sequence));
    if (!existsSync(path) && !existsSync(join(dir, oldArchiveName(now, sequence)))) return { path, sequence };
  }
}
