/**
 * The sessions list's filter: a glob over session ids (`*` any run of
 * characters, `?` exactly one, everything else itself), matched in linear
 * time by RE2 — a backtracking matcher can be made to take seconds by a
 * pattern like `*a*a*a*a*a*b`, and one request must not stall the server.
 */
import { RE2JS } from 're2js';

export function sessionGlob(pattern: string): (id: string) => boolean {
  if (pattern === '') return () => true;
  const regex = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : RE2JS.quote(c))).join('');
  const compiled = RE2JS.compile(regex, RE2JS.DOTALL);
  return (id) => compiled.matcher(id).matches();
}
