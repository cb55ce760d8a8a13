/**
 * The package's root folder (the one holding package.json), found by walking
 * up from this file, so migrations/ and proto/ resolve the same from src/,
 * dist/ or an installed copy in node_modules.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('varledger: package.json not found above the installed code');
    dir = parent;
  }
  return dir;
}

export const PACKAGE_ROOT = findRoot();
