/**
 * Constraint patterns (`constraints.pattern`), matched by re2js: RE2
 * semantics, so matching time is linear in the text for a given pattern and
 * no pattern can stall the server (JavaScript's backtracking RegExp takes
 * seconds on `(a+)+$` against 30 characters). The price is RE2's syntax:
 * backreferences and lookaround cannot run in linear time, so such patterns
 * are refused at registration. JavaScript spellings RE2 lacks (`\u00e9`,
 * `(?<name>…)`) are translated first. A pattern must match the whole value.
 *
 * re2js is pure code (no I/O), so it may live in the domain; this module is
 * the only place that knows about it.
 */
import { RE2JS } from 're2js';
import { quote } from './describe.js';
import { DomainError } from './errors.js';
import { LIMITS } from './limits.js';

export interface Pattern {
  /** True when the whole of `text` matches. Linear in `text`. */
  matches(text: string): boolean;
}

/** Compiled patterns, keyed by source: registration compiles, writes reuse. */
const compiled = new Map<string, Pattern>();
const MAX_CACHED = 10_000;

/**
 * Compiles a constraint pattern. Throws `invalid_value` with a clear message
 * for one that is too long or that RE2 cannot run (bad syntax,
 * backreferences, lookaround).
 */
export function compilePattern(source: string): Pattern {
  const cached = compiled.get(source);
  if (cached) return cached;
  if (source.length > LIMITS.patternLength) {
    throw new DomainError('invalid_value', `Constraint pattern is longer than ${LIMITS.patternLength}`);
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(RE2JS.translateRegExp(source));
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^error parsing regexp: /, '') : String(error);
    throw new DomainError(
      'invalid_value',
      `Constraint pattern is not a valid regular expression: ${quote(source)} (${reason}); patterns are matched by RE2 in linear time, without backreferences or lookaround`,
    );
  }
  const pattern: Pattern = { matches: (text) => re.testExact(text) };
  if (compiled.size >= MAX_CACHED) compiled.clear();
  compiled.set(source, pattern);
  return pattern;
}
