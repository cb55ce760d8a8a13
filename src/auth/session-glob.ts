/**
 * Session globs of the auth file: `*` matches any run of characters, `?`
 * exactly one, everything else itself. No character classes, no escapes:
 * session ids are plain text, and globs come from the operator.
 *
 * Matching splits the glob at its stars and places each piece at its
 * leftmost fit: leftmost is always safe for the pieces between stars, so no
 * backtracking happens and the cost is at most (text length × longest
 * piece) — linear in the session id for a given glob, whatever a caller
 * sends. (A shared linear glob module may replace this one.)
 */

/** True if `text` matches `glob` as a whole. */
export function globMatches(glob: string, text: string): boolean {
  const pieces = glob.split('*');
  if (pieces.length === 1) return text.length === glob.length && fitsAt(glob, text, 0);
  const first = pieces[0] ?? '';
  const last = pieces[pieces.length - 1] ?? '';
  if (text.length < first.length + last.length) return false;
  if (!fitsAt(first, text, 0) || !fitsAt(last, text, text.length - last.length)) return false;
  let position = first.length;
  const end = text.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i] ?? '';
    const at = findFrom(piece, text, position, end);
    if (at < 0) return false;
    position = at + piece.length;
  }
  return true;
}

/** Does `piece` (with `?`) match `text` at `start`? */
function fitsAt(piece: string, text: string, start: number): boolean {
  for (let i = 0; i < piece.length; i++) {
    const p = piece[i];
    if (p !== '?' && p !== text[start + i]) return false;
  }
  return true;
}

/** Leftmost start ≥ `from` where `piece` fits entirely before `end`, or -1. */
function findFrom(piece: string, text: string, from: number, end: number): number {
  for (let start = from; start + piece.length <= end; start++) if (fitsAt(piece, text, start)) return start;
  return -1;
}
