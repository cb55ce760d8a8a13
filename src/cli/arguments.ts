/** Parsers for flag values; commander reports their errors as usage errors (exit 2). */
import { InvalidArgumentError } from 'commander';
import { EVENT_KINDS, type EventKind } from '../domain/index.js';
import { parseDigest, type Digest } from '../store/hash-chain.js';

/** A non-negative integer (revisions, limits). */
export function nonNegativeInteger(raw: string): number {
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(raw);
}

export function positiveInteger(raw: string): number {
  const n = nonNegativeInteger(raw);
  if (n === 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/**
 * A point in time: epoch milliseconds (all digits) or ISO-8601 (a date, or
 * date and time; without a zone a date-time is local, as `Date` reads it).
 */
export function timestamp(raw: string): number {
  if (/^\d+$/.test(raw)) return Number(raw);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('expected an ISO-8601 time (2026-01-31T12:00:00Z) or epoch milliseconds');
  return ms;
}

/** `variable_set` or its short form `set`; repeatable and comma-separated, collected. */
export function eventKinds(raw: string, previous: EventKind[] = []): EventKind[] {
  const kinds = raw.split(',').map((part) => {
    const name = part.trim();
    const kind = EVENT_KINDS.find((k) => k === name || k.replace(/^(session|variable)_/, '') === name);
    if (!kind) throw new InvalidArgumentError(`unknown kind ${JSON.stringify(name)}; one of ${EVENT_KINDS.join(', ')}`);
    return kind;
  });
  return [...previous, ...kinds];
}

export function digest(raw: string): Digest {
  try {
    return parseDigest(raw);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A length of time such as `30d`, `12h`, `15m`, `90s` or `500ms`, in milliseconds. */
export function duration(raw: string): number {
  const match = /^(\d+)(ms|s|m|h|d|w)$/.exec(raw.trim());
  const ms = match ? Number(match[1]) * (DURATION_UNITS[match[2] as string] as number) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new InvalidArgumentError('expected a positive duration such as 30d, 12h, 15m, 90s or 500ms');
  return ms;
}

/**
 * A point in time given either way: ISO-8601 / epoch milliseconds (see
 * `timestamp`), or a duration meaning that long before now (`30d`).
 */
export type TimeOrAge = { readonly at: number } | { readonly ago: number };

export function timeOrAge(raw: string): TimeOrAge {
  if (/^\d+(ms|s|m|h|d|w)$/.test(raw.trim())) return { ago: duration(raw) };
  try {
    return { at: timestamp(raw) };
  } catch {
    throw new InvalidArgumentError('expected an ISO-8601 time (2026-01-31T12:00:00Z), epoch milliseconds or a duration such as 30d');
  }
}
