/** Which changes a watcher wants: by identifiers (names or ids), a name glob, or all. */
import { compileGlob } from '../domain/index.js';
import type { Change } from './changes.js';

export interface WatchSelector {
  readonly identifiers: readonly string[];
  readonly pattern: string;
}

/** Variables whose glob result a watcher remembers before starting afresh. */
const MAX_REMEMBERED = 100_000;

/**
 * Session-level changes (closed, expired) match every watcher of the
 * session. Throws `invalid_request` for a glob over the length limit, so a
 * bad pattern fails the subscription, not a writer.
 *
 * Filters run inside every writer's commit, so a glob's result is kept per
 * variable id (a variable's name never changes): a writer pays one glob
 * match per watcher for a variable's first change, and a map lookup after.
 */
export function makeFilter({ identifiers, pattern }: WatchSelector): (change: Change) => boolean {
  let matchesVariable: (id: string, name: string) => boolean;
  if (identifiers.length > 0) {
    const wanted = new Set(identifiers);
    matchesVariable = (id, name) => wanted.has(id) || wanted.has(name);
  } else if (pattern !== '') {
    const glob = compileGlob(pattern);
    const remembered = new Map<string, boolean>();
    matchesVariable = (id, name) => {
      let result = remembered.get(id);
      if (result === undefined) {
        result = glob(name);
        if (remembered.size >= MAX_REMEMBERED) remembered.clear();
        remembered.set(id, result);
      }
      return result;
    };
  } else {
    matchesVariable = () => true;
  }
  return (change) => (change.variable ? matchesVariable(change.variable.id, change.variable.name) : true);
}
