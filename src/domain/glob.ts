/**
 * Name globs (`ListVariables`, `WatchVariables`): `*` matches any run of
 * characters (also none), `?` exactly one; every other character stands for
 * itself. Characters are Unicode code points.
 *
 * No backtracking: the pattern splits at its stars into segments; the first
 * must match at the start, the last at the end, and each one between is
 * taken at its leftmost match after the previous one — for `*`-separated
 * segments the leftmost match is always safe, so nothing is ever retried.
 * Successive searches start at disjoint positions, so a match costs at most
 * n·m character comparisons (n = name length ≤ 256, m = pattern length ≤
 * LIMITS.globLength = 1,024): a hard bound of about 262,000. Compare
 * picomatch's regular expressions, which backtrack: `*a*a*a*a*a*a*a*b`
 * against 64 `a`s took 51 s.
 */
import { DomainError } from './errors.js';
import { LIMITS } from './limits.js';

/** Tests a name against a compiled glob. Never throws. */
export type GlobMatcher = (name: string) => boolean;

const matchAll: GlobMatcher = () => true;

/**
 * Compiles a glob; the empty pattern matches every name. Throws
 * `invalid_request` when the pattern is longer than LIMITS.globLength.
 */
export function compileGlob(pattern: string): GlobMatcher {
  if (pattern.length > LIMITS.globLength) {
    throw new DomainError('invalid_request', `pattern is longer than ${LIMITS.globLength} characters`);
  }
  if (pattern === '') return matchAll;
  const segments = pattern.split('*');
  if (segments.length === 1) return exactSegment([...pattern]);
  const first = [...(segments[0] as string)];
  const last = [...(segments[segments.length - 1] as string)];
  const middle = segments.slice(1, -1).filter((s) => s !== '').map((s) => [...s]);
  const minLength = first.length + last.length + middle.reduce((n, s) => n + s.length, 0);
  return (name) => {
    const text = [...name];
    if (text.length < minLength) return false;
    if (!matchesAt(text, 0, first)) return false;
    const end = text.length - last.length;
    if (!matchesAt(text, end, last)) return false;
    let from = first.length;
    for (const segment of middle) {
      const at = find(text, segment, from, end);
      if (at < 0) return false;
      from = at + segment.length;
    }
    return true;
  };
}

/** A pattern without `*`: same length, every character equal or `?`. */
function exactSegment(segment: readonly string[]): GlobMatcher {
  return (name) => {
    const text = [...name];
    return text.length === segment.length && matchesAt(text, 0, segment);
  };
}

function matchesAt(text: readonly string[], at: number, segment: readonly string[]): boolean {
  for (let i = 0; i < segment.length; i++) {
    if (segment[i] !== '?' && segment[i] !== text[at + i]) return false;
  }
  return true;
}

/** Leftmost start of `segment` in text[from, end), or -1. Scans each start position once. */
function find(text: readonly string[], segment: readonly string[], from: number, end: number): number {
  for (let at = from; at + segment.length <= end; at++) {
    if (matchesAt(text, at, segment)) return at;
  }
  return -1;
}
