/** Which changes a watcher wants: by identifiers (names or ids), a name glob, or all. */
import picomatch from 'picomatch';
import type { Change } from './changes.js';

export interface WatchSelector {
  readonly identifiers: readonly string[];
  readonly pattern: string;
}

/** Session-level changes (closed, expired) match every watcher of the session. */
export function makeFilter({ identifiers, pattern }: WatchSelector): (change: Change) => boolean {
  let matchesVariable: (id: string, name: string) => boolean;
  if (identifiers.length > 0) {
    const wanted = new Set(identifiers);
    matchesVariable = (id, name) => wanted.has(id) || wanted.has(name);
  } else if (pattern !== '') {
    const glob = picomatch(pattern, { bash: true, dot: true });
    matchesVariable = (_id, name) => glob(name);
  } else {
    matchesVariable = () => true;
  }
  return (change) => (change.variable ? matchesVariable(change.variable.id, change.variable.name) : true);
}
