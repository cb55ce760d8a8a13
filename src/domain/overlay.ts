/**
 * Overlays: a session seen through a layer of changes that leaves the base
 * untouched. Deciding a batch (or several commits decided one after another
 * before any is written) applies each step's events to an overlay, so the
 * cost is the size of the changes, never the size of the session.
 */
import type { MutableSession } from './evolve.js';
import type { SessionState } from './state.js';

const DELETED: unique symbol = Symbol('deleted');

/** A map reading through to `base` except where it was set or deleted. Values must not be undefined. */
export class OverlayMap<K, V> {
  private readonly changed = new Map<K, V | typeof DELETED>();

  constructor(private readonly base: ReadonlyMap<K, V>) {}

  get(key: K): V | undefined {
    const own = this.changed.get(key);
    if (own === DELETED) return undefined;
    return own !== undefined ? own : this.base.get(key);
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  set(key: K, value: V): this {
    this.changed.set(key, value);
    return this;
  }

  delete(key: K): boolean {
    const had = this.has(key);
    this.changed.set(key, DELETED);
    return had;
  }

  clear(): void {
    for (const key of this.keys()) this.changed.set(key, DELETED);
  }

  get size(): number {
    let size = this.base.size;
    for (const [key, value] of this.changed) {
      const inBase = this.base.has(key);
      if (value === DELETED && inBase) size--;
      else if (value !== DELETED && !inBase) size++;
    }
    return size;
  }

  *entries(): Generator<[K, V]> {
    for (const entry of this.base) if (!this.changed.has(entry[0])) yield entry;
    for (const [key, value] of this.changed) if (value !== DELETED) yield [key, value];
  }

  *keys(): Generator<K> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): Generator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): Generator<[K, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: K, map: this) => void): void {
    for (const [key, value] of this.entries()) fn(value, key, this);
  }

  get [Symbol.toStringTag](): string {
    return 'OverlayMap';
  }
}

/** A writable view of a session whose changes never reach `base`. O(1) to make. */
export function overlaySession(base: SessionState): MutableSession {
  return {
    ...base,
    metadata: base.metadata,
    variables: new OverlayMap(base.variables),
    names: new OverlayMap(base.names),
  } as unknown as MutableSession;
}
