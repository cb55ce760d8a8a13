// Regenerates src/gen from proto/ with buf and ts-proto, both installed from
// the npm registry, so a fresh clone needs nothing beyond `npm install`.
// Skips the work when the generated tree is newer than every .proto file.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const newest = (dir, ext) => {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(ext)) {
      latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return latest;
};

const stamp = 'src/gen/.stamp';
const inputs = Math.max(newest('proto', '.proto'), statSync('buf.gen.yaml').mtimeMs);
if (existsSync(stamp) && statSync(stamp).mtimeMs >= inputs) process.exit(0);

rmSync('src/gen', { recursive: true, force: true });
execFileSync(join('node_modules', '.bin', 'buf'), ['generate'], { stdio: 'inherit' });
execFileSync('touch', [stamp]);
