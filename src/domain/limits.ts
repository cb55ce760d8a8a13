/** Size limits that keep one request from bloating the log or the projection. */
import { DomainError } from './errors.js';
import type { Metadata } from './types.js';

export const LIMITS = {
  metadataEntries: 256,
  metadataBytes: 64 * 1024,
  descriptionLength: 16 * 1024,
  commitOperations: 10_000,
  ttlSecondsMax: 366 * 24 * 3600,
  /** Dimensions of a tensor: as deep as every encoder (JSON, pickle, ETF) can nest. */
  tensorRank: 32,
  /**
   * Numbers plus nested lists of a tensor written out as nested lists (what
   * the Snakepit encodings send): a [n, 0] shape counts n lists although it
   * holds no number. Bounds every encoder's work and memory.
   */
  tensorSize: 1024 * 1024,
  /** Characters in a constraint pattern (a regular expression). */
  patternLength: 1024,
  /** Characters in a glob (`ListVariables`, `WatchVariables`). */
  globLength: 1024,
} as const;

/** UTF-8 size without Buffer or TextEncoder, so the domain stays runtime-free. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** Whether metadata holds any entry, without listing its keys. */
export function hasEntries(metadata: Metadata): boolean {
  for (const _ in metadata) return true;
  return false;
}

export function checkMetadata(metadata: Metadata, what = 'metadata'): void {
  const keys = Object.keys(metadata);
  if (keys.length > LIMITS.metadataEntries) {
    throw new DomainError('too_large', `${what} has ${keys.length} entries; the limit is ${LIMITS.metadataEntries}`);
  }
  let bytes = 0;
  for (const key of keys) bytes += utf8Length(key) + utf8Length(metadata[key] ?? '');
  if (bytes > LIMITS.metadataBytes) {
    throw new DomainError('too_large', `${what} is ${bytes} bytes; the limit is ${LIMITS.metadataBytes}`);
  }
}
