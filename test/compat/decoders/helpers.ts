/** Shared helpers for the compat decoder tests: fixture loading from the SOURCE tree. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { NestedNumbers } from '../../../src/compat/pickle-decoder.js';

/** tsc does not copy .bin files, so walk up from the compiled file to package.json and use the source folder. */
function findFixtures(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the test');
    dir = parent;
  }
  return join(dir, 'test', 'compat', 'decoders', 'fixtures');
}

export const FIXTURES = findFixtures();

export function bin(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, `${name}.bin`)));
}

/** Expected values: generate.py spells non-JSON floats as strings. */
export function expected(name: string): NestedNumbers[] {
  const special: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8'), (_k, v: unknown) =>
    typeof v === 'string' && v in special ? special[v] : v,
  ) as NestedNumbers[];
}

export function bytes(...parts: (number | readonly number[] | Uint8Array)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else out.push(...p);
  }
  return Uint8Array.from(out);
}

/** Big-endian IEEE 754 double, as BINFLOAT and NEW_FLOAT_EXT carry it. */
export function f64be(x: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, x, false);
  return [...b];
}

export function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}
